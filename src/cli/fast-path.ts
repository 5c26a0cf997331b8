/**
 * The commands people run in loops or scripts (`chat send`, `chat transfer`, `chat tail
 * --no-follow`, `chat daemon status`) without loading oclif: it costs more than the rest of the
 * command together. Same flags, output and exit codes as the oclif commands, which share this
 * module's pieces; anything unusual (help, an unknown flag, a parse error) returns false and the
 * full oclif CLI handles it, so its messages stay the only ones. What only one command or only a failure needs is imported when it is needed:
 * every module loaded is start-up time (docs/benchmarks.md, row 5).
 */
import type { ParseArgsConfig } from 'node:util';
import { ControlClient, DaemonNotRunningError } from '../control/client.ts';
import { DEFAULT_PROFILE, defaultChatHome, resolveProfilePaths, type ProfilePaths } from '../control/paths.ts';
import type { SendParams } from '../control/protocol.ts';
import { ExitCode } from './errors.ts';
import { parseMessageId, parseTimeoutSeconds } from './send-request.ts';
import { writeHuman, writeJson as printJson } from './terminal.ts';

export { moveGlobalFlags } from './global-flags.ts';

// getBuiltinModule, not an import: an ESM import of a built-in evaluates all its exports (docs/benchmarks.md, row 5).
const { parseArgs } = process.getBuiltinModule('node:util');

type Values = Record<string, string | boolean | undefined>;

interface FastCommand {
  id: string;
  /** How many leading words name the command. */
  words: number;
  /** How many arguments it takes, at least and at most; any other number is oclif's to report. */
  positionals: [min: number, max: number];
  /** Its own flags, besides --profile and --json. */
  options: NonNullable<ParseArgsConfig['options']>;
  /** The flags' values as the command takes them, or undefined for oclif to report what is wrong. */
  check?(values: Values): Values | undefined;
  run(paths: ProfilePaths, positionals: string[], json: boolean, values: Values): Promise<number>;
}

const COMMANDS: FastCommand[] = [
  {
    id: 'send',
    words: 1,
    positionals: [0, Infinity],
    options: { timeout: { type: 'string' }, wait: { type: 'boolean' }, 'no-wait': { type: 'boolean' }, id: { type: 'string' } },
    check(values) {
      const checked = checkWait(values);
      if (!checked) return undefined;
      if (values.id !== undefined) {
        const id = parseMessageId(String(values.id));
        if (id === undefined) return undefined;
        checked.id = id;
      }
      return checked;
    },
    async run(paths, positionals, json, values) {
      const [{ composeMessage }, { requestSend, sendOutcomeLine }] = await Promise.all([import('./message-input.ts'), import('./send-request.ts')]);
      const text = await composeMessage(positionals);
      const client = await ControlClient.connect(paths);
      try {
        const params: SendParams = { text };
        if (values.id !== undefined) params.id = String(values.id);
        if (values.waitMs !== undefined) params.waitMs = Number(values.waitMs);
        const result = await requestSend(client, params);
        if (json) printJson(result);
        else writeHuman('stdout', sendOutcomeLine(result));
        return result.state === 'queued' ? ExitCode.queued : ExitCode.ok;
      } finally {
        client.close();
      }
    },
  },
  {
    id: 'transfer',
    words: 1,
    positionals: [1, 1],
    options: { timeout: { type: 'string' }, wait: { type: 'boolean' }, 'no-wait': { type: 'boolean' } },
    check: checkWait,
    async run(paths, positionals, json, values) {
      const { runTransfer } = await import('./transfer-request.ts');
      const client = await ControlClient.connect(paths);
      try {
        const waitMs = values.waitMs === undefined ? undefined : Number(values.waitMs);
        const { exitCode, result } = await runTransfer(client, positionals[0]!, { waitMs, json });
        if (json && exitCode === ExitCode.ok) printJson(result);
        return exitCode;
      } finally {
        client.close();
      }
    },
  },
  {
    // Only `--no-follow`: following (reconnecting, Ctrl-C) stays oclif's.
    id: 'tail',
    words: 1,
    positionals: [0, 0],
    options: { lines: { type: 'string', short: 'n' }, after: { type: 'string' }, since: { type: 'string' }, follow: { type: 'boolean' }, 'no-follow': { type: 'boolean' } },
    check(values) {
      if (!values['no-follow'] || values.follow) return undefined;
      if (values.after !== undefined && values.since !== undefined) return undefined;
      const checked: Values = {};
      for (const [name, given] of [['lines', values.lines], ['after', values.after ?? values.since]] as const) {
        if (given === undefined) continue;
        // Plain whole numbers only; anything else is oclif's to judge and report.
        if (!/^(0|[1-9]\d{0,14})$/.test(String(given))) return undefined;
        checked[name] = String(given);
      }
      return checked;
    },
    async run(paths, _positionals, json, values) {
      const { printPastEvents } = await import('./past-events.ts');
      // The reader of our output has gone (`| head`): nothing more is read from the history for it.
      let readerGone = false;
      process.stdout.on('error', () => { readerGone = true; });
      const client = await ControlClient.connect(paths);
      try {
        const start = values.after === undefined ? { latest: values.lines === undefined ? 10 : Number(values.lines) } : { after: Number(values.after) };
        await printPastEvents(client, start, json, () => readerGone);
      } finally {
        client.close();
      }
      return ExitCode.ok;
    },
  },
  {
    id: 'daemon status',
    words: 2,
    positionals: [0, 0],
    options: {},
    async run(paths, _positionals, json) {
      const { formatStatus, notRunningLine } = await import('./status-view.ts');
      let client: ControlClient;
      try {
        client = await ControlClient.connect(paths);
      } catch (error) {
        if (!(error instanceof DaemonNotRunningError)) throw error;
        if (json) printJson({ running: false, profile: paths.profile });
        else writeHuman('stdout', notRunningLine(paths.profile));
        return ExitCode.notRunning;
      }
      try {
        const status = await client.request('status', {});
        if (json) printJson({ running: true, ...status });
        else writeHuman('stdout', formatStatus(status));
        return ExitCode.ok;
      } finally {
        client.close();
      }
    },
  },
];

