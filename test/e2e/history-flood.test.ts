// A peer that floods a real daemon with messages: history.db-wal stays under its documented bound
// while the daemon runs, and every message is stored.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { describe, test } from 'node:test';
import { WAL_BOUND_BYTES } from '../../src/history/store.ts';
import { ChatHome, historyOf, isAlive } from '../helpers/chat.ts';
import { sizeOf } from '../helpers/measure.ts';
import { connectTlsPeer, identityForSuite } from '../helpers/tls-peer.ts';

/**
 * Enough to grow the unbounded WAL of the bug (about 8.7 KB per event) several times past the
 * bound, few enough to finish in well under a minute even if the daemon throttles a peer to
 * ~200 messages a second.
 */
const MESSAGES = 4_000;
/** Messages sent before waiting for the last one's acknowledgement: the peer never gets far ahead. */
const WINDOW = 100;

describe('a message flood from a peer', { timeout: 180_000 }, () => {
  const home = ChatHome.forSuite();
  const mallory = identityForSuite();

  test(`${MESSAGES} messages keep history.db-wal under WAL_BOUND_BYTES while the daemon runs`, async (t) => {
    const bob = await home.startDaemon('bob');
    const wal = path.join(home.profileDir('bob'), 'history.db-wal');
    const peer = await connectTlsPeer(bob.port, mallory);
    peer.hello();
    await peer.waitFor('hello');
    let largestWal = 0;
    const started = Date.now();
    try {
      for (let sent = 0; sent < MESSAGES; sent += WINDOW) {
        let last = '';
        for (let n = sent; n < sent + WINDOW; n++) {
          last = randomUUID();
          peer.send({ kind: 'message', id: last, time: new Date().toISOString(), text: `flood ${n}` });
        }
        const id = last;
        await peer.waitFor('messageAck', (ack) => ack.id === id, 30_000);
        largestWal = Math.max(largestWal, sizeOf(wal));
        // Stop at the first breach: the bug's WAL would otherwise keep growing for the whole flood.
        if (largestWal > WAL_BOUND_BYTES) break;
      }
    } finally {
      peer.close();
    }
    t.diagnostic(`${MESSAGES} messages in ${Date.now() - started} ms; largest WAL ${largestWal} bytes (bound ${WAL_BOUND_BYTES})`);
    assert.ok(largestWal <= WAL_BOUND_BYTES, `history.db-wal reached ${largestWal} bytes while the daemon ran (bound ${WAL_BOUND_BYTES})`);
    assert.ok(isAlive(bob.pid), 'the daemon is still running');
    const events = await historyOf(home, 'bob', 3);
    assert.ok(events.some((event) => event.text === `flood ${MESSAGES - 1}`), 'the last message was stored');
  });
});
