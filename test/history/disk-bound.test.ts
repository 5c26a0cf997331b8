// What the history costs on disk under a flood: the WAL stays under its documented bound while the
// store is open, and the database holds about what the events are.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { NewEvent } from '../../src/history/events.ts';
import { openHistory, WAL_BOUND_BYTES } from '../../src/history/store.ts';
import { sizeOf } from '../helpers/measure.ts';

/** The flood of the bug report: 100,000 tiny messages. */
const EVENTS = 100_000;
/** How often the WAL's size is looked at during the flood. */
const CHECK_EVERY = 500;
/** Messages per commit: a flood arrives in bursts, and what arrives together is committed together (GroupCommit). */
const BATCH = 100;
const MALLORY = 'ab'.repeat(32);

describe('history on disk under a flood', { timeout: 180_000 }, () => {
  let root: string;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'chat-history-disk-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test(`${EVENTS} appended events keep the WAL under WAL_BOUND_BYTES and the database under 2x their JSON`, () => {
    const file = path.join(root, 'history.db');
    const wal = `${file}-wal`;
    const store = openHistory(file);
    let jsonBytes = 0;
    let largestWal = 0;
    try {
      for (let n = BATCH; n <= EVENTS; n += BATCH) {
        // As the daemon records a received message: in the messages table too (its de-duplication).
        store.batch(Array.from({ length: BATCH }, (_, i) => () => {
          const event: NewEvent & { direction: 'in' } = {
            type: 'message', direction: 'in', id: randomUUID(), time: new Date().toISOString(), from: 'mallory', to: 'bob', text: `m${n - BATCH + i + 1}`,
          };
          jsonBytes += Buffer.byteLength(JSON.stringify(event));
          return store.messages.receive(event, MALLORY);
        }));
        if (n % CHECK_EVERY === 0) {
          largestWal = Math.max(largestWal, sizeOf(wal));
          // Stop at the first breach: the unbounded WAL of the bug would otherwise fill /tmp.
          if (largestWal > WAL_BOUND_BYTES) break;
        }
      }
      assert.ok(largestWal <= WAL_BOUND_BYTES, `the WAL reached ${largestWal} bytes (bound ${WAL_BOUND_BYTES})`);
      const onDisk = sizeOf(file) + sizeOf(wal);
      console.log(`database + WAL: ${onDisk} bytes for ${jsonBytes} bytes of JSON (${(onDisk / EVENTS).toFixed(0)} bytes per message)`);
      assert.ok(onDisk < 2 * jsonBytes, `database + WAL hold ${onDisk} bytes for ${jsonBytes} bytes of JSON`);
      assert.equal(store.latest(1)[0]?.seq, EVENTS, 'every event was stored');
    } finally {
      store.close();
    }
    console.log(`after close: ${sizeOf(file)} bytes (${(sizeOf(file) / EVENTS).toFixed(0)} bytes per message, ${(sizeOf(file) / jsonBytes).toFixed(2)} x the JSON)`);
    assert.ok(sizeOf(file) < 2 * jsonBytes, `after close the database holds ${sizeOf(file)} bytes for ${jsonBytes} bytes of JSON`);
  });
});
