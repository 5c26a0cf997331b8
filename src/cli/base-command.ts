/** What every oclif command shares: the --profile flag, the daemon connection, output and one-line errors. */
import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import { ControlClient } from '../control/client.ts';
import { DEFAULT_PROFILE, resolveProfilePaths, type ProfilePaths } from '../control/paths.ts';
import { UsageError } from './errors.ts';
import type { HumanText } from './output.ts';
import { reportFailure } from './report.ts';
import { writeHuman, writeJson } from './terminal.ts';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;

/**
 * What every `chat` command shares: the profile flag, the connection to this profile's daemon, and
 * the rule that failures are one line on stderr with the contract's exit code.
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    profile: Flags.string({
      char: 'p',
      env: 'CHAT_PROFILE',
      description: 'Profile to use (its own daemon, history and downloads). Default: "default".',
      helpGroup: 'GLOBAL',
    }),
  };

  private profileName: string | undefined;
  private openClients: ControlClient[] = [];

  /** Paths of the selected profile; CHAT_HOME defaults to oclif's data directory. */
  protected profilePaths(profile: string | undefined): ProfilePaths {
    this.profileName = profile;
    return resolveProfilePaths({ home: process.env.CHAT_HOME || this.config.dataDir, profile });
  }

  /** Connects to this profile's daemon; fails with the "not running" hint when there is none. */
  protected async connectDaemon(paths: ProfilePaths): Promise<ControlClient> {
    const client = await ControlClient.connect(paths);
    this.openClients.push(client);
    return client;
  }

  /**
   * Prints lines for a person on stdout, unless --json is on (then the returned data is the
   * output). The only print path commands have: it takes HumanText, whose values are escaped.
   */
  protected say(text: HumanText): void {
    if (!this.jsonEnabled()) writeHuman('stdout', text);
  }

  /** --json output printed by the command itself (oclif prints what run() returns otherwise). */
  protected sayJson(value: unknown): void {
    writeJson(value);
  }

  /** What oclif prints for --json (run()'s result, an error): through writeJson, escaped as ours. */
  override logJson(json: unknown): void {
    writeJson(json);
  }

  /** Anything wrong with flags or arguments is a usage error: exit 2, one line. */
  protected override async parse<F extends Record<string, unknown>, B extends Record<string, unknown>, A extends Record<string, unknown>>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    try {
      return await super.parse(options, argv);
    } catch (error) {
      if (error instanceof Errors.ExitError) throw error;
      const missing = missingArguments(error);
      if (missing) throw new UsageError(missingArgumentsMessage(missing, this.id ?? '', this.ctor.args ?? {}, this.ctor.strict));
      throw new UsageError(oneLine((error as Error).message));
    }
  }

  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error;
    const exitCode = reportFailure(error, {
      profile: this.profileName ?? process.env.CHAT_PROFILE ?? DEFAULT_PROFILE,
      json: this.jsonRequested(),
      commandId: this.id?.replaceAll(':', ' ') ?? '',
    });
    this.exit(exitCode);
    return undefined;
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    for (const client of this.openClients) client.close();
    return super.finally(error);
  }

  /** --json was asked for, whether or not the command uses oclif's built-in JSON flag. */
  protected jsonRequested(): boolean {
    const end = this.argv.indexOf('--');
    return (end === -1 ? this.argv : this.argv.slice(0, end)).includes('--json');
  }
}

interface ArgumentSpec {
  name: string;
  description?: string;
  required?: boolean;
}

/**
 * The arguments an oclif RequiredArgsError names (oclif does not export the class; its `args`
 * holds the argument definitions, where UnexpectedArgsError's holds the typed strings).
 */
function missingArguments(error: unknown): ArgumentSpec[] | undefined {
  if (!(error instanceof Errors.CLIError) || !('args' in error) || !Array.isArray(error.args) || error.args.length === 0) return undefined;
  const specs = error.args as unknown[];
  return specs.every((spec) => typeof spec === 'object' && spec !== null && typeof (spec as ArgumentSpec).name === 'string') ? (specs as ArgumentSpec[]) : undefined;
}

/** `missing FILE (the file to send); usage: chat transfer FILE`, not oclif's "Missing 1 required arg:: file". */
export function missingArgumentsMessage(missing: ArgumentSpec[], commandId: string, args: Record<string, Partial<ArgumentSpec>>, strict = true): string {
  const what = missing.map((arg) => `${arg.name.toUpperCase()}${arg.description ? ` (${lowerFirst(arg.description)})` : ''}`).join(', ');
  const specs = Object.entries(args).map(([name, arg]) => ({ name: arg.name ?? name, required: arg.required === true }));
  const words = specs.map((arg, index) => {
    const name = `${arg.name.toUpperCase()}${!strict && index === specs.length - 1 ? '...' : ''}`;
    return arg.required ? name : `[${name}]`;
  });
  return `missing ${what}; usage: ${['chat', commandId.replaceAll(':', ' '), ...words].join(' ')}`;
}

/** "The peer name" → "the peer name" inside a sentence; "PORT, HOST:PORT" stays as it is. */
function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text;
}

/** oclif's parse messages span lines ("Parsing --port \n\tExpected ...\nSee more help with --help"). */
function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('See more help'))
    .join(': ')
    .replace(/^Parsing (--\S+): /, '$1: ');
}
