/**
 * Outgoing transfers that outlive their connection: each is recorded before it is offered, offered
 * again with the same id whenever its receiver's key is connected again (the receiver continues
 * from what it holds), and forgotten once it succeeded or failed for good.
 */
import { randomUUID } from 'node:crypto';
import { quote } from '../peer/log-text.ts';
import { PeerError, WaitingForRoomError, type PeerInfo, type PeerSession, type SentFile } from '../peer/session.ts';
import type { EventFeed } from './event-feed.ts';
import type { Logger } from './logger.ts';
import { MAX_UNFINISHED_TRANSFERS, type TransferRecord, type TransferRecordFile } from './transfer-records.ts';

/** The file to send, as the caller checked it. */
export interface TransferSource {
  path: string;
  name: string;
  size: number;
  mtimeMs: number;
}

/**
 * A transfer whose receiver has no room is offered again after this long, then twice as long each
 * time up to TRANSFER_RETRY_MAX_MS while it stays declined: an offer costs the receiver one look at
 * its free space, and room comes back when a person frees it, in minutes, not milliseconds. Every
 * reconnection offers it at once. CHATD_TEST_TRANSFER_RETRY_MS fixes the interval for the tests.
 */
export const TRANSFER_RETRY_FIRST_MS = 2000;
/** The longest wait between two offers of a transfer waiting for room (see TRANSFER_RETRY_FIRST_MS). */
export const TRANSFER_RETRY_MAX_MS = 60_000;

/** What the caller of `send` is told while the transfer runs. */
export interface TransferWatch {
  /** `waiting`: why no data flows now (the link is down, no room on the receiver), shown instead of a speed. */
  progress(bytes: number, id: string, waiting?: string): void;
  /** The receiver has no room now (`reason` is its own): both keep what they hold, and the transfer resumes when there is room. */
  waitingForRoom(reason: string): void;
  /** The link ended and nobody redials (`chat disconnect`, a stop): the transfer stays recorded for the next connection. Nothing more is told. */
  waitingForLink(reason: string): void;
}

export interface ResumableTransfersOptions {
  /** This daemon's name, the `from` of its file events. */
  name: string;
  records: TransferRecordFile;
  /** The active session, if it is open. */
  session(): PeerSession | undefined;
  feed: EventFeed;
  log: Logger;
  /** The wait before offering again a transfer waiting for room: `first`, doubling to `max`. Default: TRANSFER_RETRY_FIRST_MS, TRANSFER_RETRY_MAX_MS. */
  retryMs?: { first: number; max: number };
}

interface Waiter extends TransferWatch {
  resolve(file: SentFile): void;
  reject(error: Error): void;
}

interface Running {
  record: TransferRecord;
  /** The session it is being sent on now, if any. */
  on: PeerSession | undefined;
  /** Bytes sent so far (the last progress report in this daemon's life). */
  bytes: number;
  waiters: Set<Waiter>;
  /** Set while the receiver has no room for it: its reason. */
  waitingForRoom?: string;
  /** The next offer while it waits for room, and how many offers were declined in a row. */
  retry?: NodeJS.Timeout;
  declined: number;
  /** Set once this side's user cancelled it: that is recorded as `cancelled` where they asked. */
  cancelledHere?: boolean;
}

/** Why a transfer stays unfinished: the connection ended under it, it may continue on the next. */
function interruptedBy(error: unknown): boolean {
  return error instanceof PeerError && error.end !== undefined;
}

export class ResumableTransfers {
  private readonly options: ResumableTransfersOptions;
  private readonly log: Logger;
  private readonly running = new Map<string, Running>();

  constructor(options: ResumableTransfersOptions) {
    this.options = options;
    this.log = options.log;
    let records: TransferRecord[] = [];
    try {
      records = options.records.load();
    } catch (error) {
      this.log.warn(`not continuing earlier transfers: ${(error as Error).message}`);
    }
    for (const record of records) this.running.set(record.id, { record, on: undefined, bytes: 0, waiters: new Set(), declined: 0 });
    if (records.length > 0) this.log.info(`${records.length} unfinished transfer(s) continue when their receiver is connected`);
  }

  /** The unfinished transfers, oldest first. */
  list(): TransferRecord[] {
    return [...this.running.values()].map((run) => run.record);
  }

