import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { ChatEvent, NewEvent } from './events.ts';

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
  close(): void;
}

const SCHEMA_VERSION = 1;

export function openHistory(file: string): HistoryStore {
  return new SqliteHistoryStore(file);
}

class SqliteHistoryStore implements HistoryStore {
  private readonly db: DatabaseSync;
  private readonly insert: StatementSync;
  private readonly selectLatest: StatementSync;
  private readonly selectAfter: StatementSync;
  private readonly selectBefore: StatementSync;

  constructor(file: string) {
    this.db = new DatabaseSync(file);
    // WAL: readers never block the writer; NORMAL sync survives a crash of the daemon (not of the
    // machine), which is the promise an acknowledgement makes today.
    try {
      this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
      this.migrate();
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.insert = this.db.prepare('INSERT INTO events (time, type, body) VALUES (?, ?, ?) RETURNING seq');
    this.selectLatest = this.db.prepare(
      'SELECT seq, body FROM (SELECT seq, body FROM events ORDER BY seq DESC LIMIT ?) ORDER BY seq ASC',
    );
    this.selectAfter = this.db.prepare('SELECT seq, body FROM events WHERE seq > ? ORDER BY seq ASC LIMIT ?');
    this.selectBefore = this.db.prepare(
      'SELECT seq, body FROM (SELECT seq, body FROM events WHERE seq < ? ORDER BY seq DESC LIMIT ?) ORDER BY seq ASC',
    );
  }

  private migrate(): void {
    const row = this.db.prepare('PRAGMA user_version').get() as { user_version: number };
    if (row.user_version > SCHEMA_VERSION) {
      throw new Error(`history database was written by a newer chat (schema ${row.user_version})`);
    }
    if (row.user_version < 1) {
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS events (
          seq  INTEGER PRIMARY KEY AUTOINCREMENT,
          time TEXT NOT NULL,
          type TEXT NOT NULL,
          body TEXT NOT NULL
        );
        PRAGMA user_version = ${SCHEMA_VERSION};
      `);
    }
  }

  append(event: NewEvent): ChatEvent {
    const row = this.insert.get(event.time, event.type, JSON.stringify(event)) as { seq: number };
    return { seq: row.seq, ...event } as ChatEvent;
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

  close(): void {
    this.db.close();
  }
}

function toEvent(row: unknown): ChatEvent {
  const { seq, body } = row as { seq: number; body: string };
  return { seq, ...(JSON.parse(body) as NewEvent) } as ChatEvent;
}
