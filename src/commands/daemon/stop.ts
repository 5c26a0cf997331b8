import { DaemonGoneError, DaemonNotRunningError } from '../../control/client.ts';
import { isProcessRunning } from '../../control/process-state.ts';
import { BaseCommand } from '../../cli/base-command.ts';
import { CliError } from '../../cli/errors.ts';
import { human } from '../../cli/output.ts';

/** How long `stop` waits for the daemon process to exit. */
const STOP_TIMEOUT_MS = 15_000;
const POLL_INTERVAL_MS = 25;

export default class DaemonStop extends BaseCommand {
  static override summary = 'Stop this profile\'s chat daemon and wait until it has exited.';
  static override description = 'Disconnects the peer, closes the control socket and waits for the process to exit. Exits 0 when no daemon runs, too.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --profile alice'];
  static override enableJsonFlag = true;

  async run(): Promise<{ stopped: boolean; pid: number | null }> {
    const { flags } = await this.parse(DaemonStop);
    const paths = this.profilePaths(flags.profile);
    let pid: number;
    try {
      const client = await this.connectDaemon(paths);
      pid = (await client.request('status', {})).pid;
      await client.request('stop', {});
    } catch (error) {
      if (error instanceof DaemonNotRunningError || error instanceof DaemonGoneError) {
        this.say(human`no chat daemon is running for profile "${paths.profile}"`);
        return { stopped: false, pid: null };
      }
      throw error;
    }
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isProcessRunning(pid)) {
      if (Date.now() > deadline) throw new CliError('stop_timeout', `chatd (pid ${pid}) did not exit within ${STOP_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    this.say(human`stopped chatd for profile "${paths.profile}" (pid ${pid})`);
    return { stopped: true, pid };
  }
}
