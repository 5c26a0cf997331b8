/**
 * What the receiving side of transfers (IncomingTransfers) needs from its owner and from its
 * connection, and the reasons it gives the sender.
 */
import type { PinnedDirectory } from '../files/pinned-directory.ts';
import type { FileCancelFrame, FileChunkFrame, FileEndFrame, FileOfferFrame, Frame } from '../wire/frames.ts';
import type { CompletedTransfer, ReceivedFile } from './transfer-receiver.ts';

/** What the sender is told when it offers again a transfer that this side's user cancelled. */
export const CANCELLED_HERE_REASON = 'the receiver cancelled this transfer (chat transfers cancel)';

/**
 * What the sender is told when the downloads directory's path no longer leads to the directory
 * chatd checked at start; the log says where it leads now (the path stays private).
 */
export const DOWNLOADS_CHANGED_REASON = "the receiver's downloads directory changed since chatd started";

/** The owner's part in receiving files. */
export interface IncomingHandlers {
  /**
   * Where to store an offered file, or why it is declined. `reservedBytes`: what the transfers
   * already accepted on this connection still have to write.
   */
  acceptFile(offer: FileOfferFrame, reservedBytes: number): { downloads: PinnedDirectory } | { decline: string; later?: boolean };
  /** Transfer `id` of `size` bytes from `sender`, if it was completed here before (its sender missed the result): answered, not stored again. */
  completedBefore?(id: string, sender: string, size: number): CompletedTransfer | undefined;
  /** An offered transfer continues from `offset`, what its partial file held (sent in the ACCEPT right after). */
  onResumed?(offer: FileOfferFrame, offset: number): void;
  /** The sender gave up a transfer in progress (FILE_CANCEL with `reason`); its partial file is removed. */
  onPeerCancelled?(id: string, name: string, size: number, reason: string): void;
  /** An incoming transfer failed here for good (not verified, a write error other than room): the sender is told `reason`. */
  onFailed?(id: string, name: string, size: number, reason: string): void;
  /** Removes the partial file kept for transfer `id` if `sender` started it: its sender cancelled it while it was not in progress. */
  discardKept?(id: string, sender: string, reason: string): Promise<void>;
  /** A write error for want of room stopped transfer `id`; its partial file is kept (FILE_RESULT `later`). */
  onWaitingForRoom?(id: string, reason: string): void;
  /** Called once a received file is verified and stored, before the sender is told. */
  onFileReceived(file: ReceivedFile): void | Promise<void>;
  /** What the sender is told when writing a file failed here (disk full, I/O error, quota). */
  writeFailureReason?(error: Error): string;
  log(line: string): void;
}

/** What the receiving side needs of its connection. */
export interface IncomingLink {
  send(frame: Frame): void;
  isClosed(): boolean;
  /** The authenticated sender's key fingerprint: only it may continue a transfer it started. */
  peerFingerprint(): string | undefined;
}

/** The sender's frames about its transfers: the frames this side handles. */
export type IncomingFrame = FileOfferFrame | FileChunkFrame | FileEndFrame | FileCancelFrame;
