/** Cuts the control socket's byte stream into its messages at each `\f`, refusing one over the cap before keeping it. */

/** The form feed that ends every control message (docs/control-protocol.md, *Framing*). */
export const MESSAGE_DELIMITER = 0x0c;

/** A message (or the unfinished rest of one) longer than the cap: the stream cannot be trusted further. */
export class ControlMessageTooLargeError extends Error {
  override name = 'ControlMessageTooLargeError';
}

/**
 * Feed it the chunks as they come; it returns the whole messages they complete, as text. Bytes are
 * decoded only once a message is whole, so a UTF-8 character split between chunks stays intact.
 */
export class ControlMessageSplitter {
  private readonly maxBytes: number;
  private parts: Buffer[] = [];
  private pendingBytes = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Whole messages completed by `chunk`; throws ControlMessageTooLargeError once one is over the cap. */
  push(chunk: Buffer): string[] {
    const messages: string[] = [];
    let start = 0;
    for (let end = chunk.indexOf(MESSAGE_DELIMITER); end !== -1; end = chunk.indexOf(MESSAGE_DELIMITER, start)) {
      const piece = chunk.subarray(start, end);
      this.keep(piece);
      const whole = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.pendingBytes);
      this.parts = [];
      this.pendingBytes = 0;
      if (whole.length > 0) messages.push(whole.toString('utf8'));
      start = end + 1;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
    return messages;
  }

  private keep(piece: Buffer): void {
    if (this.pendingBytes + piece.length > this.maxBytes) {
      throw new ControlMessageTooLargeError(`a control message is longer than ${this.maxBytes} bytes`);
    }
    this.parts.push(piece);
    this.pendingBytes += piece.length;
  }
}
