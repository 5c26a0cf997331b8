import os from 'node:os';
import { createInterface } from 'node:readline';
import { BaseCommand } from '../cli/base-command.ts';
import { PipedScreen, TerminalScreen } from '../cli/console/screen.ts';
import { CONSOLE_HELP, ConsoleSession } from '../cli/console/session.ts';

export default class Console extends BaseCommand {
  static override summary = 'Interactive chat: type lines to send them, see what arrives.';
  static override description =
    `${CONSOLE_HELP} With no peer connected it first asks for the peer's port (Enter skips; /connect PORT connects later). ` +
    'A line typed while the peer is away waits in the outbox and goes when it is back; files go in the background while you type. ' +
    'Works with piped standard input too: each line is handled in order, and the command exits at the end of the input ' +
    '(1 if a line failed; /quit exits 0).';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    { description: 'Scripted', command: 'printf "7002\\nhello\\ntransfer notes.txt\\n/quit\\n" | <%= config.bin %> <%= command.id %>' },
  ];

  async run(): Promise<void> {
    const { flags } = await this.parse(Console);
    const paths = this.profilePaths(flags.profile);
    const client = await this.connectDaemon(paths);
    const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
    const lines = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive });
    let onInterrupt: (() => void) | undefined;
    const session = new ConsoleSession({
      client,
      connect: () => this.connectDaemon(paths),
      lines,
      screen: interactive ? new TerminalScreen(lines, () => process.stdout.columns ?? 80) : new PipedScreen(),
      interactive,
      paths: { home: os.homedir(), cwd: process.cwd() },
      interrupted: () => new Promise<void>((resolve) => {
        onInterrupt = () => resolve();
        process.once('SIGINT', onInterrupt);
      }),
    });
    const end = await session.run();
    if (onInterrupt) process.off('SIGINT', onInterrupt);
    // /quit is a deliberate leave; a script's failed lines show in the exit code at the end of its input.
    if (end === 'daemonGone' || (end === 'endOfInput' && !interactive && session.failures > 0)) process.exitCode = 1;
  }
}
