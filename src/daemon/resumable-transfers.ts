/**
 * Outgoing transfers that outlive their connection: each is recorded before it is offered, offered
 * again with the same id whenever its receiver's key is connected again (the receiver continues
 * from what it holds), and forgotten once it succeeded or failed for good.
 */
import { randomUUID } from 'node:crypto';
import { quote } from '../peer/log-text.ts';
import { PeerError, type PeerInfo, type PeerSession, type SentFile } from '../peer/session.ts';
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

export interface ResumableTransfersOptions {
  /** This daemon's name, the `from` of its file events. */
  name: string;
  records: TransferRecordFile;
  /** The active session, if it is open. */
  session(): PeerSession | undefined;
  feed: EventFeed;
  log: Logger;
}

interface Waiter {
  resolve(file: SentFile): void;
  reject(error: Error): void;
  /** `waiting`: the link is down and the transfer waits for it (shown instead of a speed). */
  progress(bytes: number, id: string, waiting?: string): void;
}

interface Running {
  record: TransferRecord;
  /** The session it is being sent on now, if any. */
  on: PeerSession | undefined;
  /** Bytes sent so far (the last progress report in this daemon's life). */
  bytes: number;
  waiters: Set<Waiter>;
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
    for (const record of records) this.running.set(record.id, { record, on: undefined, bytes: 0, waiters: new Set() });
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

  /**
   * Gives up transfer `id` for good: the receiver is told if it is connected (and drops its
   * partial file), whoever waits for it is told `reason`. Returns its record, or undefined.
   */
  cancel(id: string, reason: string): TransferRecord | undefined {
    const run = this.running.get(id);
    if (!run) return undefined;
    // In flight: the session's sender fails it, which forgets it below (attempt's failure path).
    if (run.on?.cancelTransfer(id, reason)) return run.record;
    this.forget(run);
    const error = new PeerError(reason);
    for (const waiter of run.waiters) waiter.reject(error);
    return run.record;
  }

  /**
   * Records and sends `source` on `session`; resolves once the receiver holds the verified file,
   * across any number of drops in between.
   */
  send(source: TransferSource, session: PeerSession, onProgress: (bytes: number, id: string, waiting?: string) => void): Promise<SentFile> {
    const peer = session.peer!;
    if (this.running.size >= MAX_UNFINISHED_TRANSFERS) {
      return Promise.reject(new Error(`${MAX_UNFINISHED_TRANSFERS} transfers are unfinished already; wait for them or cancel some`));
    }
    const record: TransferRecord = {
      id: randomUUID(), ...source, peer: peer.fingerprint, peerName: peer.name, started: Date.now(),
    };
    const run: Running = { record, on: undefined, bytes: 0, waiters: new Set() };
    this.running.set(record.id, run);
    this.save();
    const done = this.wait(run, onProgress);
    this.attempt(run, session);
    return done;
  }

  /** A session became the active one: every unfinished transfer to its key is offered again on it. */
  adopted(peer: PeerInfo): void {
    const session = this.options.session();
    if (!session || session.peer?.fingerprint !== peer.fingerprint) return;
    for (const run of this.running.values()) {
      if (run.record.peer === peer.fingerprint && run.on === undefined) this.attempt(run, session);
    }
  }

  private wait(run: Running, progress: (bytes: number, id: string, waiting?: string) => void): Promise<SentFile> {
    return new Promise((resolve, reject) => { run.waiters.add({ resolve, reject, progress }); });
  }

  private attempt(run: Running, session: PeerSession): void {
    const { record } = run;
    run.on = session;
    const progress = (bytes: number, id: string) => {
      run.bytes = bytes;
      for (const waiter of run.waiters) waiter.progress(bytes, id);
    };
    session.sendFile(record.path, record.name, record.size, progress, { id: record.id, mtimeMs: record.mtimeMs }).then(
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
            const stays = new PeerError(`${(error as Error).message}; the transfer continues when ${record.peerName} is connected again`);
            for (const waiter of run.waiters) waiter.reject(stays);
            run.waiters.clear();
          }
          return;
        }
        this.forget(run);
        for (const waiter of run.waiters) waiter.reject(error as Error);
      },
    );
  }

  private forget(run: Running): void {
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
