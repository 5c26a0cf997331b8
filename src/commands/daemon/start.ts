import { Flags } from '@oclif/core';
import path from 'node:path';
import { displayNameProblem, type StatusResult } from '../../control/protocol.ts';
import { DEFAULT_MAX_FILE_SIZE, formatByteSize, parseByteSize } from '../../text/sizes.ts';
import { ensureDaemon } from '../../control/spawn.ts';
import { BaseCommand } from '../../cli/base-command.ts';
import { UsageError } from '../../cli/errors.ts';
import { human } from '../../cli/output.ts';
import { writeHuman } from '../../cli/terminal.ts';

export default class DaemonStart extends BaseCommand {
  static override summary = 'Start this profile\'s chat daemon in the background.';
  static override description =
    'Starts chatd, which listens for your peer on a TCP port, and returns once it is ready. ' +
    'Prints the port on standard output. If the daemon already runs, prints the same and exits 0.';
  static override examples = [
    { description: 'Start on any free port; prints the port', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Start as "alice" on port 7001', command: '<%= config.bin %> <%= command.id %> --profile alice --port 7001' },
    { description: 'Accept peers from other machines', command: '<%= config.bin %> <%= command.id %> --host 0.0.0.0 --port 7001' },
    { description: 'Script it', command: 'port=$(<%= config.bin %> <%= command.id %>)' },
  ];
  static override enableJsonFlag = true;
  static override flags = {
    port: Flags.integer({ description: 'TCP port to listen on for the peer (0 = any free port).', default: 0, min: 0, max: 65535 }),
    host: Flags.string({ description: 'Address to listen on (0.0.0.0 to accept peers from other machines).', default: '127.0.0.1' }),
    name: Flags.string({ description: 'Your name as the peer sees it. Default: the profile name (your user name for "default").' }),
    downloads: Flags.string({ description: 'Where received files are stored (created owner-only). Default: PROFILE_DIR/downloads.' }),
    'max-file-size': Flags.string({
      description: `Decline offered files larger than this (bytes, or 500M, 2G, 1T). Default: ${formatByteSize(DEFAULT_MAX_FILE_SIZE)}.`,
    }),
    'ping-interval': Flags.string({ description: 'Seconds between pings of a quiet peer (dropped after 4 silent intervals).', hidden: true }),
  };

  async run(): Promise<StatusResult & { alreadyRunning: boolean }> {
    const { flags } = await this.parse(DaemonStart);
    if (flags.name !== undefined) {
      const problem = displayNameProblem(flags.name);
      if (problem) throw new UsageError(`invalid --name: ${problem}`);
    }
    const maxFileSize = flags['max-file-size'] === undefined ? undefined : parseByteSize(flags['max-file-size']);
    if (maxFileSize === undefined && flags['max-file-size'] !== undefined) {
      throw new UsageError(`invalid --max-file-size "${flags['max-file-size']}": use bytes or a size such as 500M, 2G`);
    }
    const pingInterval = flags['ping-interval'] === undefined ? undefined : Number(flags['ping-interval']);
    if (pingInterval !== undefined && !(pingInterval >= 0.05 && pingInterval <= 3600)) {
      throw new UsageError(`invalid --ping-interval "${flags['ping-interval']}": use seconds from 0.05 to 3600`);
    }
    const paths = this.profilePaths(flags.profile);
    const { status, alreadyRunning } = await ensureDaemon(paths, {
      port: flags.port,
      host: flags.host,
      name: flags.name,
      downloads: flags.downloads === undefined ? undefined : path.resolve(flags.downloads),
      maxFileSize,
      pingInterval,
    });
    this.say(human`${status.port}`);
    if (!this.jsonEnabled()) {
      writeHuman(
        'stderr',
        human`chatd ${alreadyRunning ? 'already running' : 'started'}: "${status.name}" listening on ${status.host}:${status.port} (pid ${status.pid}, profile ${status.profile})`,
      );
    }
    return { ...status, alreadyRunning };
  }
}
