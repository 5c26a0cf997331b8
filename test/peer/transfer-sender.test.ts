/**
 * The sending side of transfers on an in-memory wire: the test plays the receiver, reading the
 * frames the sender writes and answering through `receive`, as the session core would pass them.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { PeerError } from '../../src/peer/session-end.ts';
import { bytesReadAgainToHash, MAX_SENT_HASH_FILES, SENT_HASH_POINT_BYTES } from '../../src/peer/sent-hashes.ts';
import { WaitingForRoomError } from '../../src/peer/transfer-outcomes.ts';
import { TransferSender } from '../../src/peer/transfer-sender.ts';
import type { Frame } from '../../src/wire/frames.ts';
import { FILE_CHUNK_BYTES, FILE_READ_BYTES } from '../../src/wire/limits.ts';
import { FrameWire } from '../helpers/frame-wire.ts';

let dir: string;
const wires: FrameWire[] = [];

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chat-sender-'));
});
after(() => rm(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const wire of wires.splice(0)) wire.destroy();
});

interface Harness {
  wire: FrameWire;
  sender: TransferSender;
  /** Ends the connection as the session would: later calls fail, waiting transfers fail with `error`. */
  end(error: PeerError): void;
  dataTaken: () => number;
}

function harness(): Harness {
  const wire = new FrameWire();
  wires.push(wire);
  let ended: PeerError | undefined;
  let taken = 0;
  const sender = new TransferSender({
    send: (frame) => wire.send(frame),
    assertOpen: () => {
      if (ended) throw ended;
    },
    isClosed: () => ended !== undefined,
    socket: wire.near,
    dataTaken: () => taken++,
  });
  return {
    wire,
    sender,
    end(error) {
      ended = error;
      sender.fail(error);
    },
    dataTaken: () => taken,
  };
}

async function sourceFile(name: string, size: number): Promise<{ path: string; data: Buffer; sha256: string }> {
  const data = randomBytes(size);
  const filePath = path.join(dir, name);
  await writeFile(filePath, data);
  return { path: filePath, data, sha256: createHash('sha256').update(data).digest('hex') };
}

/** A harness whose sender has offered a new file of `size` bytes as `name`, announced as `announced` bytes; the offer is on the wire. */
async function offered(name: string, size: number, announced = size) {
  const parts = harness();
  const file = await sourceFile(name, size);
  const sending = parts.sender.send(file.path, name, announced, () => undefined);
  const offer = await parts.wire.waitFor('fileOffer');
  return { ...parts, file, sending, offer };
}

/** Answers an offer as an honest receiver with room for it all: ACCEPT from 0, credit to the end. */
function acceptAll(sender: TransferSender, offer: { id: string; size: number }): void {
  sender.receive({ kind: 'fileAccept', id: offer.id, offset: 0 });
  sender.receive({ kind: 'fileCredit', id: offer.id, until: offer.size });
}

function chunksOf(frames: Frame[], id: string): Buffer[] {
  return frames.flatMap((frame) => (frame.kind === 'fileChunk' && frame.id === id ? [frame.data] : []));
}

