import { Flags } from '@oclif/core';
import path from 'node:path';
import { MAX_PORT, type AcceptMode, type StatusResult } from '../../control/protocol.ts';
import {
  ACCEPT_DESCRIPTION, checkDisplayName, DaemonOptionError, NO_RECONNECT_DESCRIPTION, parseAcceptMode, parseMaxFileSize, parsePingInterval, reconnectEnabled,
} from '../../control/daemon-options.ts';
import { DEFAULT_MAX_FILE_SIZE, formatByteSize } from '../../text/sizes.ts';
import { DEFAULT_PROFILE } from '../../control/paths.ts';
import { ensureDaemon, type DaemonStartOptions } from '../../control/spawn.ts';
import { BaseCommand } from '../../cli/base-command.ts';
import { UsageError } from '../../cli/errors.ts';
import { human, paint } from '../../cli/output.ts';
import { differingOptions, OptionsDifferError, type StartFlag } from '../../cli/start-options.ts';
import { writeHuman } from '../../cli/terminal.ts';
import { listeningAddress } from '../../cli/status-view.ts';
import { isWildcardHost } from '../../text/host-port.ts';

export default class DaemonStart extends BaseCommand {
  static override summary = 'Start this profile\'s chat daemon in the background.';
  static override description =
    'Starts chatd, which listens for your peer on a TCP port, and returns once it is ready. ' +
    'Prints the port on standard output. If the daemon already runs, prints the same and exits 0; if it runs with ' +
    'other options than the flags given (--port, --host, --name, …), says which and exits 1: stop it first. ' +
    'A daemon that starts again redials the last peer it was connected to, unless the last connection ' +
    'was ended by "chat disconnect" (or --no-reconnect is given).';
  static override examples = [
    { description: 'Start on any free port; prints the port', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Start as "alice" on port 7001', command: '<%= config.bin %> <%= command.id %> --profile alice --port 7001' },
    { description: 'Accept peers from other machines', command: '<%= config.bin %> <%= command.id %> --host 0.0.0.0 --port 7001' },
    { description: 'Script it', command: 'port=$(<%= config.bin %> <%= command.id %>)' },
    { description: 'Start without redialling the last peer', command: '<%= config.bin %> <%= command.id %> --no-reconnect' },
  ];
  static override enableJsonFlag = true;
  static override flags = {
    port: Flags.integer({ description: 'TCP port to listen on for the peer (0 = any free port).', default: 0, min: 0, max: MAX_PORT }),
    host: Flags.string({ description: 'Address to listen on (0.0.0.0 to accept peers from other machines).', default: '127.0.0.1' }),
    name: Flags.string({ description: 'Your name as the peer sees it. Default: the profile name (your user name for "default").' }),
    downloads: Flags.string({ description: 'Where received files are stored (created owner-only). Default: PROFILE_DIR/downloads.' }),
    'max-file-size': Flags.string({
      description: `Decline offered files larger than this (bytes, or 500M, 2G, 1T). Default: ${formatByteSize(DEFAULT_MAX_FILE_SIZE)}.`,
    }),
    'ping-interval': Flags.string({ description: 'Seconds between pings of a quiet peer (dropped after 4 silent intervals).', hidden: true }),
    'no-reconnect': Flags.boolean({ description: NO_RECONNECT_DESCRIPTION }),
    accept: Flags.string({ description: `${ACCEPT_DESCRIPTION} Default: invited.` }),
  };

  async run(): Promise<StatusResult & { alreadyRunning: boolean }> {
    const { flags, metadata } = await this.parse(DaemonStart);
    const { maxFileSize, pingInterval, accept } = checkedOptions(flags);
    const paths = this.profilePaths(flags.profile);
    const options: DaemonStartOptions = {
      port: flags.port,
      host: flags.host,
      name: flags.name,
      downloads: flags.downloads === undefined ? undefined : path.resolve(flags.downloads),
      maxFileSize,
      pingInterval,
      reconnect: reconnectEnabled(flags['no-reconnect']),
      ...(accept === undefined ? {} : { accept }),
    };
    const { status, alreadyRunning } = await ensureDaemon(paths, options);
    if (alreadyRunning) {
      const given = new Set(START_FLAGS.filter((flag) => flags[flag] !== undefined && !metadata.flags[flag]?.setFromDefault));
      const differences = differingOptions(options, given, status);
      if (differences.length > 0) throw new OptionsDifferError(paths.profile, differences);
    }
    this.say(human`${status.port}`);
    if (!this.jsonEnabled()) {
      const stop = status.profile === DEFAULT_PROFILE ? 'chat daemon stop' : `chat daemon stop --profile ${status.profile}`;
      writeHuman(
        'stderr',
        human`chatd ${alreadyRunning ? 'already running' : 'started'}: "${paint('name', status.name)}" listening on ${listeningAddress(status)} (pid ${status.pid}, profile ${status.profile}); stop it with: ${stop}`,
      );
      if (isWildcardHost(status.host)) writeHuman('stderr', human`a peer on another machine dials: ${status.addresses.join(', ')}`);
    }
    return { ...status, alreadyRunning };
  }
}

const START_FLAGS: StartFlag[] = ['port', 'host', 'name', 'downloads', 'max-file-size', 'ping-interval', 'no-reconnect', 'accept'];

/** The same checks and wording as chatd's own (src/control/daemon-options.ts), as usage errors (exit 2). */
function checkedOptions(
  flags: { name?: string; 'max-file-size'?: string; 'ping-interval'?: string; accept?: string },
): { maxFileSize?: number; pingInterval?: number; accept?: AcceptMode } {
  try {
    if (flags.name !== undefined) checkDisplayName(flags.name);
    return {
      accept: flags.accept === undefined ? undefined : parseAcceptMode(flags.accept),
      maxFileSize: flags['max-file-size'] === undefined ? undefined : parseMaxFileSize(flags['max-file-size']),
      pingInterval: flags['ping-interval'] === undefined ? undefined : parsePingInterval(flags['ping-interval']),
    };
  } catch (error) {
    if (error instanceof DaemonOptionError) throw new UsageError(error.message);
    throw error;
  }
}
