/**
 * The receiving side of file transfers on one connection: answers each offer, hands its chunks to
 * a TransferReceiver, lets the sender send as far as its disk keeps up (FILE_CREDIT), and reports
 * each result.
 */
import { ProtocolError } from '../wire/errors.ts';
import { clipText } from '../text/clip.ts';
import type { FileOfferFrame } from '../wire/frames.ts';
import { CREDIT_STEP_BYTES, MAX_INCOMING_TRANSFERS, MAX_REASON_BYTES, TRANSFER_WINDOW_BYTES } from '../wire/limits.ts';
import { DirectoryChangedError } from '../files/pinned-directory.ts';
import { quote } from './log-text.ts';
import { isRoomError } from './partial-file.ts';
import { TransferCancelledError, TransferReceiver } from './transfer-receiver.ts';
import { CANCELLED_HERE_REASON, DOWNLOADS_CHANGED_REASON, type IncomingFrame, type IncomingHandlers, type IncomingLink } from './incoming-handlers.ts';

/** Failed transfer ids kept to drop their late chunks: a peer that never ends them cannot grow it. */
const MAX_FAILED_TRANSFERS_REMEMBERED = 64;

export class IncomingTransfers {
  private readonly link: IncomingLink;
  private readonly handlers: IncomingHandlers;
  private readonly receivers = new Map<string, TransferReceiver>();
  /** Transfers whose FILE_END is in: being verified and stored, no longer to be cancelled. */
  private readonly finishing = new Set<string>();
  /** Work on files no longer in `receivers` that may still touch the disk (finishing, aborting). */
  private readonly settling = new Set<Promise<void>>();
  /**
   * Transfers failed here (a write error, our user's cancel) whose chunks may still be on the wire,
   * with the bytes the sender may still send of them: what its credit allowed past what had come.
   * They are dropped until the sender's FILE_END or FILE_CANCEL, not taken as a violation; more
   * than that is one.
   */
  private readonly failed = new Map<string, number>();

  constructor(link: IncomingLink, handlers: IncomingHandlers) {
    this.link = link;
    this.handlers = handlers;
  }

  /** Handles one frame of the sender's; throws ProtocolError for what the protocol does not allow. */
  receive(frame: IncomingFrame): void {
    switch (frame.kind) {
      case 'fileOffer':
        this.receiveOffer(frame);
        return;
      case 'fileChunk':
        this.receiveChunk(frame.id, frame.data);
        return;
      case 'fileEnd':
        this.receiveEnd(frame.id, frame.sha256);
        return;
      case 'fileCancel': {
        // A cancel may cross our FILE_RESULT on the wire, so an unknown id is not a violation.
        this.failed.delete(frame.id);
        const receiver = this.receivers.get(frame.id);
        if (!receiver) {
          // Not in progress, but perhaps kept waiting for room, or from a dropped connection: its
          // sender gave it up, so its partial file goes (only the key that started it may say so).
          const sender = this.link.peerFingerprint();
          if (sender && this.handlers.discardKept) this.track(this.handlers.discardKept(frame.id, sender, frame.reason));
          return;
        }
        this.receivers.delete(frame.id);
        this.handlers.log(`peer cancelled transfer ${frame.id}: ${quote(frame.reason)}`);
        this.track(receiver.abort());
        this.handlers.onPeerCancelled?.(frame.id, receiver.offeredName, receiver.expectedSize, frame.reason);
        return;
      }
    }
  }

  /**
   * The connection ended: every partial file is synced and closed, and kept with its record for
   * the sender's next offer of it; resolves once no file of this connection is open.
   */
  async suspendAll(): Promise<void> {
    for (const receiver of this.receivers.values()) this.track(receiver.suspend());
    this.receivers.clear();
    while (this.settling.size > 0) await Promise.all(this.settling);
  }

  /** The connection ended over the sender's violation: what it sent is not kept for it. */
  async abortAll(): Promise<void> {
    for (const receiver of this.receivers.values()) this.track(receiver.abort());
    this.receivers.clear();
    while (this.settling.size > 0) await Promise.all(this.settling);
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch(() => undefined).finally(() => this.settling.delete(tracked));
    this.settling.add(tracked);
  }

