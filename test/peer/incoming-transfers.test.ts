/**
 * The receiving side of transfers, two ends wired together in memory: a TransferSender on one end
 * of a duplexPair, IncomingTransfers on the other, each end decoding the other's frames and handing
 * them over as the session core would. Some tests drive the receiving side by hand instead.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { duplexPair, type Duplex } from 'node:stream';
import { afterEach, describe, test } from 'node:test';
import { PinnedDirectory } from '../../src/files/pinned-directory.ts';
import type { IncomingHandlers } from '../../src/peer/incoming-handlers.ts';
import { IncomingTransfers } from '../../src/peer/incoming-transfers.ts';
import type { ReceivedFile } from '../../src/peer/transfer-receiver.ts';
import { TransferSender } from '../../src/peer/transfer-sender.ts';
import { FrameDecoder } from '../../src/wire/decoder.ts';
import { encodeFrame, type FileChunkFrame, type Frame } from '../../src/wire/frames.ts';
import { CREDIT_STEP_BYTES, MAX_INCOMING_TRANSFERS, TRANSFER_WINDOW_BYTES } from '../../src/wire/limits.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function tempDir(label: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `chat-incoming-${label}-`));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function downloadsDir(): Promise<{ dir: string; held: PinnedDirectory }> {
  const dir = path.join(await tempDir('downloads'), 'downloads');
  mkdirSync(dir, { mode: 0o700 });
  const held = PinnedDirectory.open(dir, 'the test downloads directory');
  cleanups.push(() => held.close());
  return { dir, held };
}

/** The receiving end alone: what it sends is kept, frames are handed to it by the test. */
interface Receiving {
  incoming: IncomingTransfers;
  sent: Frame[];
  logs: string[];
  files: ReceivedFile[];
}

const ALICE = 'a'.repeat(64);

function receivingEnd(held: PinnedDirectory, handlers: Partial<IncomingHandlers> = {}, send?: (frame: Frame) => void, sender = ALICE): Receiving {
  const sent: Frame[] = [];
  const logs: string[] = [];
  const files: ReceivedFile[] = [];
  const incoming = new IncomingTransfers(
    { send: (frame) => { sent.push(frame); send?.(frame); }, isClosed: () => false, peerFingerprint: () => sender },
    {
      acceptFile: () => ({ downloads: held }),
      onFileReceived: (file) => { files.push(file); },
      log: (line) => logs.push(line),
      ...handlers,
    },
  );
  return { incoming, sent, logs, files };
}

/** Calls `onFrame` with every frame written on `from`, decoded, as a session's reader would. */
function readFrames(from: Duplex, onFrame: (frame: Frame) => void): void {
  const decoder = new FrameDecoder();
  from.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) onFrame(frame);
  });
}

/** A sender and a receiving end, joined by an in-memory duplex pair. */
function wiredTransfers(held: PinnedDirectory, handlers: Partial<IncomingHandlers> = {}): { sender: TransferSender; receiving: Receiving } {
  const [senderSide, receiverSide] = duplexPair();
  cleanups.push(() => { senderSide.destroy(); receiverSide.destroy(); });
  const sender = new TransferSender({
    send: (frame) => senderSide.write(encodeFrame(frame)),
    assertOpen: () => undefined,
    isClosed: () => false,
    socket: senderSide,
    dataTaken: () => undefined,
  });
  const receiving = receivingEnd(held, handlers, (frame) => receiverSide.write(encodeFrame(frame)));
  readFrames(receiverSide, (frame) => receiving.incoming.receive(frame as Parameters<IncomingTransfers['receive']>[0]));
  readFrames(senderSide, (frame) => sender.receive(frame as Parameters<TransferSender['receive']>[0]));
  return { sender, receiving };
}

async function sourceFile(size: number): Promise<{ path: string; data: Buffer; sha256: string }> {
  const data = randomBytes(size);
  const filePath = path.join(await tempDir('source'), 'report.bin');
  await writeFile(filePath, data);
  return { path: filePath, data, sha256: createHash('sha256').update(data).digest('hex') };
}

const isTempName = (name: string) => name.startsWith('.chat-') && name.endsWith('.part');

