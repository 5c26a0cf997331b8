/**
 * One `chat console` run: typed lines handled one at a time in the order typed (messages, commands,
 * transfers started in the background), and the daemon's events printed as they come.
 */
import type { Interface } from 'node:readline';
import { CONNECT_TIMEOUT_MS, type ControlClient } from '../../control/client.ts';
import type { ChatEvent } from '../../control/protocol.ts';
import { toCliError } from '../errors.ts';
import { followEvents } from '../event-feed.ts';
import { formatEvent, human, joinLines, type HumanText } from '../output.ts';
import { parsePeerTarget } from '../target.ts';
import { BackgroundTransfers } from './background-transfers.ts';
import { resolveTypedPath, type PathBase } from './file-path.ts';
import { CONSOLE_COMMANDS, parseTypedLine } from './typed-line.ts';
import { LineSender } from './line-sender.ts';
import { linkAfter, linkOfStatus, NOT_CONNECTED, promptFor, type LinkState } from './link-state.ts';
import type { ConsoleScreen } from './screen.ts';

export const CONSOLE_HELP = 'Type a line to send it. "transfer FILE" sends a file, "/help" lists the commands, "/quit" leaves (the daemon keeps running).';

/** The seed's first question, asked once when nothing is connected; Enter skips it. */
const PORT_QUESTION = human`peer port (or host:port; Enter to skip): `;

export interface ConsoleSessionOptions {
  client: ControlClient;
  /** Another connection to the same daemon (for each transfer). */
  connect(): Promise<ControlClient>;
  lines: Interface;
  screen: ConsoleScreen;
  /** A person at a terminal: no echo of the lines typed, progress lines. */
  interactive: boolean;
  paths: PathBase;
  /** Resolves when the user wants to leave now (Ctrl-C while the console waits for its transfers). */
  interrupted(): Promise<void>;
}

/** How the run ended: `/quit` (or Ctrl-D, Ctrl-C on a terminal), the end of piped input, or the daemon went away. */
export type ConsoleEnd = 'quit' | 'endOfInput' | 'daemonGone';

export class ConsoleSession {
  /** Lines that failed (a refused command, a failed transfer or connection). */
  failures = 0;
  private readonly options: ConsoleSessionOptions;
  private readonly client: ControlClient;
  private readonly screen: ConsoleScreen;
  /** Created at once: readline drops lines that arrive before anyone iterates (piped input). */
  private readonly typed: AsyncIterator<string>;
  private readonly sender: LineSender;
  private readonly transfers: BackgroundTransfers;
  private link: LinkState = NOT_CONNECTED;
  private ownName = '';
  private daemonGone = false;
  /** The first question is on the screen: the next line typed answers it (until a peer connects by itself). */
  private askingPort = false;
  /** Typed lines and the sending of kept lines, one at a time, in order. */
  private turn: Promise<void> = Promise.resolve();
  /** Answers of `status` asked after peer events: only the newest one counts. */
  private statusAsked = 0;
  /** The newest of them, waited for on leaving (an unanswered request would hold the process). */
  private refreshing: Promise<void> = Promise.resolve();

  constructor(options: ConsoleSessionOptions) {
    this.options = options;
    this.client = options.client;
    this.screen = options.screen;
    this.typed = options.lines[Symbol.asyncIterator]();
    this.sender = new LineSender({ client: this.client, say: (text) => this.screen.print(text), connected: () => this.link.state === 'connected' });
    this.transfers = new BackgroundTransfers({
      connect: options.connect,
      screen: this.screen,
      progress: options.interactive,
      failed: (error) => this.fail(error),
    });
  }

  async run(): Promise<ConsoleEnd> {
    const status = await this.client.request('status', {});
    this.ownName = status.name;
    this.link = linkOfStatus(status);
    this.client.onClose(() => {
      this.daemonGone = true;
      this.screen.print(human`* the daemon stopped`);
      this.options.lines.close();
    });
    await followEvents(this.client, 0, (event) => this.showEvent(event));
    this.screen.print(this.banner());
    this.askingPort = this.link.state === 'not connected';
    this.screen.setPrompt(this.askingPort ? PORT_QUESTION : promptFor(this.link));

    let end: ConsoleEnd = 'endOfInput';
    for (let next = await this.typed.next(); !next.done && !this.daemonGone; next = await this.typed.next()) {
      const line = next.value.trim();
      const answer = this.askingPort && line !== '' && !line.startsWith('/');
      this.askingPort = false;
      if (answer) await this.inTurn(() => this.answerPortQuestion(line));
      else if (line !== '' && (await this.inTurn(() => this.handle(line))) === 'quit') {
        end = 'quit';
        break;
      }
      this.screen.setPrompt(promptFor(this.link));
    }
    if (this.daemonGone) end = 'daemonGone';
    this.options.lines.close();
    await this.leave();
    return end;
  }

  private banner(): HumanText {
    switch (this.link.state) {
      case 'connected':
        return human`* connected to ${this.link.peer}. ${CONSOLE_HELP}`;
      case 'reconnecting':
        return human`* reconnecting to ${this.link.peer}; lines typed meanwhile wait in the outbox. ${CONSOLE_HELP}`;
      case 'not connected':
        return human`* not connected. ${CONSOLE_HELP}`;
    }
  }

