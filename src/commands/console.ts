import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { CONNECT_TIMEOUT_MS, type ControlClient } from '../control/client.ts';
import type { ChatEvent } from '../control/protocol.ts';
import { BaseCommand } from '../cli/base-command.ts';
import { toCliError } from '../cli/errors.ts';
import { followEvents } from '../cli/event-feed.ts';
import { formatBytes, formatEvent, human, type HumanText } from '../cli/output.ts';
import { requestSend, sendOutcomeLine } from '../cli/send-request.ts';
import { parsePeerTarget } from '../cli/target.ts';
import { clearTerminalLine, writeHuman } from '../cli/terminal.ts';
import { unfinishedTransferLine } from '../cli/transfer-outcome.ts';

const HELP = 'Type a line to send it. "transfer FILE" sends a file, "/quit" leaves (the daemon keeps running).';

export default class Console extends BaseCommand {
  static override summary = 'Interactive chat: type lines to send them, see what arrives.';
  static override description =
    `${HELP} With no peer connected it first asks for the peer's port. Works with piped standard input too: ` +
    'each line is sent in order, and the command exits at the end of the input.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    { description: 'Scripted', command: 'printf "7002\\nhello\\ntransfer notes.txt\\n/quit\\n" | <%= config.bin %> <%= command.id %>' },
  ];

  async run(): Promise<void> {
    const { flags } = await this.parse(Console);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
    const lines = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive });
    const session = new ConsoleSession(client, lines, interactive);
    await session.run();
    if (session.failures > 0) process.exitCode = 1;
  }
}

/** One console run: a queue of typed lines handled strictly in order, and events printed as they come. */
class ConsoleSession {
  failures = 0;
  private readonly client: ControlClient;
  private readonly lines: Interface;
  /** Created at once: readline drops lines that arrive before anyone iterates (piped input). */
  private readonly typed: AsyncIterator<string>;
  private readonly interactive: boolean;
  private connected = false;
  private ownName = '';
  /** Ids of lines this console reported as queued, not delivered yet. */
  private readonly queued = new Set<string>();

  constructor(client: ControlClient, lines: Interface, interactive: boolean) {
    this.client = client;
    this.lines = lines;
    this.typed = lines[Symbol.asyncIterator]();
    this.interactive = interactive;
  }

  async run(): Promise<void> {
    const status = await this.client.request('status', {});
    this.ownName = status.name;
    this.connected = status.connection === 'connected';
    let daemonGone = false;
    this.client.onClose(() => {
      daemonGone = true;
      this.print(human`* the daemon stopped`);
      this.lines.close();
    });
    await followEvents(this.client, 0, (event) => this.showEvent(event));
    this.print(this.connected ? human`* connected to ${status.peer!.name}. ${HELP}` : human`* not connected. ${HELP}`);
    if (!this.connected) this.ask('peer port (or host:port): ');
    else this.ask('');

    for (let next = await this.typed.next(); !next.done; next = await this.typed.next()) {
      const line = next.value.trim();
      if (daemonGone) break;
      if (line === '/quit' || line === '/exit') break;
      if (line !== '') await this.handle(line);
      if (daemonGone) break;
      this.ask(this.connected ? '' : 'peer port (or host:port): ');
    }
    this.lines.close();
    if (daemonGone) this.failures++;
  }

  private async handle(line: string): Promise<void> {
    try {
      if (!this.connected) {
        const result = await this.client.request('connect', parsePeerTarget(line), CONNECT_TIMEOUT_MS);
        this.connected = true;
        // A new connection shows up as a history event; only a reused one needs saying.
        if (result.alreadyConnected) this.print(human`* already connected to ${result.peer.name} (${result.peer.address})`);
        return;
      }
      const transfer = /^\/?transfer\s+(.+)$/.exec(line);
      if (transfer) {
        const filePath = path.resolve(unquote(transfer[1]!));
        this.print(human`* sending ${filePath} ...`);
        const result = await this.client.request('transfer', { path: filePath }, 0);
        this.print(result.state === 'complete'
          ? human`* sent ${result.name} (${formatBytes(result.size)}, sha256 ${result.sha256})`
          : human`* ${unfinishedTransferLine(result)}`);
        return;
      }
      const sent = await requestSend(this.client, { text: line });
      if (!this.interactive) this.print(human`${this.ownName}: ${line}`);
      if (sent.state === 'queued') {
        this.queued.add(sent.id);
        this.print(human`* ${sendOutcomeLine(sent)}`);
      }
    } catch (error) {
      this.failures++;
      const cliError = toCliError(error, '');
      if (cliError.code === 'not_connected') this.connected = false;
      // The message may quote the peer (a decline, BYE or refusal reason): escaped like every line.
      this.print(human`chat: ${cliError.message}`);
    }
  }

  private showEvent(event: ChatEvent): void {
    if (event.type === 'peer') this.connected = event.state === 'connected' || this.connected && event.state !== 'disconnected';
    // A line it said was queued: say when it is delivered.
    if (event.type === 'message-state' && this.queued.delete(event.id)) {
      this.print(formatEvent(event));
      return;
    }
    // Our own messages were typed here; our own files are reported by the transfer itself.
    if (event.direction === 'out' && event.type !== 'peer') return;
    this.print(formatEvent(event));
  }

  /** Prints above the prompt without mangling what the user is typing. */
  private print(text: HumanText): void {
    if (this.interactive) clearTerminalLine();
    writeHuman('stdout', text);
    if (this.interactive) this.lines.prompt(true);
  }

  private ask(prompt: string): void {
    if (!this.interactive) return;
    this.lines.setPrompt(prompt || '> ');
    this.lines.prompt(true);
  }
}

function unquote(text: string): string {
  const trimmed = text.trim();
  const quoted = /^(["'])(.*)\1$/.exec(trimmed);
  return quoted ? quoted[2]! : trimmed;
}