  private receiveOffer(offer: FileOfferFrame): void {
    if (this.receivers.has(offer.id)) throw new ProtocolError(`duplicate offer ${offer.id}`);
    // Offered again after it failed here for want of room: its old chunks are all in (frames keep
    // their order), and the new ones are its data.
    this.failed.delete(offer.id);
    // Files still being verified, closed or removed count too: otherwise OFFER and CANCEL in pairs
    // would start file after file while the ones before are still at work.
    if (this.receivers.size + this.settling.size >= MAX_INCOMING_TRANSFERS) {
      this.link.send({ kind: 'fileDecline', id: offer.id, reason: `too many transfers at once (max ${MAX_INCOMING_TRANSFERS})` });
      return;
    }
    let reservedBytes = 0;
    for (const receiver of this.receivers.values()) reservedBytes += receiver.expectedSize - receiver.bytesReceived;
    const decision = this.handlers.acceptFile(offer, reservedBytes);
    if ('decline' in decision) {
      this.link.send({ kind: 'fileDecline', id: offer.id, reason: decision.decline, ...(decision.later ? { later: true } : {}) });
      return;
    }
    const sender = this.link.peerFingerprint() ?? '';
    const completed = sender ? this.handlers.completedBefore?.(offer.id, sender, offer.size) : undefined;
    const receiver = new TransferReceiver(decision.downloads, offer.id, offer.name, offer.size, sender, completed);
    this.receivers.set(offer.id, receiver);
    receiver.onFailed = (error) => this.failWrite(receiver, error);
    receiver.open().then(
      (offset) => {
        if (this.receivers.get(offer.id) !== receiver) return;
        if (offset > 0) {
          this.handlers.log(`resuming transfer ${offer.id} of ${quote(offer.name)} at byte ${offset} of ${offer.size}`);
          this.handlers.onResumed?.(offer, offset);
        }
        this.link.send({ kind: 'fileAccept', id: offer.id, offset });
        receiver.onWritten = (written) => this.grant(receiver, written);
        this.grant(receiver, offset);
      },
      (error: unknown) => {
        this.receivers.delete(offer.id);
        const changed = error instanceof DirectoryChangedError;
        this.handlers.log(`cannot store offered file ${quote(offer.name)}: ${changed ? `refused: ${error.message}` : String(error)}`);
        const reason = changed ? DOWNLOADS_CHANGED_REASON
          : error instanceof TransferCancelledError ? CANCELLED_HERE_REASON
          : 'receiver cannot write to its downloads directory';
        this.link.send({ kind: 'fileDecline', id: offer.id, reason });
      },
    );
  }

  private receiveChunk(id: string, data: Buffer): void {
    // A chunk carries data: an empty one moves nothing forward, so no credit would ever bound them.
    if (data.length === 0) throw new ProtocolError(`empty file chunk for transfer ${id}`);
    const allowed = this.failed.get(id);
    if (allowed !== undefined) {
      if (data.length > allowed) throw new ProtocolError(`transfer ${id} sent beyond its credit after it failed here`);
      this.failed.set(id, allowed - data.length);
      return;
    }
    const receiver = this.acceptedTransfer(id, 'chunk');
    const end = receiver.bytesReceived + data.length;
    if (end > receiver.expectedSize) {
      throw new ProtocolError(`transfer ${id} sent more than the ${receiver.expectedSize} bytes it offered`);
    }
    // The credit bounds what this transfer holds in memory: past it, the sender broke its promise.
    if (end > receiver.credit) throw new ProtocolError(`transfer ${id} sent beyond its credit (${receiver.credit} bytes)`);
    // A disk failure comes back through onFailed (data past the offer is ruled out above).
    receiver.write(data);
  }

  /**
   * Lets the sender send up to TRANSFER_WINDOW_BYTES past what is on disk, in steps of at least
   * CREDIT_STEP_BYTES (the last one to the file's end), so a credit frame costs little per byte.
   */
  private grant(receiver: TransferReceiver, written: number): void {
    if (this.receivers.get(receiver.id) !== receiver || this.link.isClosed()) return;
    const until = Math.min(receiver.expectedSize, written + TRANSFER_WINDOW_BYTES);
    if (until <= receiver.credit) return;
    if (until - receiver.credit < CREDIT_STEP_BYTES && until < receiver.expectedSize) return;
    receiver.credit = until;
    this.link.send({ kind: 'fileCredit', id: receiver.id, until });
  }

  /** All of transfer `id` is in and it is being verified and stored: too late to cancel it. */
  isFinishing(id: string): boolean {
    return this.finishing.has(id);
  }

