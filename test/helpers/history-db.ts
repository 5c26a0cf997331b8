/**
 * A profile's history read straight from its database, cheap enough to poll while its daemon runs
 * (WAL lets a reader in beside the writer), and a bounded wait for an event to appear in it.
 */
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as delay } from 'node:timers/promises';
import type { ChatHome } from './chat.ts';

export type StoredEvent = Record<string, unknown> & { seq: number; type: string };

/** Every event of the profile's history, oldest first. */
export function eventsOf(home: ChatHome, profile: string): StoredEvent[] {
  const db = new DatabaseSync(path.join(home.profileDir(profile), 'history.db'), { readOnly: true });
  try {
    return (db.prepare('SELECT seq, body FROM events ORDER BY seq').all() as Array<{ seq: number; body: string }>)
      .map((row) => ({ seq: row.seq, ...(JSON.parse(row.body) as Record<string, unknown>) }) as StoredEvent);
  } finally {
    db.close();
  }
}

/** The seq of the profile's newest event, 0 if none. */
export function lastSeq(home: ChatHome, profile: string): number {
  return eventsOf(home, profile).at(-1)?.seq ?? 0;
}

/** Waits (bounded) for an event after `afterSeq` that matches, and returns it; the error shows what came instead. */
export async function nextEvent(
  home: ChatHome,
  profile: string,
  afterSeq: number,
  match: (event: StoredEvent) => boolean,
  timeoutMs = 30_000,
): Promise<StoredEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = eventsOf(home, profile).find((event) => event.seq > afterSeq && match(event));
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error(`no matching event in ${profile}'s history within ${timeoutMs} ms; after ${afterSeq}:\n` +
        eventsOf(home, profile).filter((event) => event.seq > afterSeq).map((event) => JSON.stringify(event)).join('\n'));
    }
    await delay(100);
  }
}

/** How many times `text` is in the profile's history as a message. */
export function copies(home: ChatHome, profile: string, text: string): number {
  return eventsOf(home, profile).filter((event) => event.type === 'message' && event.text === text).length;
}

/** Matches `peer` events of one state. */
export const peerState = (state: string) => (event: StoredEvent): boolean => event.type === 'peer' && event.state === state;