/** Waits for a frame the receiving end sends, by polling its list within a bound. */
async function sentFrame<K extends Frame['kind']>(receiving: Receiving, kind: K): Promise<Extract<Frame, { kind: K }>> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const frame = receiving.sent.find((f): f is Extract<Frame, { kind: K }> => f.kind === kind);
    if (frame) return frame;
    if (Date.now() > deadline) throw new Error(`no ${kind} within 5 s; sent ${receiving.sent.map((f) => f.kind).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Offers a file of `size` bytes to the receiving end and waits until it is accepted; returns its id. */
async function acceptedOffer(receiving: Receiving, name: string, size: number): Promise<string> {
  const id = randomUUID();
  receiving.incoming.receive({ kind: 'fileOffer', id, name, size });
  await sentFrame(receiving, 'fileAccept');
  return id;
}

describe('IncomingTransfers', () => {
  test('a file sent from the other end is stored under its name, verified, and acknowledged', async () => {
    const { dir, held } = await downloadsDir();
    const { sender, receiving } = wiredTransfers(held);
    const file = await sourceFile(3 * 1024 * 1024 + 17);
    const sent = await sender.send(file.path, 'report.bin', file.data.length, () => undefined);
    assert.equal(sent.sha256, file.sha256);
    assert.deepEqual(receiving.files.map(({ name, size, sha256 }) => ({ name, size, sha256 })), [{ name: 'report.bin', size: file.data.length, sha256: file.sha256 }]);
    assert.equal((await readFile(path.join(dir, 'report.bin'))).equals(file.data), true);
    assert.deepEqual(await readdir(dir), ['report.bin'], 'no temporary file left');
  });

  test('an offer the owner declines is declined with its reason', async () => {
    const { held } = await downloadsDir();
    const { sender } = wiredTransfers(held, { acceptFile: () => ({ decline: 'not today' }) });
    const file = await sourceFile(10);
    await assert.rejects(sender.send(file.path, 'report.bin', 10, () => undefined), /^PeerError: peer declined the file: not today$/);
  });

  test(`more than ${MAX_INCOMING_TRANSFERS} transfers at once are declined; reservedBytes counts what the accepted ones still have to write`, async () => {
    const { held } = await downloadsDir();
    const reserved: number[] = [];
    const receiving = receivingEnd(held, { acceptFile: (_offer, reservedBytes) => { reserved.push(reservedBytes); return { downloads: held }; } });
    const ids = Array.from({ length: MAX_INCOMING_TRANSFERS + 1 }, () => randomUUID());
    for (const id of ids) receiving.incoming.receive({ kind: 'fileOffer', id, name: `${id}.bin`, size: 100 });
    assert.deepEqual(reserved, [0, 100, 200, 300]);
    assert.deepEqual(receiving.sent, [{ kind: 'fileDecline', id: ids.at(-1)!, reason: `too many transfers at once (max ${MAX_INCOMING_TRANSFERS})` }]);
    await receiving.incoming.suspendAll();
  });

  test('frames the protocol does not allow are protocol errors', async () => {
    const { held } = await downloadsDir();
    const receiving = receivingEnd(held);
    const id = randomUUID();
    const chunk = (data: Buffer): FileChunkFrame => ({ kind: 'fileChunk', id, data });
    assert.throws(() => receiving.incoming.receive(chunk(Buffer.from('x'))), new RegExp(`^ProtocolError: frame for unknown incoming transfer ${id}$`));
    receiving.incoming.receive({ kind: 'fileOffer', id, name: 'three.bin', size: 3 });
    assert.throws(() => receiving.incoming.receive({ kind: 'fileOffer', id, name: 'again.bin', size: 3 }), /^ProtocolError: duplicate offer/);
    assert.throws(() => receiving.incoming.receive(chunk(Buffer.from('x'))), /before it was accepted$/);
    await sentFrame(receiving, 'fileAccept');
    receiving.incoming.receive(chunk(Buffer.from('ab')));
    assert.throws(() => receiving.incoming.receive(chunk(Buffer.alloc(0))), new RegExp(`^ProtocolError: empty file chunk for transfer ${id}$`));
    assert.throws(() => receiving.incoming.receive(chunk(Buffer.from('cd'))), /sent more than the 3 bytes it offered$/);
    await receiving.incoming.suspendAll();
  });

  test(`an OFFER and a CANCEL in pairs count until each file is removed: no more than ${MAX_INCOMING_TRANSFERS} files at work at once`, async () => {
    const { dir, held } = await downloadsDir();
    const receiving = receivingEnd(held);
    const ids = Array.from({ length: 3 * MAX_INCOMING_TRANSFERS }, () => randomUUID());
    for (const id of ids) {
      receiving.incoming.receive({ kind: 'fileOffer', id, name: `${id}.bin`, size: 100 });
      receiving.incoming.receive({ kind: 'fileCancel', id, reason: 'never mind' });
    }
    const declined = receiving.sent.filter((frame) => frame.kind === 'fileDecline').map((frame) => frame.id);
    assert.deepEqual(declined, ids.slice(MAX_INCOMING_TRANSFERS), 'the offers past the first four are declined while those are settling');
    assert.ok(receiving.sent.filter((frame) => frame.kind === 'fileDecline').every((frame) => frame.kind === 'fileDecline' && frame.reason === `too many transfers at once (max ${MAX_INCOMING_TRANSFERS})`));
    await receiving.incoming.suspendAll();
    assert.deepEqual(await readdir(dir), [], 'every cancelled file is gone');
    // Once they are done, offers are taken again.
    const next = await acceptedOffer(receiving, 'next.bin', 10);
    assert.ok(next);
    await receiving.incoming.abortAll();
  });

  test('after a transfer fails here, its chunks still on the wire are dropped, up to the credit it had; past it is a violation', async () => {
    const { held } = await downloadsDir();
    const receiving = receivingEnd(held);
    const size = 3 * TRANSFER_WINDOW_BYTES;
    const id = await acceptedOffer(receiving, 'big.bin', size);
    assert.equal((await sentFrame(receiving, 'fileCredit')).until, TRANSFER_WINDOW_BYTES);
    receiving.incoming.receive({ kind: 'fileChunk', id, data: Buffer.alloc(1000) });
    assert.equal(receiving.incoming.cancel(id, 'not wanted'), true);
    // The sender had credit for TRANSFER_WINDOW_BYTES and sent 1000: the rest may still come, and is dropped.
    receiving.incoming.receive({ kind: 'fileChunk', id, data: Buffer.alloc(TRANSFER_WINDOW_BYTES - 1000) });
    assert.throws(() => receiving.incoming.receive({ kind: 'fileChunk', id, data: Buffer.alloc(1) }), new RegExp(`^ProtocolError: transfer ${id} sent beyond its credit after it failed here$`));
    assert.throws(() => receiving.incoming.receive({ kind: 'fileChunk', id, data: Buffer.alloc(0) }), /empty file chunk/);
    await receiving.incoming.abortAll();
  });

  test('the sender may send TRANSFER_WINDOW_BYTES past what is on disk: credit comes with the ACCEPT and grows in steps as the disk writes', async () => {
    const { held } = await downloadsDir();
    const receiving = receivingEnd(held);
    const size = 3 * TRANSFER_WINDOW_BYTES + 100;
    const id = await acceptedOffer(receiving, 'big.bin', size);
    const credits = () => receiving.sent.filter((f) => f.kind === 'fileCredit').map((f) => (f as { until: number }).until);
    assert.deepEqual(credits(), [TRANSFER_WINDOW_BYTES], 'the first credit, right after the ACCEPT');
    const piece = randomBytes(64 * 1024);
    let sent = 0;
    const deadline = Date.now() + 10_000;
    while (sent < size) {
      const until = Math.max(...credits());
      while (sent < until) {
        const data = piece.subarray(0, Math.min(piece.length, until - sent));
        receiving.incoming.receive({ kind: 'fileChunk', id, data });
        sent += data.length;
      }
      while (Math.max(...credits()) === until && sent < size) {
        assert.ok(Date.now() < deadline, `no more credit after ${sent} bytes: ${credits().join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    const all = credits();
    assert.equal(all.at(-1), size, 'the last credit is the file\'s end');
    for (let i = 1; i < all.length; i++) {
      assert.ok(all[i]! > all[i - 1]!, `credit grows: ${all.join(', ')}`);
      if (i < all.length - 1) assert.ok(all[i]! - all[i - 1]! >= CREDIT_STEP_BYTES, `in steps of at least ${CREDIT_STEP_BYTES}: ${all.join(', ')}`);
    }
    await receiving.incoming.suspendAll();
  });

  test('a chunk beyond the credit is a violation, also for a small file and for a transfer offered again', async () => {
    const { held } = await downloadsDir();
    const receiving = receivingEnd(held);
    const size = TRANSFER_WINDOW_BYTES * 2;
    const id = await acceptedOffer(receiving, 'big.bin', size);
    const piece = Buffer.alloc(TRANSFER_WINDOW_BYTES);
    receiving.incoming.receive({ kind: 'fileChunk', id, data: piece });
    assert.throws(() => receiving.incoming.receive({ kind: 'fileChunk', id, data: Buffer.alloc(1) }), /sent beyond its credit \(4194304 bytes\)$/);
    await receiving.incoming.suspendAll();
    // Offered again on the next connection: the credit starts from what is on disk.
    const again = receivingEnd(held);
    again.incoming.receive({ kind: 'fileOffer', id, name: 'big.bin', size });
    const accept = await sentFrame(again, 'fileAccept');
    assert.equal(accept.offset, TRANSFER_WINDOW_BYTES);
    assert.equal((await sentFrame(again, 'fileCredit')).until, size);
    again.incoming.receive({ kind: 'fileChunk', id, data: piece });
    await again.incoming.abortAll();
    const small = receivingEnd(held);
    const smallId = await acceptedOffer(small, 'small.bin', 10);
    assert.equal((await sentFrame(small, 'fileCredit')).until, 10);
    assert.throws(() => small.incoming.receive({ kind: 'fileChunk', id: smallId, data: Buffer.alloc(11) }), /more than the 10 bytes it offered$/);
    await small.incoming.abortAll();
  });

  test('a cancelled transfer is logged and its partial file removed', async () => {
    const { dir, held } = await downloadsDir();
    const receiving = receivingEnd(held);
    const id = await acceptedOffer(receiving, 'half.bin', 10);
    receiving.incoming.receive({ kind: 'fileChunk', id, data: Buffer.from('hello') });
    receiving.incoming.receive({ kind: 'fileCancel', id, reason: 'changed my mind' });
    assert.deepEqual(receiving.logs, [`peer cancelled transfer ${id}: "changed my mind"`]);
    await receiving.incoming.suspendAll();
    assert.deepEqual(await readdir(dir), []);
    // A cancel that crosses our result is no violation.
    receiving.incoming.receive({ kind: 'fileCancel', id, reason: 'late' });
  });

  test('the owner is told of a cancel by the sender, in progress (onPeerCancelled) or not (discardKept, with the sender\'s key), and of a resume', async () => {
    const { held } = await downloadsDir();
    const told: string[] = [];
    const receiving = receivingEnd(held, {
      onPeerCancelled: (id, name, size, reason) => { told.push(`cancelled ${id} ${name} ${size} ${reason}`); },
      discardKept: async (id, sender, reason) => { told.push(`discard ${id} ${sender} ${reason}`); },
      onResumed: (offer, offset) => { told.push(`resumed ${offer.id} ${offset}`); },
    });
    const id = await acceptedOffer(receiving, 'half.bin', 10);
    receiving.incoming.receive({ kind: 'fileChunk', id, data: Buffer.from('hello') });
    receiving.incoming.receive({ kind: 'fileCancel', id, reason: 'gone' });
    const kept = randomUUID();
    receiving.incoming.receive({ kind: 'fileCancel', id: kept, reason: 'given up' });
    await receiving.incoming.suspendAll();
    assert.deepEqual(told, [`cancelled ${id} half.bin 10 gone`, `discard ${kept} ${ALICE} given up`]);

    // A transfer offered again with data on disk: the owner hears where it resumes.
    const again = receivingEnd(held, { onResumed: (offer, offset) => { told.push(`resumed ${offer.id} ${offset}`); } });
    const resumed = await acceptedOffer(again, 'resume.bin', 10);
    again.incoming.receive({ kind: 'fileChunk', id: resumed, data: Buffer.from('hello') });
    await again.incoming.suspendAll();
    const third = receivingEnd(held, { onResumed: (offer, offset) => { told.push(`resumed ${offer.id} ${offset}`); } });
    third.incoming.receive({ kind: 'fileOffer', id: resumed, name: 'resume.bin', size: 10 });
    assert.equal((await sentFrame(third, 'fileAccept')).offset, 5);
    assert.equal(told.at(-1), `resumed ${resumed} 5`);
    await third.incoming.abortAll();
  });

  test('suspendAll resolves once every partial file is synced and closed, and keeps each that holds data with its record', async () => {
    const { dir, held } = await downloadsDir();
    const receiving = receivingEnd(held);
    const writing = await acceptedOffer(receiving, 'writing.bin', 8 * 1024 * 1024);
    for (let i = 0; i < 64; i++) receiving.incoming.receive({ kind: 'fileChunk', id: writing, data: randomBytes(64 * 1024) });
    // Offered last: its temporary file is still being created when the connection ends.
    const opening = randomUUID();
    receiving.incoming.receive({ kind: 'fileOffer', id: opening, name: 'opening.bin', size: 10 });
    assert.ok((await readdir(dir)).some(isTempName), 'a partial file exists');
    await receiving.incoming.suspendAll();
    assert.deepEqual((await readdir(dir)).sort(), [`.chat-${writing}.part`, `.chat-${writing}.state`], `kept: what has data; not the empty one of ${opening}`);
    assert.equal((await stat(path.join(dir, `.chat-${writing}.part`))).size, 4 * 1024 * 1024, 'everything received is on disk');
    const record = JSON.parse(await readFile(path.join(dir, `.chat-${writing}.state`), 'utf8'));
    assert.deepEqual({ ...record, started: 0 }, { id: writing, name: 'writing.bin', size: 8 * 1024 * 1024, sender: ALICE, started: 0 });
  });

  test('the same sender offering the same transfer again continues at what is on disk, and the whole file is verified', async () => {
    const { dir, held } = await downloadsDir();
    const data = randomBytes(3 * 1024 * 1024 + 5);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const id = randomUUID();
    const first = receivingEnd(held);
    first.incoming.receive({ kind: 'fileOffer', id, name: 'resumed.bin', size: data.length });
    assert.equal((await sentFrame(first, 'fileAccept')).offset, 0);
    const cut = 1024 * 1024 + 3;
    first.incoming.receive({ kind: 'fileChunk', id, data: data.subarray(0, cut) });
    await first.incoming.suspendAll();

    // Another key offering the same id gets nothing of it.
    const mallory = receivingEnd(held, {}, undefined, 'b'.repeat(64));
    mallory.incoming.receive({ kind: 'fileOffer', id, name: 'resumed.bin', size: data.length });
    assert.equal((await sentFrame(mallory, 'fileDecline')).reason, 'receiver cannot write to its downloads directory');

    const second = receivingEnd(held);
    second.incoming.receive({ kind: 'fileOffer', id, name: 'resumed.bin', size: data.length });
    assert.equal((await sentFrame(second, 'fileAccept')).offset, cut, 'continues where the first connection stopped');
    second.incoming.receive({ kind: 'fileChunk', id, data: data.subarray(cut) });
    second.incoming.receive({ kind: 'fileEnd', id, sha256 });
    const result = await sentFrame(second, 'fileResult');
    assert.equal(result.ok, true, result.reason);
    assert.equal(result.sha256, sha256);
    assert.equal((await readFile(path.join(dir, 'resumed.bin'))).equals(data), true);
    assert.deepEqual(await readdir(dir), ['resumed.bin'], 'neither the partial file nor its record is left');

    // Its sender missed the result (it died, the link dropped) and offers it again; the owner
    // remembers it: nothing crosses again, FILE_END's hash is checked, nothing is stored twice.
    const remembered = { completedBefore: (seen: string, sender: string, size: number) => (seen === id && sender === ALICE && size === data.length ? { sha256, stored: 'resumed.bin' } : undefined) };
    const third = receivingEnd(held, remembered);
    third.incoming.receive({ kind: 'fileOffer', id, name: 'resumed.bin', size: data.length });
    assert.equal((await sentFrame(third, 'fileAccept')).offset, data.length);
    assert.throws(() => third.incoming.receive({ kind: 'fileChunk', id, data: Buffer.from('x') }), /sent more than/);
    await third.incoming.abortAll();
    const fourth = receivingEnd(held, remembered);
    fourth.incoming.receive({ kind: 'fileOffer', id, name: 'resumed.bin', size: data.length });
    assert.equal((await sentFrame(fourth, 'fileAccept')).offset, data.length);
    fourth.incoming.receive({ kind: 'fileEnd', id, sha256: 'ab'.repeat(32) });
    assert.match((await sentFrame(fourth, 'fileResult')).reason, /^SHA-256 mismatch: stored /, 'another hash is not this file');
    const fifth = receivingEnd(held, remembered);
    fifth.incoming.receive({ kind: 'fileOffer', id, name: 'resumed.bin', size: data.length });
    assert.equal((await sentFrame(fifth, 'fileAccept')).offset, data.length);
    fifth.incoming.receive({ kind: 'fileEnd', id, sha256 });
    const again = await sentFrame(fifth, 'fileResult');
    assert.equal(again.ok, true, again.reason);
    assert.equal(again.sha256, sha256);
    assert.equal(fifth.files[0]?.again, true);
    assert.deepEqual(await readdir(dir), ['resumed.bin'], 'the stored file is kept, and not stored twice');
    assert.equal((await readFile(path.join(dir, 'resumed.bin'))).equals(data), true);
  });

  test('a sender continues from the offset the receiver holds: only the rest crosses the wire, the hash covers it all', async () => {
    const { dir, held } = await downloadsDir();
    const file = await sourceFile(2 * 1024 * 1024 + 9);
    const { mtimeMs } = await stat(file.path);
    const id = randomUUID();
    const first = receivingEnd(held);
    first.incoming.receive({ kind: 'fileOffer', id, name: 'report.bin', size: file.data.length });
    await sentFrame(first, 'fileAccept');
    first.incoming.receive({ kind: 'fileChunk', id, data: file.data.subarray(0, 1024 * 1024) });
    await first.incoming.suspendAll();
    const { sender, receiving } = wiredTransfers(held);
    const progress: number[] = [];
    const sent = await sender.send(file.path, 'report.bin', file.data.length, (bytes) => progress.push(bytes), { id, mtimeMs });
    assert.equal(sent.sha256, file.sha256);
    assert.equal(progress[0]! > 1024 * 1024, true, 'progress starts past what the receiver held');
    assert.equal(receiving.files.length, 1);
    assert.equal((await readFile(path.join(dir, 'report.bin'))).equals(file.data), true);
  });

  test('a source file changed since the transfer started fails it on both sides', async () => {
    const { dir, held } = await downloadsDir();
    const file = await sourceFile(1000);
    const { sender, receiving } = wiredTransfers(held);
    await assert.rejects(
      sender.send(file.path, 'report.bin', 1000, () => undefined, { id: randomUUID(), mtimeMs: 1 }),
      /^PeerError: .*report\.bin changed since the transfer started \(modified\): send it again$/,
    );
    const deadline = Date.now() + 5_000;
    while (!receiving.logs.some((line) => line.includes('changed since the transfer started')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.match(receiving.logs.join('\n'), /peer cancelled transfer .*changed since the transfer started/);
    await receiving.incoming.suspendAll();
    assert.deepEqual(await readdir(dir), [], 'the receiver dropped its partial file');
  });

  test('the disk filling while the last chunks are written, FILE_END already in, keeps the partial file and answers "later"', async (t) => {
    // A 1 MiB tmpfs: a 3 MiB file cannot fit, and all of it (and its FILE_END) is in before the
    // first write finishes, so the write fails after the end was received.
    const dir = path.join(await tempDir('small'), 'downloads');
    mkdirSync(dir, { mode: 0o700 });
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir], { encoding: 'utf8' });
    if (mount.status !== 0) {
      t.skip('cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)');
      return;
    }
    cleanups.push(() => { spawnSync('umount', ['-l', dir]); });
    const held = PinnedDirectory.open(dir, 'the small downloads directory');
    cleanups.push(() => held.close());
    const waiting: Array<{ id: string; reason: string }> = [];
    const receiving = receivingEnd(held, {
      onWaitingForRoom: (id, reason) => waiting.push({ id, reason }),
      onFailed: (id) => assert.fail(`transfer ${id} waits for room: it has not failed`),
      writeFailureReason: () => "disk full on bob's side",
    });
    const size = 3 * 1024 * 1024;
    const id = await acceptedOffer(receiving, 'big.bin', size);
    const data = randomBytes(size);
    for (let at = 0; at < size; at += 64 * 1024) receiving.incoming.receive({ kind: 'fileChunk', id, data: data.subarray(at, at + 64 * 1024) });
    receiving.incoming.receive({ kind: 'fileEnd', id, sha256: createHash('sha256').update(data).digest('hex') });
    const result = await sentFrame(receiving, 'fileResult');
    assert.deepEqual(result, { kind: 'fileResult', id, ok: false, sha256: '', reason: "disk full on bob's side", later: true });
    assert.deepEqual(waiting, [{ id, reason: "disk full on bob's side" }]);
    assert.match(receiving.logs.join('\n'), new RegExp(`transfer ${id} waits for room: disk full on bob's side \\(ENOSPC`));
    await receiving.incoming.suspendAll();
    const kept = (await readdir(dir)).filter(isTempName);
    assert.equal(kept.length, 1, 'the partial file is kept for the offer once there is room');
    assert.equal((await stat(path.join(dir, kept[0]!))).size > 0, true, 'with what fitted on the disk');
    assert.equal(receiving.files.length, 0);
  });

  test('a transfer whose FILE_END is in is finishing: too late to cancel, its file is stored whole', async () => {
    const { dir, held } = await downloadsDir();
    const receiving = receivingEnd(held);
    const data = randomBytes(1024 * 1024);
    const id = await acceptedOffer(receiving, 'whole.bin', data.length);
    receiving.incoming.receive({ kind: 'fileChunk', id, data });
    assert.equal(receiving.incoming.isFinishing(id), false, 'not before its end');
    receiving.incoming.receive({ kind: 'fileEnd', id, sha256: createHash('sha256').update(data).digest('hex') });
    assert.equal(receiving.incoming.isFinishing(id), true);
    assert.equal(receiving.incoming.cancel(id, 'too late'), false);
    const result = await sentFrame(receiving, 'fileResult');
    assert.equal(result.ok, true, result.reason);
    assert.equal(receiving.incoming.isFinishing(id), false, 'finished');
    assert.equal((await readFile(path.join(dir, 'whole.bin'))).equals(data), true);
  });

  test('a transfer whose data does not match its hash fails with the reason and leaves nothing', async () => {
    const { dir, held } = await downloadsDir();
    const failures: string[][] = [];
    const receiving = receivingEnd(held, { onFailed: (...args) => failures.push(args.map(String)) });
    const id = await acceptedOffer(receiving, 'bad.bin', 3);
    receiving.incoming.receive({ kind: 'fileChunk', id, data: Buffer.from('abc') });
    receiving.incoming.receive({ kind: 'fileEnd', id, sha256: 'ab'.repeat(32) });
    const result = await sentFrame(receiving, 'fileResult');
    assert.equal(result.ok, false);
    assert.match(result.reason, /^SHA-256 mismatch: got [0-9a-f]{64}, sender says (ab){32}$/);
    assert.match(receiving.logs.join('\n'), /transfer .* failed: "SHA-256 mismatch/);
    assert.deepEqual(failures, [[id, 'bad.bin', '3', result.reason]], 'the owner is told, to record it');
    await receiving.incoming.suspendAll();
    assert.deepEqual(await readdir(dir), []);
    assert.equal(receiving.files.length, 0);
  });
});
