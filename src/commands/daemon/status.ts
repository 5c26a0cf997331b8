import { DaemonNotRunningError } from '../../control/client.ts';
import type { StatusResult } from '../../control/protocol.ts';
import { BaseCommand } from '../../cli/base-command.ts';
import { ExitCode } from '../../cli/errors.ts';
import { formatStatus, notRunningLine } from '../../cli/status-view.ts';

type StatusOutput = ({ running: true } & StatusResult) | { running: false; profile: string };

export default class DaemonStatus extends BaseCommand {
  static override summary = 'Show whether the daemon runs, its port, and who it is connected to.';
  static override description = 'Exits 0 when the daemon runs and 3 when it does not.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];
  static override enableJsonFlag = true;

  async run(): Promise<StatusOutput> {
    const { flags } = await this.parse(DaemonStatus);
    const paths = this.profilePaths(flags.profile);
    let status: StatusResult;
    try {
      const client = await this.connectDaemon(paths);
      status = await client.request('status', {});
    } catch (error) {
      if (!(error instanceof DaemonNotRunningError)) throw error;
      if (this.jsonEnabled()) this.sayJson({ running: false, profile: paths.profile });
      else this.say(notRunningLine(paths.profile));
      this.exit(ExitCode.notRunning);
    }
    this.say(formatStatus(status));
    return { running: true, ...status };
  }
}
