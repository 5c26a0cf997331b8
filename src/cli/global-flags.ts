/** Global flags written before the command (`chat --profile alice send hi`) moved to where oclif parses them. */

/** Flags every command takes, and whether each takes a value. */
const GLOBAL_FLAGS: ReadonlyMap<string, { value: boolean }> = new Map([
  ['--profile', { value: true }],
  ['-p', { value: true }],
  ['--json', { value: false }],
]);

/**
 * oclif reads the first word as the command, so `chat --profile alice id` looked for a command
 * named "--profile". The global flags at the front (up to the first word that is not one) move
 * behind the command's own words, before any `--`, where both oclif and the fast path read them;
 * everything else keeps its order. Anything unknown at the front is left where it is, for oclif to report;
 * global flags and no command are the overview, as `chat` alone.
 */
export function moveGlobalFlags(argv: readonly string[]): string[] {
  const moved: string[] = [];
  let index = 0;
  while (index < argv.length) {
    const word = argv[index]!;
    const name = word.startsWith('--') ? word.split('=', 1)[0]! : word.slice(0, 2);
    const flag = GLOBAL_FLAGS.get(name);
    if (!flag || word === '--') break;
    const attached = word.length > name.length;
    if (!flag.value && attached) break;
    if (flag.value && !attached) {
      // `--profile` as the last word: left for the command to report the missing value.
      if (index + 1 >= argv.length) break;
      moved.push(word, argv[index + 1]!);
      index += 2;
    } else {
      moved.push(word);
      index += 1;
    }
  }
  const rest = argv.slice(index);
  if (moved.length === 0) return [...argv];
  // `chat -p alice` and nothing else: what `chat` alone does (the overview), not "unknown command -p".
  if (rest.length === 0) return [];
  const end = rest.indexOf('--');
  return end === -1 ? [...rest, ...moved] : [...rest.slice(0, end), ...moved, ...rest.slice(end)];
}
