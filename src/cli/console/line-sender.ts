/**
 * Gets the console's lines to the peer in the order they were typed: the daemon delivers each or
 * keeps it in its outbox for the last peer; while no peer was ever connected (nobody to queue for),
 * the console keeps them itself until one is. It says which lines wait, and when they arrive.
 */
import { ControlError, type ControlClient } from '../../control/client.ts';
import { ErrorCode, type ChatEvent } from '../../control/protocol.ts';
import { formatEvent, human, type HumanText } from '../output.ts';
import { requestSend, sendOutcomeLine } from '../send-request.ts';

/**
 * How long a line waits for the peer's acknowledgement while the link is up, before the console
 * says it waits in the outbox and goes on with the next line. A live link acknowledges in
 * milliseconds, during a transfer too; only a link that died silently takes this long.
 */
export const CONNECTED_SEND_WAIT_MS = 3_000;

export interface LineSenderOptions {
  client: ControlClient;
  say(text: HumanText): void;
  /** Whether the link is up as far as the console knows: then a line waits for its acknowledgement. */
  connected(): boolean;
}

export class LineSender {
  private readonly options: LineSenderOptions;
  /** Lines typed while there was no peer to address them to, oldest first. */
  private readonly held: string[] = [];
  /** Ids of lines reported as waiting in the outbox: their delivery is reported too. */
  private readonly waiting = new Set<string>();

  constructor(options: LineSenderOptions) {
    this.options = options;
  }

  /** Sends one line, or keeps it; rejects for any other failure (the line is then not sent). */
  async send(text: string): Promise<void> {
    // Behind lines kept earlier: the order typed is the order sent.
    if (this.held.length > 0) {
      this.held.push(text);
      return;
    }
    if (!(await this.sendOne(text))) {
      this.held.push(text);
      this.options.say(human`* kept: no peer was ever connected, so nobody to queue it for; it goes when you /connect PORT`);
    }
  }

  /** After a peer connected: the lines kept meanwhile, in order. */
  async sendHeld(): Promise<void> {
    while (this.held.length > 0) {
      if (!(await this.sendOne(this.held[0]!))) return;
      this.held.shift();
    }
  }

  /** Reports the delivery of a line said to wait; true when the event was one of those. */
  showDelivery(event: ChatEvent): boolean {
    if (event.type !== 'message-state' || !this.waiting.delete(event.id)) return false;
    this.options.say(formatEvent(event));
    return true;
  }

  /** Leaving: one line for what is not delivered yet, so nothing goes unnoticed. */
  finish(): void {
    if (this.waiting.size > 0) {
      this.options.say(human`* ${this.waiting.size} line(s) not delivered yet: the daemon keeps them in its outbox and sends them when the peer is reachable (chat outbox)`);
    }
    if (this.held.length > 0) {
      this.options.say(human`* ${this.held.length} line(s) not sent: no peer was connected (nothing was queued for them)`);
    }
  }

  /** Lines the console still keeps itself (never given to the daemon). */
  get heldCount(): number {
    return this.held.length;
  }

  /** false when there is nobody to address the line to (no peer ever connected). */
  private async sendOne(text: string): Promise<boolean> {
    const waitMs = this.options.connected() ? CONNECTED_SEND_WAIT_MS : 0;
    try {
      const sent = await requestSend(this.options.client, { text, waitMs });
      if (sent.state === 'queued') {
        this.waiting.add(sent.id);
        this.options.say(human`* ${sendOutcomeLine(sent)}`);
      }
      return true;
    } catch (error) {
      if (error instanceof ControlError && error.code === ErrorCode.notConnected) return false;
      throw error;
    }
  }
}