  /**
   * Gives up one incoming transfer now (`chat transfers cancel`): the sender is told with a failed
   * FILE_RESULT, and the partial file is removed. False when it is not being received here.
   */
  cancel(id: string, reason: string): boolean {
    const receiver = this.receivers.get(id);
    if (!receiver) return false;
    this.receivers.delete(id);
    this.rememberFailed(receiver);
    this.handlers.log(`transfer ${id} cancelled here: ${reason}`);
    this.track(receiver.abort());
    if (!this.link.isClosed()) this.link.send({ kind: 'fileResult', id, ok: false, sha256: '', reason: clipText(reason, MAX_REASON_BYTES) });
    return true;
  }

  /**
   * A write error fails this transfer at once, with the reason on both sides; the connection and
   * every other transfer go on.
   */
  private failWrite(receiver: TransferReceiver, error: Error): void {
    if (this.receivers.get(receiver.id) !== receiver) return;
    this.receivers.delete(receiver.id);
    this.rememberFailed(receiver);
    if (isRoomError(error)) {
      this.holdForRoom(receiver, error);
      return;
    }
    const reason = this.writeFailureReason(error);
    this.handlers.log(`transfer ${receiver.id} failed: ${reason} (${error.message})`);
    this.handlers.onFailed?.(receiver.id, receiver.offeredName, receiver.expectedSize, reason);
    this.track(receiver.abort());
    if (!this.link.isClosed()) this.link.send({ kind: 'fileResult', id: receiver.id, ok: false, sha256: '', reason });
  }

  /** No room: the partial file stays, and the sender offers the transfer again once there is. */
  private holdForRoom(receiver: TransferReceiver, error: Error): void {
    const reason = this.writeFailureReason(error);
    this.handlers.log(`transfer ${receiver.id} waits for room: ${reason} (${error.message})`);
    this.track(receiver.hold());
    this.handlers.onWaitingForRoom?.(receiver.id, reason);
    if (!this.link.isClosed()) this.link.send({ kind: 'fileResult', id: receiver.id, ok: false, sha256: '', reason, later: true });
  }

  private writeFailureReason(error: Error): string {
    return clipText(this.handlers.writeFailureReason?.(error) ?? `cannot write the file on the receiver: ${error.message}`, MAX_REASON_BYTES);
  }

  private rememberFailed(receiver: TransferReceiver): void {
    if (this.failed.size >= MAX_FAILED_TRANSFERS_REMEMBERED) this.failed.delete(this.failed.keys().next().value!);
    this.failed.set(receiver.id, Math.max(0, receiver.credit - receiver.bytesReceived));
  }

  private receiveEnd(id: string, sha256: string): void {
    if (this.failed.delete(id)) return;
    const receiver = this.acceptedTransfer(id, 'end');
    this.receivers.delete(id);
    this.finishing.add(id);
    const finishing = receiver
      .finish(sha256)
      .then(async (file) => {
        await this.handlers.onFileReceived(file);
        this.link.send({ kind: 'fileResult', id, ok: true, sha256: file.sha256, reason: '' });
      })
      .catch(async (error: unknown) => {
        // The disk filled while the last chunks were written: kept for the offer once there is room.
        if (error instanceof Error && isRoomError(error)) {
          this.holdForRoom(receiver, error);
          return;
        }
        await receiver.abort();
        if (error instanceof DirectoryChangedError) {
          this.handlers.log(`transfer ${id} refused before it was named: ${error.message}`);
          this.handlers.onFailed?.(id, receiver.offeredName, receiver.expectedSize, DOWNLOADS_CHANGED_REASON);
          this.link.send({ kind: 'fileResult', id, ok: false, sha256: '', reason: DOWNLOADS_CHANGED_REASON });
          return;
        }
        const reason = clipText(error instanceof Error ? error.message : String(error), MAX_REASON_BYTES);
        this.handlers.log(`transfer ${id} failed: ${quote(reason)}`);
        this.handlers.onFailed?.(id, receiver.offeredName, receiver.expectedSize, reason);
        this.link.send({ kind: 'fileResult', id, ok: false, sha256: '', reason });
      })
      .finally(() => this.finishing.delete(id));
    this.track(finishing);
  }

  /** Its file is open once we have sent FILE_ACCEPT: data before that is the sender's violation. */
  private acceptedTransfer(id: string, what: 'chunk' | 'end'): TransferReceiver {
    const receiver = this.receivers.get(id);
    if (!receiver) throw new ProtocolError(`frame for unknown incoming transfer ${id}`);
    if (!receiver.isOpen) throw new ProtocolError(`file ${what} for transfer ${id} before it was accepted`);
    return receiver;
  }
}
