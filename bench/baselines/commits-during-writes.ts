// Row 4's floor: what the disk alone makes a message wait during a transfer. A message on its way
// costs two fsynced commits (queued in the sender's history, received in the receiver's), and on
// ext4 such a commit also waits for the dirty pages of the file being received. So this writes a
// file as chat's receiver does (1 MiB writes, a datasync started in the background once
// BACKGROUND_SYNC_BYTES are unsynced, one at a time, and one at the end) and meanwhile, every
// SPACING ms as row 4 sends its messages, makes one commit in each of two SQLite databases with the
// history's settings (WAL, synchronous=FULL), and times each pair. No network, no daemon, no chat.
// Prints one JSON line: { pairsMs: number[], mibps: number }.
// usage: node bench/baselines/commits-during-writes.ts DIRECTORY BYTES [--spacing MS]
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BACKGROUND_SYNC_BYTES } from '../../src/peer/ordered-file-writer.ts';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { spacing: { type: 'string', default: '20' } } });
const [directory, sizeText] = positionals;
const size = Number(sizeText);
const spacingMs = Number(values.spacing);
if (!directory || !(size > 0) || !(spacingMs >= 0) || positionals.length > 2) {
  process.stderr.write('usage: commits-during-writes.ts DIRECTORY BYTES [--spacing MS]\n');
  process.exit(2);
}
const BLOCK_BYTES = 1024 * 1024;
const file = path.join(directory, 'commits-during-writes.bin');
const databases = ['sender', 'receiver'].map((name) => path.join(directory, `commits-during-writes-${name}.db`));

const inserts = databases.map((name) => {
  const db = new DatabaseSync(name);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)');
  return db.prepare('INSERT INTO events (body) VALUES (?)');
});
const body = JSON.stringify({ type: 'message', direction: 'in', id: '5f0c8a52-8a47-4b1e-9d61-2f1c3c1b7e01', time: new Date().toISOString(), from: 'alice', to: 'bob', text: 'bench message' });

async function writeFile(): Promise<number> {
  const block = randomBytes(BLOCK_BYTES);
  const handle = await open(file, 'w');
  const started = performance.now();
  try {
    let unsynced = 0;
    let syncing: Promise<void> | undefined;
    for (let position = 0; position < size; position += BLOCK_BYTES) {
      const length = Math.min(BLOCK_BYTES, size - position);
      await handle.write(block, 0, length, position);
      unsynced += length;
      if (unsynced >= BACKGROUND_SYNC_BYTES && !syncing) {
        unsynced = 0;
        syncing = handle.datasync().finally(() => { syncing = undefined; });
      }
    }
    await syncing;
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return size / BLOCK_BYTES / ((performance.now() - started) / 1000);
}

try {
  let writing = true;
  const written = writeFile().finally(() => { writing = false; });
  const pairsMs: number[] = [];
  // The first pair at once, so that even a small, quick file (--quick) yields one.
  do {
    const started = performance.now();
    for (const insert of inserts) insert.run(body);
    pairsMs.push(performance.now() - started);
    await sleep(spacingMs);
  } while (writing);
  process.stdout.write(`${JSON.stringify({ pairsMs, mibps: await written })}\n`);
} finally {
  for (const name of [file, ...databases.flatMap((db) => [db, `${db}-wal`, `${db}-shm`])]) rmSync(name, { force: true });
}