/** `--timeout SECONDS` and `--wait`/`--no-wait` (send, transfer) as `waitMs`, or undefined for oclif to judge. */
function checkWait(values: Values): Values | undefined {
  const checked: Values = {};
  if (values.timeout !== undefined) {
    const ms = parseTimeoutSeconds(String(values.timeout));
    if (ms === undefined) return undefined;
    checked.waitMs = String(ms);
  }
  // Which of the two came last, oclif decides.
  if (values.wait && values['no-wait']) return undefined;
  if (values['no-wait']) checked.waitMs = '0';
  return checked;
}

const FLAGS: NonNullable<ParseArgsConfig['options']> = {
  profile: { type: 'string', short: 'p' },
  json: { type: 'boolean' },
};

/** Runs argv if it is one of the fast commands; returns false to hand it to oclif. */
export async function runFastPath(argv: string[]): Promise<boolean> {
  const command = COMMANDS.find((candidate) => candidate.id === argv.slice(0, candidate.words).join(' '));
  if (!command || process.env.CHAT_NO_FAST_PATH) return false;
  let values: Values;
  let positionals: string[];
  try {
    const parsed = parseArgs({ args: argv.slice(command.words), options: { ...FLAGS, ...command.options }, allowPositionals: true, strict: true, tokens: true });
    // A flag given twice: oclif says what it makes of that.
    const names = parsed.tokens.filter((token) => token.kind === 'option').map((token) => token.name);
    if (new Set(names).size !== names.length) return false;
    values = parsed.values as Values;
    positionals = parsed.positionals;
  } catch {
    return false;
  }
  if (positionals.length < command.positionals[0] || positionals.length > command.positionals[1]) return false;
  const checked = command.check ? command.check(values) : {};
  if (!checked) return false;
  const profile = (values.profile as string | undefined) ?? process.env.CHAT_PROFILE;
  const json = values.json === true;
  try {
    const paths = resolveProfilePaths({ home: process.env.CHAT_HOME || defaultChatHome(), profile });
    process.exitCode = await command.run(paths, positionals, json, checked);
  } catch (error) {
    const { reportFailure } = await import('./report.ts');
    process.exitCode = reportFailure(error, { profile: profile || DEFAULT_PROFILE, json, commandId: command.id });
  }
  return true;
}
