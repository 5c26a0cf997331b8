/** What a sent file comes to (SentFile, WaitingForRoomError), and what offering one again needs (ResumeOptions). */
import { PeerError } from './session-end.ts';

export interface SentFile { id: string; name: string; size: number; sha256: string }

/** Offering a transfer again after a drop: its id, and the source file as it was when it started. */
export interface ResumeOptions {
  id: string;
  /** The file's modification time when the transfer started: another now means it changed. */
  mtimeMs: number;
  /** Told the receiver's ACCEPT offset (0, or what it holds already), once it is checked. */
  onAccepted?(offset: number): void;
}

/**
 * The receiver keeps what it holds of the file but has no room for the rest now (its disk is full,
 * FILE_RESULT or FILE_DECLINE with `later`): the transfer waits, and is offered again later.
 */
export class WaitingForRoomError extends PeerError {
  override name = 'WaitingForRoomError';
  /** The receiver's reason, as it sent it (`disk full on bob's side: 0 B free`). */
  readonly reason: string;

  constructor(reason: string) {
    super(`peer could not store the file: ${reason}`);
    this.reason = reason;
  }
}
