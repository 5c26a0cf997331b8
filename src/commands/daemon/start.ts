import { Flags } from '@oclif/core';
import path from 'node:path';
import { MAX_PORT, type AcceptMode, type StatusResult } from '../../control/protocol.ts';
import {
  ACCEPT_DESCRIPTION, checkDisplayName, DaemonOptionError, NO_RECONNECT_DESCRIPTION, parseAcceptMode, parseMaxFileSize, parsePingInterval, reconnectEnabled,
} from '../../control/daemon-options.ts';
import { DEFAULT_MAX_FILE_SIZE, formatByteSize } from '../../text/sizes.ts';
import { ensureDaemon } from '../../control/spawn.ts';
import { BaseCommand } from '../../cli/base-command.ts';
import { UsageError } from '../../cli/errors.ts';
import { human } from '../../cli/output.ts';
import { writeHuman } from '../../cli/terminal.ts';
import { listeningAddress } from '../../cli/status-view.ts';
import { isWildcardHost } from '../../text/host-port.ts';

export default class DaemonStart extends BaseCommand {
  static override summary = 'Start this profile\'s chat daemon in the background.';
  static override description =
    'Starts chatd, which listens for your peer on a TCP port, and returns once it is ready. ' +
    'Prints the port on standard output. If the daemon already runs, prints the same and exits 0. ' +
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
    const { flags } = await this.parse(DaemonStart);
    const { maxFileSize, pingInterval, accept } = checkedOptions(flags);
    const paths = this.profilePaths(flags.profile);
    const { status, alreadyRunning } = await ensureDaemon(paths, {
      port: flags.port,
      host: flags.host,
      name: flags.name,
      downloads: flags.downloads === undefined ? undefined : path.resolve(flags.downloads),
      maxFileSize,
      pingInterval,
      reconnect: reconnectEnabled(flags['no-reconnect']),
      ...(accept === undefined ? {} : { accept }),
    });
    this.say(human`${status.port}`);
    if (!this.jsonEnabled()) {
      writeHuman(
        'stderr',
        human`chatd ${alreadyRunning ? 'already running' : 'started'}: "${status.name}" listening on ${listeningAddress(status)} (pid ${status.pid}, profile ${status.profile})`,
      );
      if (isWildcardHost(status.host)) writeHuman('stderr', human`a peer on another machine dials: ${status.addresses.join(', ')}`);
    }
    return { ...status, alreadyRunning };
  }
}

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
