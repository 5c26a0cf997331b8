/**
 * The commands people run in loops (`chat send`, `chat daemon status`) without loading oclif: it
 * costs more than the rest of the command together. Same flags, output and exit codes as the oclif
 * commands, which share this module's pieces; anything unusual (help, an unknown flag, a parse
 * error) returns false and the full oclif CLI handles it, so its messages stay the only ones.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ControlClient, DaemonNotRunningError, SEND_TIMEOUT_MS } from '../control/client.ts';
import { DEFAULT_PROFILE, defaultChatHome, resolveProfilePaths, type ProfilePaths } from '../control/paths.ts';
import { ExitCode } from './errors.ts';
import { composeMessage } from './message-input.ts';
import { human } from './output.ts';
import { reportFailure } from './report.ts';
import { formatStatus, notRunningLine } from './status-view.ts';
import { writeHuman, writeJson as printJson } from './terminal.ts';

interface FastCommand {
  id: string;
  /** How many leading words name the command. */
  words: number;
  positionals: boolean;
  run(paths: ProfilePaths, positionals: string[], json: boolean): Promise<number>;
}

const COMMANDS: FastCommand[] = [
  {
    id: 'send',
    words: 1,
    positionals: true,
    async run(paths, positionals, json) {
      const text = await composeMessage(positionals);
      const client = await ControlClient.connect(paths);
      try {
        const result = await client.request('send', { text }, SEND_TIMEOUT_MS);
        if (json) printJson(result);
        else writeHuman('stdout', human`delivered to ${result.to}`);
        return ExitCode.ok;
      } finally {
        client.close();
      }
    },
  },
  {
    id: 'daemon status',
    words: 2,
    positionals: false,
    async run(paths, _positionals, json) {
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

const FLAGS: ParseArgsConfig['options'] = {
  profile: { type: 'string', short: 'p' },
  json: { type: 'boolean' },
};

/** Runs argv if it is one of the fast commands; returns false to hand it to oclif. */
export async function runFastPath(argv: string[]): Promise<boolean> {
  const command = COMMANDS.find((candidate) => candidate.id === argv.slice(0, candidate.words).join(' '));
  if (!command || process.env.CHAT_NO_FAST_PATH) return false;
  let values: { profile?: string | undefined; json?: boolean | undefined };
  let positionals: string[];
  try {
    const parsed = parseArgs({ args: argv.slice(command.words), options: FLAGS, allowPositionals: true, strict: true });
    values = parsed.values as typeof values;
    positionals = parsed.positionals;
  } catch {
    return false;
  }
  if (!command.positionals && positionals.length > 0) return false;
  const profile = values.profile ?? process.env.CHAT_PROFILE;
  const json = values.json === true;
  try {
    const paths = resolveProfilePaths({ home: process.env.CHAT_HOME || defaultChatHome(), profile });
    process.exitCode = await command.run(paths, positionals, json);
  } catch (error) {
    process.exitCode = reportFailure(error, { profile: profile || DEFAULT_PROFILE, json, commandId: command.id });
  }
  return true;
}