describe('TransferSender', () => {
  test('offers, streams exactly the file as chunks, ends with its SHA-256 and resolves on a matching result', async () => {
    const { wire, sender, dataTaken } = harness();
    const file = await sourceFile('two-blocks.bin', FILE_READ_BYTES + 1000);
    const progress: number[] = [];
    const sending = sender.send(file.path, 'two-blocks.bin', file.data.length, (bytes) => progress.push(bytes));
    const offer = await wire.waitFor('fileOffer');
    assert.deepEqual(offer, { kind: 'fileOffer', id: offer.id, name: 'two-blocks.bin', size: file.data.length });
    acceptAll(sender, offer);
    const end = await wire.waitFor('fileEnd');
    assert.equal(end.sha256, file.sha256);
    const chunks = chunksOf(wire.frames, offer.id);
    assert.ok(chunks.every((chunk) => chunk.length <= FILE_CHUNK_BYTES));
    assert.equal(Buffer.concat(chunks).equals(file.data), true, 'the bytes arrive whole and in order');
    sender.receive({ kind: 'fileResult', id: offer.id, ok: true, sha256: file.sha256, reason: '' });
    assert.deepEqual(await sending, { id: offer.id, name: 'two-blocks.bin', size: file.data.length, sha256: file.sha256 });
    assert.deepEqual(progress, [FILE_READ_BYTES, file.data.length]);
    assert.ok(dataTaken() >= 2, 'each flushed block counts as the peer still reading');
  });

  test('a declined offer rejects with the receiver\'s reason, and nothing more is sent', async () => {
    const { wire, sender, sending, offer } = await offered('declined.bin', 10);
    sender.receive({ kind: 'fileDecline', id: offer.id, reason: 'disk full' });
    await assert.rejects(sending, (error) => error instanceof PeerError && error.message === 'peer declined the file: disk full' && error.end === undefined);
    assert.deepEqual(wire.frames.map((frame) => frame.kind), ['fileOffer'], 'no cancel: the receiver already forgot it');
  });

  test('a receiver that stored something else fails the transfer', async () => {
    const { wire, sender, sending, offer } = await offered('other.bin', 100);
    acceptAll(sender, offer);
    await wire.waitFor('fileEnd');
    sender.receive({ kind: 'fileResult', id: offer.id, ok: true, sha256: 'cd'.repeat(32), reason: '' });
    await assert.rejects(sending, /^PeerError: receiver stored a different file \(SHA-256 c/);
  });

  test('a file that grows while it is sent: exactly the offered bytes go out', async () => {
    const { wire, sender, file, sending, offer } = await offered('growing.log', 5000, 3000);
    acceptAll(sender, offer);
    const end = await wire.waitFor('fileEnd');
    const sent = Buffer.concat(chunksOf(wire.frames, offer.id));
    assert.equal(sent.equals(file.data.subarray(0, 3000)), true);
    sender.receive({ kind: 'fileResult', id: offer.id, ok: true, sha256: end.sha256, reason: '' });
    assert.equal((await sending).size, 3000);
  });

  test('a file that shrank is cancelled with the reason', async () => {
    const { wire, sender } = harness();
    const file = await sourceFile('shrinking.bin', 1000);
    await truncate(file.path, 400);
    const sending = sender.send(file.path, 'shrinking.bin', 1000, () => undefined);
    const offer = await wire.waitFor('fileOffer');
    acceptAll(sender, offer);
    await assert.rejects(sending, /shrank while it was being sent \(400 of 1000 bytes\)/);
    const cancel = await wire.waitFor('fileCancel');
    assert.match(cancel.reason, /shrank while it was being sent/);
  });

  test('an accept offset past the file\'s end, and answers for unknown transfers, are protocol errors', async () => {
    const { sender, sending, offer } = await offered('small.bin', 10);
    assert.throws(() => sender.receive({ kind: 'fileAccept', id: offer.id, offset: 11 }), /^ProtocolError: accept offset 11 beyond the file's end$/);
    const unknown = '00000000-0000-4000-8000-000000000000';
    assert.throws(() => sender.receive({ kind: 'fileResult', id: unknown, ok: true, sha256: '', reason: '' }),
      new RegExp(`^ProtocolError: frame for unknown outgoing transfer ${unknown}$`));
    sender.receive({ kind: 'fileDecline', id: offer.id, reason: 'done' });
    await assert.rejects(sending, PeerError);
  });

  test('a second answer to one offer (ACCEPT or DECLINE after an ACCEPT), and a success before any, are protocol errors', async () => {
    const { sender, sending, offer } = await offered('answered.bin', 10);
    assert.throws(() => sender.receive({ kind: 'fileResult', id: offer.id, ok: true, sha256: 'ab'.repeat(32), reason: '' }),
      /^ProtocolError: file result for transfer .* before it was accepted$/);
    acceptAll(sender, offer);
    assert.throws(() => sender.receive({ kind: 'fileAccept', id: offer.id, offset: 5 }), /^ProtocolError: second answer to the offer of transfer /);
    assert.throws(() => sender.receive({ kind: 'fileDecline', id: offer.id, reason: 'no' }), /^ProtocolError: second answer to the offer of transfer /);
    sender.receive({ kind: 'fileResult', id: offer.id, ok: false, sha256: '', reason: 'stop' });
    await assert.rejects(sending, /peer could not store the file: stop/);
  });

  test('a failed result in place of the ACCEPT ends the transfer (it does not wait for an ACCEPT forever)', async () => {
    const { sender, sending, offer } = await offered('early.bin', 10);
    sender.receive({ kind: 'fileResult', id: offer.id, ok: false, sha256: '', reason: 'cancelled by bob (chat transfers cancel)' });
    await assert.rejects(sending, /cancelled by bob/);
  });

  test('"later" (no room on the receiver, a DECLINE or a failed RESULT) is a WaitingForRoomError, and no FILE_CANCEL drops what the receiver keeps', async () => {
    for (const answer of ['decline', 'result'] as const) {
      const { wire, sender, sending, offer } = await offered(`later-${answer}.bin`, 3 * FILE_READ_BYTES);
      const reason = "disk full on bob's side: 0 B free";
      if (answer === 'decline') {
        sender.receive({ kind: 'fileDecline', id: offer.id, reason, later: true });
      } else {
        acceptAll(sender, offer);
        await wire.waitFor('fileChunk');
        sender.receive({ kind: 'fileResult', id: offer.id, ok: false, sha256: '', reason, later: true });
      }
      await assert.rejects(sending, (error) => error instanceof WaitingForRoomError && error.reason === reason && /^peer could not store the file: disk full/.test(error.message));
      // Whatever else was on its way has left: the transfer is not cancelled on the wire.
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(!wire.frames.some((frame) => frame.kind === 'fileCancel'), answer);
      // Given up later (chat transfers cancel), the receiver is told so that it drops its partial file.
      assert.equal(sender.cancelKept(offer.id, 'cancelled by alice'), true);
      await wire.waitFor('fileCancel', (cancel) => cancel.id === offer.id && cancel.reason === 'cancelled by alice');
    }
  });

  test('the connection ending fails a waiting offer and a transfer in the middle of its data', async () => {
    const { wire, sender, end } = harness();
    const small = await sourceFile('waiting.bin', 10);
    const big = await sourceFile('big.bin', 8 * FILE_READ_BYTES);
    const waiting = sender.send(small.path, 'waiting.bin', 10, () => undefined);
    const streaming = sender.send(big.path, 'big.bin', big.data.length, () => undefined);
    const offer = await wire.waitFor('fileOffer', (frame) => frame.name === 'big.bin');
    // The far end stops reading: the pool's two blocks stay unflushed, so the transfer waits for one.
    wire.pause();
    acceptAll(sender, offer);
    const gone = new PeerError('peer connection closed: test over');
    setImmediate(() => end(gone));
    await assert.rejects(waiting, (error) => error === gone);
    await assert.rejects(streaming, (error) => error === gone);
  });

  test('streams no further than the receiver\'s credit, and goes on as more comes', async () => {
    const { wire, sender, sending, offer, file } = await offered('credited.bin', 3 * FILE_READ_BYTES);
    const sentBytes = () => chunksOf(wire.frames, offer.id).reduce((total, chunk) => total + chunk.length, 0);
    sender.receive({ kind: 'fileAccept', id: offer.id, offset: 0 });
    // No credit yet: nothing goes out.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(sentBytes(), 0);
    sender.receive({ kind: 'fileCredit', id: offer.id, until: 100_000 });
    await wire.waitFor('fileChunk');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(sentBytes() > 0 && sentBytes() <= 100_000, `${sentBytes()} bytes sent on 100000 of credit`);
    assert.ok(!wire.frames.some((frame) => frame.kind === 'fileEnd'));
    // The same credit again changes nothing; more lets it finish.
    sender.receive({ kind: 'fileCredit', id: offer.id, until: 100_000 });
    sender.receive({ kind: 'fileCredit', id: offer.id, until: file.data.length });
    const end = await wire.waitFor('fileEnd');
    assert.equal(Buffer.concat(chunksOf(wire.frames, offer.id)).equals(file.data), true);
    sender.receive({ kind: 'fileResult', id: offer.id, ok: true, sha256: end.sha256, reason: '' });
    await sending;
    // Credit that crossed the end on the wire is no violation.
    sender.receive({ kind: 'fileCredit', id: offer.id, until: file.data.length });
  });

  test('credit before the ACCEPT, past the file\'s end, or going back is a protocol error', async () => {
    const { sender, sending, offer } = await offered('credit-rules.bin', 1000);
    assert.throws(() => sender.receive({ kind: 'fileCredit', id: offer.id, until: 10 }), /^ProtocolError: credit for transfer \S+ before it was accepted$/);
    sender.receive({ kind: 'fileAccept', id: offer.id, offset: 0 });
    assert.throws(() => sender.receive({ kind: 'fileCredit', id: offer.id, until: 1001 }), /^ProtocolError: credit for transfer \S+ beyond the file's end$/);
    sender.receive({ kind: 'fileCredit', id: offer.id, until: 500 });
    assert.throws(() => sender.receive({ kind: 'fileCredit', id: offer.id, until: 499 }), /^ProtocolError: credit for transfer \S+ went back from 500 to 499$/);
    sender.receive({ kind: 'fileResult', id: offer.id, ok: false, sha256: '', reason: 'stop' });
    await assert.rejects(sending, /peer could not store the file: stop/);
  });

  test('a transfer waiting for credit fails when the connection ends or the receiver fails it', async () => {
    for (const how of ['connection', 'receiver'] as const) {
      const { sender, sending, offer, end, wire } = await offered(`starved-${how}.bin`, 2 * FILE_READ_BYTES);
      sender.receive({ kind: 'fileAccept', id: offer.id, offset: 0 });
      sender.receive({ kind: 'fileCredit', id: offer.id, until: 2 * FILE_CHUNK_BYTES });
      await wire.waitFor('fileChunk');
      if (how === 'connection') {
        const gone = new PeerError('peer connection closed: test over');
        end(gone);
        await assert.rejects(sending, (error) => error === gone);
      } else {
        sender.receive({ kind: 'fileResult', id: offer.id, ok: false, sha256: '', reason: 'I/O error' });
        await assert.rejects(sending, /peer could not store the file: I\/O error/);
      }
    }
  });

  test('a file that cannot be opened rejects, and leaves no close watcher behind', async () => {
    const { wire, sender } = harness();
    const sending = sender.send(path.join(dir, 'missing.bin'), 'missing.bin', 10, () => undefined);
    const offer = await wire.waitFor('fileOffer');
    acceptAll(sender, offer);
    await assert.rejects(sending, /ENOENT/);
    assert.equal((Reflect.get(sender, 'closeWatchers') as Set<unknown>).size, 0);
    await wire.waitFor('fileCancel', (cancel) => cancel.id === offer.id && /ENOENT/.test(cancel.reason));
  });
});

describe('continuing a transfer in the same process', () => {
  /** Sent up to here when the connection drops: a whole number of read blocks, past two kept points. */
  const dropAt = 18 * FILE_READ_BYTES;
  /** What the receiver says it holds: a little less than was sent, and not on a chunk boundary. */
  const heldByReceiver = dropAt - 3;

  const sentBytes = (wire: FrameWire, id: string) => chunksOf(wire.frames, id).reduce((total, chunk) => total + chunk.length, 0);

  /** Sends `file` as far as credit for `until` bytes goes, then the connection ends; returns the transfer's id. */
  async function droppedAt(file: { path: string; data: Buffer }, until: number): Promise<string> {
    const { wire, sender, end } = harness();
    const sending = sender.send(file.path, 'resumed.bin', file.data.length, () => undefined);
    const offer = await wire.waitFor('fileOffer');
    sender.receive({ kind: 'fileAccept', id: offer.id, offset: 0 });
    sender.receive({ kind: 'fileCredit', id: offer.id, until });
    for (const deadline = Date.now() + 10_000; sentBytes(wire, offer.id) < until;) {
      if (Date.now() > deadline) assert.fail(`${sentBytes(wire, offer.id)} of ${until} bytes sent within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    end(new PeerError('peer connection closed: test'));
    await assert.rejects(sending, /test/);
    return offer.id;
  }

  /** Offers `id` again, as the outbox does after a reconnect; the receiver holds `held` bytes. Returns the bytes read again to hash. */
  async function continued(file: { path: string; data: Buffer; sha256: string }, id: string, held: number): Promise<number> {
    const { wire, sender } = harness();
    const sending = sender.send(file.path, 'resumed.bin', file.data.length, () => undefined, { id, mtimeMs: (await stat(file.path)).mtimeMs });
    await wire.waitFor('fileOffer');
    const before = bytesReadAgainToHash();
    sender.receive({ kind: 'fileAccept', id, offset: held });
    sender.receive({ kind: 'fileCredit', id, until: file.data.length });
    const end = await wire.waitFor('fileEnd', () => true, 10_000);
    assert.equal(end.sha256, file.sha256, 'FILE_END covers the whole file');
    assert.equal(Buffer.concat(chunksOf(wire.frames, id)).equals(file.data.subarray(held)), true, 'the rest, from the offset');
    sender.receive({ kind: 'fileResult', id, ok: true, sha256: end.sha256, reason: '' });
    await sending;
    return bytesReadAgainToHash() - before;
  }

  test('hashes from the nearest point it kept before the receiver\'s offset, not from the start', async () => {
    const file = await sourceFile('resumed.bin', 20 * FILE_READ_BYTES + 11);
    const id = await droppedAt(file, dropAt);
    const readAgain = await continued(file, id, heldByReceiver);
    assert.ok(readAgain > 0 && readAgain < SENT_HASH_POINT_BYTES, `${readAgain} bytes read again of ${heldByReceiver}`);
  });

  test('a file changed since (only its ctime tells) is hashed from the start', async () => {
    const file = await sourceFile('touched.bin', 20 * FILE_READ_BYTES + 11);
    const id = await droppedAt(file, dropAt);
    // Kernels before 6.13 stamp file times from a clock of one tick (up to 10 ms).
    await new Promise((resolve) => setTimeout(resolve, 20));
    await chmod(file.path, 0o640);
    assert.equal(await continued(file, id, heldByReceiver), heldByReceiver);
  });

  test(`points are kept for the last ${MAX_SENT_HASH_FILES} transfers: an older one is hashed from the start`, async () => {
    const file = await sourceFile('pushed-out.bin', 20 * FILE_READ_BYTES + 11);
    const id = await droppedAt(file, dropAt);
    const other = await sourceFile('other.bin', 10);
    for (let i = 0; i < MAX_SENT_HASH_FILES; i++) await droppedAt(other, 0);
    assert.equal(await continued(file, id, heldByReceiver), heldByReceiver);
  });
});