  private async handle(line: string): Promise<'quit' | undefined> {
    const typed = parseTypedLine(line);
    switch (typed.kind) {
      case 'quit':
        return 'quit';
      case 'help':
        this.screen.print(joinLines(CONSOLE_COMMANDS.map(([command, what]) => human`  ${command.padEnd(16)}${what}`)));
        return undefined;
      case 'usage':
        this.failures++;
        this.screen.print(human`chat: ${typed.usage}`);
        return undefined;
      case 'unknown':
        this.failures++;
        this.screen.print(human`chat: unknown command ${typed.word}, not sent (/help lists the commands; //TEXT sends a line that starts with /)`);
        return undefined;
      case 'connect':
        await this.connect(typed.target);
        return undefined;
      case 'disconnect':
        await this.disconnect();
        return undefined;
      case 'transfer':
        this.transfers.start(resolveTypedPath(typed.file, this.options.paths));
        return undefined;
      case 'message':
        try {
          await this.sender.send(typed.text);
          if (!this.options.interactive) this.screen.print(human`${this.ownName}: ${typed.text}`);
        } catch (error) {
          this.fail(error);
        }
        return undefined;
    }
  }

  /** The first question's answer: a port connects; anything else is said not to have been sent. */
  private async answerPortQuestion(line: string): Promise<void> {
    try {
      parsePeerTarget(line);
    } catch (error) {
      this.fail(error);
      this.screen.print(human`* not sent: that was the answer to the port question. Type it again to send it; /connect PORT connects`);
      return;
    }
    await this.connect(line);
  }

  private async connect(target: string): Promise<void> {
    try {
      const result = await this.client.request('connect', parsePeerTarget(target), CONNECT_TIMEOUT_MS);
      this.link = { state: 'connected', peer: result.peer.name };
      // A new connection shows up as a history event; only a reused one needs saying.
      if (result.alreadyConnected) this.screen.print(human`* already connected to ${result.peer.name} (${result.peer.listenAddress ?? result.peer.address})`);
      await this.sender.sendHeld();
    } catch (error) {
      this.fail(error);
    }
  }

  private async disconnect(): Promise<void> {
    try {
      const result = await this.client.request('disconnect', {});
      this.link = NOT_CONNECTED;
      // A closed connection shows up as a history event.
      if (!result.disconnected) {
        this.screen.print(result.reconnectStopped ? human`* stopped reconnecting to ${result.reconnectStopped}` : human`* not connected to a peer`);
      }
    } catch (error) {
      this.fail(error);
    }
  }

  private showEvent(event: ChatEvent): void {
    if (event.type === 'peer') {
      this.link = linkAfter(this.link, event);
      // A peer that dialled in answers the question: the next line is a message.
      if (this.link.state === 'connected') this.askingPort = false;
      if (!this.askingPort) this.screen.setPrompt(promptFor(this.link));
      this.refreshing = this.refreshLink();
      if (event.state === 'connected' && this.sender.heldCount > 0) void this.inTurn(() => this.sendHeld());
    }
    if (this.sender.showDelivery(event)) return;
    // Our own messages were typed here; our own files are reported by the transfer itself.
    if (event.direction === 'out' && event.type !== 'peer') return;
    this.screen.print(formatEvent(event));
  }

  /** The daemon's word on the link after a peer event, in case the events alone mislead (a replaced connection). */
  private async refreshLink(): Promise<void> {
    const asked = ++this.statusAsked;
    try {
      const status = await this.client.request('status', {});
      if (asked !== this.statusAsked) return;
      this.link = linkOfStatus(status);
      if (!this.askingPort) this.screen.setPrompt(promptFor(this.link));
    } catch {
      // The daemon went away: onClose says so.
    }
  }

  private async sendHeld(): Promise<void> {
    try {
      await this.sender.sendHeld();
    } catch (error) {
      this.fail(error);
    }
  }

  /** Waits for the transfers started here (Ctrl-C leaves at once), then says what is left undelivered. */
  private async leave(): Promise<void> {
    await Promise.all([this.refreshing, this.turn]);
    const sending = this.transfers.names;
    if (sending.length > 0 && !this.daemonGone) {
      this.screen.print(human`* waiting for ${sending.join(', ')} to be sent (Ctrl-C leaves now: the daemon goes on sending, see chat transfers)`);
      if (!(await this.transfers.settle(this.options.interrupted()))) {
        this.screen.print(human`* left while sending ${this.transfers.names.join(', ')}: the daemon goes on with it (chat transfers)`);
      }
    }
    this.sender.finish();
    this.screen.close();
  }

  private inTurn<T>(job: () => Promise<T>): Promise<T> {
    const result = this.turn.then(job);
    this.turn = result.then(() => undefined, () => undefined);
    return result;
  }

  private fail(error: unknown): void {
    this.failures++;
    const cliError = toCliError(error, '');
    if (cliError.code === 'not_connected') {
      // The link went down meanwhile (or is being redialled): the prompt follows the daemon's word.
      this.refreshing = this.refreshLink();
      this.screen.print(human`chat: not connected to a peer; type /connect PORT first`);
      return;
    }
    // The message may quote the peer (a decline, BYE or refusal reason): escaped like every line.
    this.screen.print(human`chat: ${cliError.message}`);
  }
}