  /** Bytes of transfer `id` sent so far in this daemon's life. */
  bytesSent(id: string): number {
    return this.running.get(id)?.bytes ?? 0;
  }

  /** Why transfer `id` waits for room on its receiver, if it does. */
  waitingForRoom(id: string): string | undefined {
    return this.running.get(id)?.waitingForRoom;
  }

  /**
   * Gives up transfer `id` for good: the receiver is told if it is connected (and drops its
   * partial file), whoever waits for it is told `reason`. Returns its record, or undefined.
   */
  cancel(id: string, reason: string): TransferRecord | undefined {
    const run = this.running.get(id);
    if (!run) return undefined;
    run.cancelledHere = true;
    // In flight: the session's sender fails it, which forgets it below (attempt's failure path).
    if (run.on?.cancelTransfer(id, reason)) return run.record;
    // Not in flight (waiting for room, or for the link): a connected receiver drops what it kept.
    const session = this.options.session();
    if (session?.peer?.fingerprint === run.record.peer) session.cancelKeptTransfer(id, reason);
    this.forget(run);
    const error = new PeerError(reason);
    for (const waiter of run.waiters) waiter.reject(error);
    return run.record;
  }

  /**
   * Records `source` (it is durable once this returns) and sends it on `session`; `done` resolves
   * once the receiver holds the verified file, across any number of drops and waits for room.
   */
  send(source: TransferSource, session: PeerSession, watch: TransferWatch): { id: string; done: Promise<SentFile> } {
    const peer = session.peer!;
    if (this.running.size >= MAX_UNFINISHED_TRANSFERS) {
      throw new Error(`${MAX_UNFINISHED_TRANSFERS} transfers are unfinished already; wait for them or cancel some`);
    }
    const record: TransferRecord = {
      id: randomUUID(), ...source, peer: peer.fingerprint, peerName: peer.name, started: Date.now(),
    };
    const run: Running = { record, on: undefined, bytes: 0, waiters: new Set(), declined: 0 };
    this.running.set(record.id, run);
    try {
      this.options.records.save(this.list());
    } catch (error) {
      // Not recorded, not sent: a transfer a restart would forget is not accepted.
      this.running.delete(record.id);
      throw new Error(`cannot record the transfer in ${this.options.records.path}: ${(error as Error).message}; it was not sent (free space in the profile, then send it again)`);
    }
    const done = this.wait(run, watch);
    this.attempt(run, session);
    return { id: record.id, done };
  }

  /** A session became the active one: every unfinished transfer to its key is offered again on it. */
  adopted(peer: PeerInfo): void {
    const session = this.options.session();
    if (!session || session.peer?.fingerprint !== peer.fingerprint) return;
    for (const run of this.running.values()) {
      if (run.record.peer === peer.fingerprint && run.on === undefined) {
        // A new connection is a new chance for room too: offered at once, the waits start again.
        run.declined = 0;
        this.attempt(run, session);
      }
    }
  }

  private wait(run: Running, watch: TransferWatch): Promise<SentFile> {
    return new Promise((resolve, reject) => { run.waiters.add({ resolve, reject, ...watch }); });
  }

