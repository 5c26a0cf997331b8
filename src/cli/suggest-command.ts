/** "did you mean send?": the known command closest to a mistyped one, and the line that says so. */

/**
 * More edits than this and the guess is more likely wrong than helpful: at most 2, and 1 for
 * names of up to 3 letters ("id" is not what "ab" meant).
 */
const MAX_SUGGESTION_DISTANCE = 2;
const allowedDistance = (candidate: string) => Math.min(MAX_SUGGESTION_DISTANCE, Math.ceil(candidate.length / 3));

/** What a mistyped command line most likely meant: the words taken as the command, and the nearest command. */
export interface Suggestion {
  /** The typed words compared with the suggestion (oclif passes every word up to the first flag). */
  typed: string;
  nearest?: string;
  /** The typed words start with this topic, and no command of it is near the rest. */
  topic?: string;
}

/**
 * The command id (words joined by spaces) nearest to the typed words by edit distance, each id
 * compared with as many typed words as it has: commands first, then topics, so `daemon stat`
 * suggests a `daemon` command rather than the topic alone. Nothing within MAX_SUGGESTION_DISTANCE: no suggestion.
 * `sned hello` → `send`, `deamon status` → `daemon status`, `deamon` → `daemon`.
 */
export function suggestCommand(typed: string, commandIds: readonly string[]): Suggestion {
  const words = typed.trim().split(/\s+/);
  const topics = new Set<string>();
  for (const id of commandIds) {
    const idWords = id.split(' ');
    for (let count = 1; count < idWords.length; count++) topics.add(idWords.slice(0, count).join(' '));
  }
  const commands = [...commandIds].sort();
  for (const candidates of [commands, [...topics].sort()]) {
    let best: { id: string; words: number; distance: number } | undefined;
    for (const candidate of candidates) {
      const count = candidate.split(' ').length;
      if (count > words.length) continue;
      const distance = editDistance(words.slice(0, count).join(' '), candidate);
      if (distance <= allowedDistance(candidate) && (!best || distance < best.distance || (distance === best.distance && count > best.words))) {
        best = { id: candidate, words: count, distance };
      }
    }
    if (!best) continue;
    // `daemon xyz`: the topic is right, the command under it is not.
    if (candidates !== commands && best.distance === 0) return { typed: words.slice(0, best.words + 1).join(' '), topic: best.id };
    return { typed: words.slice(0, best.words).join(' '), nearest: best.id };
  }
  return { typed: words[0] ?? '' };
}

/** Levenshtein distance, with a swap of two neighbours counting as one edit ("sned" is one from "send"). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = value;
    }
  }
  return rows[a.length]![b.length]!;
}

/** `unknown command "sned"; did you mean "chat send"? (see: chat --help)`, or where to look. */
export function unknownCommandMessage(typed: string, commandIds: readonly string[]): string {
  const suggestion = suggestCommand(typed, commandIds);
  if (suggestion.nearest !== undefined) return `unknown command "${suggestion.typed}"; did you mean "chat ${suggestion.nearest}"? (see: chat --help)`;
  if (suggestion.topic !== undefined) return `unknown command "${suggestion.typed}"; see: chat help ${suggestion.topic}`;
  return `unknown command "${suggestion.typed}"; see: chat --help`;
}
