/** The history on disk (node:sqlite): events appended in order, paged by seq, and kept small and durable. */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { ChatEvent, NewEvent } from './events.ts';
import { MESSAGE_TABLES, SqliteMessageLedger, type MessageLedger } from './message-ledger.ts';

/**
 * The durable, ordered event log of one profile. Everything the daemon remembers goes through this
 * interface, so the storage can change without touching its callers.
 */
export interface HistoryStore {
  /** Appends one event and returns it with its sequence number, committed. */
  append(event: NewEvent): ChatEvent;
  /** The newest `limit` events, oldest first. */
  latest(limit: number): ChatEvent[];
  /** The newest `limit` events with a sequence number below `seq`, oldest first. */
  before(seq: number, limit: number): ChatEvent[];
  /** Up to `limit` events with a sequence number greater than `seq`, oldest first. */
  after(seq: number, limit: number): ChatEvent[];
  /**
   * Runs every work in one transaction, each in a savepoint of its own: a work that throws is
   * undone alone, the others are kept, and the one commit is one fsync for all of them. Throws
   * (and keeps nothing) only when the commit itself fails.
   */
  batch(works: ReadonlyArray<() => unknown>): WorkOutcome[];
  /** Messages by id, and the state of outgoing ones: the outbox (its writes belong in a `batch`). */
  readonly messages: MessageLedger;
  close(): void;
}

export type WorkOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** 1: the event log. 2: the messages table (de-duplication, outbox) and the last peer. 3: that last peer dropped (last_peer.json is the record). */
const SCHEMA_VERSION = 3;

/**
 * Pages written to the WAL before SQLite checkpoints them into the database and starts the WAL
 * over (SQLite's default, set here so the bound below does not depend on how SQLite was built).
 * 1000 pages of 4 KiB is about 4 MiB of WAL.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 1000;
/**
 * After a checkpoint, a WAL file larger than this is truncated back to it, so one burst (or a
 * checkpoint held off for a while) does not leave a big file behind for the life of the daemon.
 */
export const WAL_SIZE_LIMIT_BYTES = 8 * 1024 * 1024;
/**
 * What history.db-wal stays under while the daemon runs, documented in docs/security.md: at most
 * WAL_AUTOCHECKPOINT_PAGES pages plus the last append (one event: well under 2 MiB, a frame's
 * size) before the checkpoint that follows it starts the WAL over, and never more than
 * WAL_SIZE_LIMIT_BYTES left behind after a checkpoint.
 */
export const WAL_BOUND_BYTES = 8 * 1024 * 1024;

export function openHistory(file: string): HistoryStore {
  return new SqliteHistoryStore(file);
}

class SqliteHistoryStore implements HistoryStore {
  readonly messages: MessageLedger;
  private readonly db: DatabaseSync;
  private readonly insert: StatementSync;
  private readonly selectLatest: StatementSync;
  private readonly selectAfter: StatementSync;
  private readonly selectBefore: StatementSync;
  /** Prepared once: a batch runs them for every write in it. */
  private readonly savepoint: StatementSync;
  private readonly release: StatementSync;
  private readonly rollbackTo: StatementSync;

  constructor(file: string) {
    this.db = new DatabaseSync(file);
    // WAL: readers never block the writer. FULL: a commit returns once the WAL is fsynced, so what
    // the daemon acknowledged (a message received, a message queued) survives a power loss, not
    // only a crash of the daemon. A burst costs one fsync: writes that arrive together share one
    // commit (`batch`, GroupCommit).
    try {
      this.db.exec(
        'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; ' +
          `PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}; PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT_BYTES};`,
      );
      this.migrate();
    } catch (error) {
      this.db.close();
      throw error;
    }
    // No `RETURNING seq` read with .get(): node:sqlite leaves such a statement un-reset after its
    // first row, and its open read keeps every checkpoint from finishing, so the WAL grew by a
    // page and more per event (866 MB for 100,000 messages) until the daemon stopped. .run()
    // steps the statement to its end and reports the new rowid.
    this.insert = this.db.prepare('INSERT INTO events (time, type, body) VALUES (?, ?, ?)');
    this.selectLatest = this.db.prepare(
      'SELECT seq, body FROM (SELECT seq, body FROM events ORDER BY seq DESC LIMIT ?) ORDER BY seq ASC',
    );
    this.selectAfter = this.db.prepare('SELECT seq, body FROM events WHERE seq > ? ORDER BY seq ASC LIMIT ?');
    this.selectBefore = this.db.prepare(
      'SELECT seq, body FROM (SELECT seq, body FROM events WHERE seq < ? ORDER BY seq DESC LIMIT ?) ORDER BY seq ASC',
    );
    this.savepoint = this.db.prepare('SAVEPOINT work');
    this.release = this.db.prepare('RELEASE work');
    this.rollbackTo = this.db.prepare('ROLLBACK TO work');
    this.messages = new SqliteMessageLedger(this.db, (event) => this.append(event));
  }

  private migrate(): void {
    const row = this.db.prepare('PRAGMA user_version').get() as { user_version: number };
    if (row.user_version > SCHEMA_VERSION) {
      throw new Error(`history database was written by a newer chat (schema ${row.user_version})`);
    }
    if (row.user_version === SCHEMA_VERSION) return;
    this.db.exec('BEGIN IMMEDIATE');
    try {
      if (row.user_version < 1) {
        this.db.exec(`
          CREATE TABLE IF NOT EXISTS events (
            seq  INTEGER PRIMARY KEY AUTOINCREMENT,
            time TEXT NOT NULL,
            type TEXT NOT NULL,
            body TEXT NOT NULL
          );
        `);
      }
      // Messages recorded under schema 1 are not entered: version 2 of the peer protocol never
      // resent one, so none of them can come again.
      if (row.user_version < 2) this.db.exec(MESSAGE_TABLES);
      // Schema 2 kept the last connected peer here too; the reconnect target (last_peer.json) is
      // the one record of who messages are for while nobody is connected.
      if (row.user_version < 3) this.db.exec('DROP TABLE IF EXISTS last_peer');
      this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  append(event: NewEvent): ChatEvent {
    const { lastInsertRowid } = this.insert.run(event.time, event.type, JSON.stringify(event));
    return { seq: Number(lastInsertRowid), ...event } as ChatEvent;
  }

  latest(limit: number): ChatEvent[] {
    return this.selectLatest.all(limit).map(toEvent);
  }

  before(seq: number, limit: number): ChatEvent[] {
    return this.selectBefore.all(seq, limit).map(toEvent);
  }

  after(seq: number, limit: number): ChatEvent[] {
    return this.selectAfter.all(seq, limit).map(toEvent);
  }

  batch(works: ReadonlyArray<() => unknown>): WorkOutcome[] {
    const outcomes: WorkOutcome[] = [];
    this.db.exec('BEGIN IMMEDIATE');
    try {
      for (const work of works) {
        this.savepoint.run();
        try {
          outcomes.push({ ok: true, value: work() });
          this.release.run();
        } catch (error) {
          this.rollbackTo.run();
          this.release.run();
          outcomes.push({ ok: false, error });
        }
      }
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
    return outcomes;
  }

  close(): void {
    this.db.close();
  }
}

function toEvent(row: unknown): ChatEvent {
  const { seq, body } = row as { seq: number; body: string };
  return { seq, ...(JSON.parse(body) as NewEvent) } as ChatEvent;
}