  /**
   * Offers the transfer on `session`, the same way every time: its first offer, again after a
   * reconnection or a restart, and again while its receiver has no room.
   */
  private attempt(run: Running, session: PeerSession): void {
    const { record } = run;
    clearTimeout(run.retry);
    run.retry = undefined;
    run.on = session;
    const progress = (bytes: number, id: string) => {
      run.bytes = bytes;
      for (const waiter of run.waiters) waiter.progress(bytes, id);
    };
    // The waits do not start again on an ACCEPT: a receiver that accepts and then says "no room"
    // again and again would make us re-read the file's start every TRANSFER_RETRY_FIRST_MS.
    const accepted = (offset: number) => {
      run.waitingForRoom = undefined;
      if (offset > 0) this.recordResumed(run, session, offset);
    };
    session.sendFile(record.path, record.name, record.size, progress, { id: record.id, mtimeMs: record.mtimeMs, onAccepted: accepted }).then(
      (sent) => {
        this.forget(run);
        this.log.info(`sent ${record.path} to ${quote(record.peerName)} (transfer ${record.id}, sha256 ${sent.sha256})`);
        this.options.feed.record({
          type: 'file', direction: 'out', id: sent.id, time: new Date().toISOString(),
          from: this.options.name, to: session.peer?.name ?? record.peerName, name: record.name, size: sent.size, sha256: sent.sha256, path: record.path,
        });
        for (const waiter of run.waiters) waiter.resolve(sent);
      },
      (error: unknown) => {
        run.on = undefined;
        if (error instanceof WaitingForRoomError) {
          this.waitForRoom(run, session, error.reason);
          return;
        }
        if (interruptedBy(error)) {
          this.log.info(`transfer ${record.id} of ${record.path} interrupted (${(error as Error).message}); it continues when ${quote(record.peerName)} is connected again`);
          // A new connection of the same key may have been adopted before this one's end reached us.
          const now = this.options.session();
          if (now && now !== session && !now.isClosed && now.peer?.fingerprint === record.peer) {
            this.attempt(run, now);
            return;
          }
          const waiting = `waiting for ${record.peerName}… (reconnecting)`;
          for (const waiter of run.waiters) waiter.progress(run.bytes, record.id, waiting);
          // Nobody redials after "chat disconnect" or a stop: whoever waits is told, and the
          // transfer stays recorded for the next connection.
          const kind = (error as PeerError).end!.kind;
          if (kind === 'disconnected' || kind === 'local') {
            for (const waiter of run.waiters) waiter.waitingForLink((error as Error).message);
            run.waiters.clear();
          }
          return;
        }
        this.forget(run);
        if (!run.cancelledHere) this.recordFailed(run, session, (error as Error).message);
        for (const waiter of run.waiters) waiter.reject(error as Error);
      },
    );
  }

  /** The receiver keeps what it holds but has no room for the rest: offered again, later and later, while `session` lasts. */
  private waitForRoom(run: Running, session: PeerSession, reason: string): void {
    const { record } = run;
    if (run.waitingForRoom !== reason) {
      this.log.warn(`transfer ${record.id} of ${record.path} waits for room on ${quote(record.peerName)}'s side: ${quote(reason)}`);
    }
    run.waitingForRoom = reason;
    const { first, max } = this.options.retryMs ?? { first: TRANSFER_RETRY_FIRST_MS, max: TRANSFER_RETRY_MAX_MS };
    const delay = Math.min(max, first * 2 ** Math.min(run.declined, 30));
    run.declined++;
    for (const waiter of run.waiters) {
      waiter.progress(run.bytes, record.id, `waiting for room on ${record.peerName}'s side`);
      waiter.waitingForRoom(reason);
    }
    run.retry = setTimeout(() => {
      run.retry = undefined;
      // Once the link is gone, the next connection offers it (adopted).
      if (this.running.get(record.id) === run && run.on === undefined && this.options.session() === session && !session.isClosed) this.attempt(run, session);
    }, delay);
    run.retry.unref();
  }

  private recordResumed(run: Running, session: PeerSession, offset: number): void {
    const { record } = run;
    this.log.info(`transfer ${record.id} of ${record.path} resumes at byte ${offset} of ${record.size}`);
    this.options.feed.recordSafely({
      type: 'transfer', state: 'resumed', direction: 'out', id: record.id, time: new Date().toISOString(),
      from: this.options.name, to: session.peer?.name ?? record.peerName, name: record.name, size: record.size, offset,
    });
  }

  /** Given up for good, and not by our user: said in the log and the history, where a `--no-wait` caller looks. */
  private recordFailed(run: Running, session: PeerSession, reason: string): void {
    const { record } = run;
    this.log.warn(`transfer ${record.id} of ${record.path} failed: ${quote(reason)}`);
    this.options.feed.recordSafely({
      type: 'transfer', state: 'failed', direction: 'out', id: record.id, time: new Date().toISOString(),
      from: this.options.name, to: session.peer?.name ?? record.peerName, name: record.name, size: record.size, reason,
    });
  }

  private forget(run: Running): void {
    clearTimeout(run.retry);
    run.retry = undefined;
    if (this.running.get(run.record.id) !== run) return;
    this.running.delete(run.record.id);
    this.save();
  }

  private save(): void {
    try {
      this.options.records.save(this.list());
    } catch (error) {
      this.log.warn(`cannot record the unfinished transfers: ${(error as Error).message}`);
    }
  }
}
