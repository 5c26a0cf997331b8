// What one peer can make a session hold and do: the output it leaves unread is bounded and costs
// it the connection, its frames are paced (read later, never dropped), and file data before the
// offer was accepted is a protocol violation. Two endpoints over a real loopback socket pair.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, test } from 'node:test';
import type { FrameRates } from '../../src/peer/frame-inbox.ts';
import { PeerError, PeerSession, type KeepaliveOptions } from '../../src/peer/session.ts';
import type { ReceivedFile } from '../../src/peer/transfer-receiver.ts';
import { PinnedDirectory } from '../../src/files/pinned-directory.ts';
import { encodeFrame, FrameType, type Frame, type MessageFrame } from '../../src/wire/frames.ts';
import {
  FRAME_HEADER_BYTES,
  MAX_FRAME_BYTES,
  MAX_HELLO_FRAME_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_QUEUED_OUTPUT_BYTES,
  MESSAGE_BYTE_BURST,
  MESSAGE_BYTES_PER_SECOND,
  OUTPUT_HIGH_WATER_BYTES,
} from '../../src/wire/limits.ts';
import { FramePeer } from '../helpers/frame-peer.ts';
import { createSocketPair, type SocketPair } from '../helpers/socket-pair.ts';
import { within } from '../helpers/within.ts';

const MiB = 1024 * 1024;
const SOON_MS = 5_000;
/** Short keepalive, so "leaves its answers unread for the silence limit" happens within a test. */
const FAST_KEEPALIVE: KeepaliveOptions = { pingIntervalMs: 250, silenceLimitMs: 1000 };
/** No pacing at all: what the output bound alone must withstand. */
const UNPACED: FrameRates = {
  messages: { perSecond: 1e9, burst: 1e9 },
  messageBytes: { perSecond: 1e15, burst: 1e15 },
  frames: { perSecond: 1e9, burst: 1e9 },
};

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chat-bounds-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

interface Endpoint {
  session: PeerSession;
  messages: MessageFrame[];
  files: ReceivedFile[];
  closed: Promise<string>;
}

interface EndpointOptions {
  rates?: Partial<FrameRates>;
  keepalive?: KeepaliveOptions;
  downloadsDir?: string;
  handshakeTimeoutMs?: number;
}

function startEndpoint(socket: Socket, direction: 'in' | 'out', name: string, options: EndpointOptions = {}): Endpoint {
  const messages: MessageFrame[] = [];
  const files: ReceivedFile[] = [];
  let resolveClosed!: (reason: string) => void;
  const closed = new Promise<string>((resolve) => { resolveClosed = resolve; });
  const downloads = options.downloadsDir ? PinnedDirectory.open(options.downloadsDir, 'the test downloads directory') : undefined;
  if (downloads) cleanups.push(() => downloads.close());
  const session = new PeerSession({
    socket,
    direction,
    local: { name, instance: randomUUID(), listenPort: 0 },
    peerFingerprint: () => 'ab'.repeat(32),
    ...(options.keepalive ? { keepalive: options.keepalive } : {}),
    ...(options.rates ? { rates: options.rates } : {}),
    ...(options.handshakeTimeoutMs ? { handshakeTimeoutMs: options.handshakeTimeoutMs } : {}),
    handlers: {
      onMessage: (message) => { messages.push(message); },
      acceptFile: () => (downloads ? { downloads } : { decline: 'no downloads directory' }),
      onFileReceived: (file) => { files.push(file); },
      onClosed: (reason) => resolveClosed(reason),
      log: () => undefined,
    },
  });
  return { session, messages, files, closed };
}

async function socketPair(): Promise<SocketPair> {
  const pair = await createSocketPair();
  cleanups.push(() => pair.close());
  return pair;
}

/** A raw dialler against a session ("bob") on the accepting end, handshake done. */
async function rawAgainstSession(options: EndpointOptions = {}): Promise<{ raw: FramePeer; bob: Endpoint; pair: SocketPair }> {
  const pair = await socketPair();
  const raw = new FramePeer(pair.client);
  const bob = startEndpoint(pair.server, 'in', 'bob', options);
  raw.hello();
  await within(bob.session.ready, 'the handshake');
  // The confirmation's PONG, so that what the raw peer has read ends here.
  await raw.waitFor('pong', (pong) => pong.nonce === 0);
  return { raw, bob, pair };
}

/**
 * Writes `makeFrame(i)` frames in blocks as fast as the socket takes them, never reading, until
 * the connection closes or `ms` pass; samples `watched.writableLength` (the session's queue).
 */
async function floodWithoutReading(raw: FramePeer, watched: Socket, makeFrame: (i: number) => Frame, ms: number): Promise<{ sent: number; maxQueued: number }> {
  raw.socket.pause();
  let closed = false;
  void raw.closed.then(() => { closed = true; });
  let maxQueued = 0;
  const sampler = setInterval(() => { maxQueued = Math.max(maxQueued, watched.writableLength); }, 2);
  const deadline = Date.now() + ms;
  let sent = 0;
  try {
    while (!closed && Date.now() < deadline) {
      const block = Buffer.concat(Array.from({ length: 1000 }, () => encodeFrame(makeFrame(sent++))));
      if (!raw.socket.write(block)) await delay(10);
      else await delay(0);
    }
  } finally {
    clearInterval(sampler);
  }
  return { sent, maxQueued };
}

function message(text: string): MessageFrame {
  return { kind: 'message', id: randomUUID(), time: new Date().toISOString(), text };
}

/** A frame header announcing `bodyLength` bytes of type `code`, with no body yet. */
function frameHeader(bodyLength: number, code: number): Buffer {
  const bytes = Buffer.alloc(FRAME_HEADER_BYTES);
  bytes.writeUInt32BE(bodyLength, 0);
  bytes.writeUInt8(code, 4);
  return bytes;
}

/** Writes 1 KiB every 20 ms, as a stranger keeping a partial frame alive would, until the socket closes. */
function trickle(raw: FramePeer): void {
  const timer = setInterval(() => {
    if (raw.socket.destroyed) clearInterval(timer);
    else raw.write(Buffer.alloc(1024, 0x20));
  }, 20);
  cleanups.push(() => clearInterval(timer));
}

const handshakeFrameRefused = (bodyLength: number) =>
  `protocol error: frame of ${bodyLength} bytes before the handshake is complete exceeds the ${MAX_HELLO_FRAME_BYTES}-byte limit for a handshake frame`;

describe('peer bounds', { timeout: 60_000 }, () => {
  describe('frames before the handshake is complete', () => {
    // A long handshake deadline, so only the frame limit can end these connections within SOON_MS.
    const PATIENT = { handshakeTimeoutMs: 60_000 };

    /** A raw peer (that confirms nothing by itself) against a patient session that listens (`in`) or dials (`out`); nothing said yet. */
    async function rawAgainstPatient(direction: 'in' | 'out'): Promise<{ raw: FramePeer; end: Endpoint }> {
      const pair = await socketPair();
      const [ours, theirs] = direction === 'in' ? [pair.client, pair.server] : [pair.server, pair.client];
      const raw = new FramePeer(ours);
      raw.autoConfirm = false;
      return { raw, end: startEndpoint(theirs, direction, direction === 'in' ? 'bob' : 'alice', PATIENT) };
    }

    /** The same, once the raw peer has the session's HELLO (and, against a listener, has sent its own): what it sends next stands in for its HELLO or its confirmation. */
    async function rawWithTheirHello(direction: 'in' | 'out'): Promise<{ raw: FramePeer; end: Endpoint }> {
      const both = await rawAgainstPatient(direction);
      if (direction === 'in') both.raw.hello();
      await both.raw.waitFor('hello', () => true, SOON_MS);
      return both;
    }

    test('a HELLO announcing a large body, then trickling it, is dropped as soon as its header is in', async () => {
      const { raw, end: bob } = await rawAgainstPatient('in');
      raw.write(frameHeader(MAX_FRAME_BYTES, FrameType.hello));
      trickle(raw);
      assert.equal(await within(bob.closed, 'the drop'), handshakeFrameRefused(MAX_FRAME_BYTES));
      await raw.waitClosed(SOON_MS);
    });

    test('one byte over MAX_HELLO_FRAME_BYTES is refused too', async () => {
      const { raw, end: bob } = await rawAgainstPatient('in');
      raw.write(frameHeader(MAX_HELLO_FRAME_BYTES + 1, FrameType.hello));
      assert.equal(await within(bob.closed, 'the drop'), handshakeFrameRefused(MAX_HELLO_FRAME_BYTES + 1));
    });

    test('the frame in place of the dialler\'s confirmation has the same limit', async () => {
      const { raw, end: bob } = await rawWithTheirHello('in');
      raw.write(frameHeader(MAX_MESSAGE_BYTES, FrameType.message));
      trickle(raw);
      assert.equal(await within(bob.closed, 'the drop'), handshakeFrameRefused(MAX_MESSAGE_BYTES));
    });

    test('a dialler drops a listener whose HELLO announces a large body', async () => {
      const { raw, end: alice } = await rawWithTheirHello('out');
      raw.write(frameHeader(MAX_FRAME_BYTES, FrameType.hello));
      trickle(raw);
      assert.equal(await within(alice.closed, 'the drop'), handshakeFrameRefused(MAX_FRAME_BYTES));
    });

    test('right behind the confirmation, in the same write, a frame may be as large as any', async () => {
      const { raw, end: bob } = await rawWithTheirHello('in');
      const big = message('x'.repeat(MAX_MESSAGE_BYTES));
      raw.write(Buffer.concat([encodeFrame({ kind: 'ping', nonce: 0 }), encodeFrame(big)]));
      await raw.waitFor('messageAck', (ack) => ack.id === big.id, SOON_MS);
      assert.deepEqual(bob.messages.map((m) => m.id), [big.id]);
      assert.equal(bob.session.isClosed, false);
    });
  });

  describe('output a peer does not read', () => {
    test('a PING flood that never reads its PONGs: reading stops at the high-water mark, then the peer is dropped', async () => {
      const { raw, bob, pair } = await rawAgainstSession({ rates: UNPACED, keepalive: FAST_KEEPALIVE });
      const flood = await floodWithoutReading(raw, pair.server, (i) => ({ kind: 'ping', nonce: i + 1 }), 30_000);
      const reason = await within(bob.closed, 'the drop');
      assert.match(reason, /^peer does not read: \d+ bytes of answers unread, none of our output taken for \d+ s$/);
      // One read's worth of answers (64 KiB of PINGs) may land after the mark; nothing beyond.
      assert.ok(flood.maxQueued <= OUTPUT_HIGH_WATER_BYTES + 256 * 1024, `queued ${flood.maxQueued} bytes for the peer`);
      assert.ok(flood.sent > 200_000, `the flood was real: ${flood.sent} frames`);
      // The BYE cannot pass the unread queue: the socket is destroyed after the linger, not kept.
      await raw.waitClosed(SOON_MS);
    });

    test('a MESSAGE flood that never reads its acknowledgements is dropped the same way; every message read is kept', async () => {
      const { raw, bob, pair } = await rawAgainstSession({ rates: UNPACED, keepalive: FAST_KEEPALIVE });
      const sentIds: string[] = [];
      const flood = await floodWithoutReading(raw, pair.server, () => {
        const frame = message('flood');
        sentIds.push(frame.id);
        return frame;
      }, 30_000);
      assert.match(await within(bob.closed, 'the drop'), /^peer does not read: /);
      assert.ok(flood.maxQueued <= OUTPUT_HIGH_WATER_BYTES + 256 * 1024, `queued ${flood.maxQueued} bytes for the peer`);
      assert.ok(bob.messages.length > 10_000, `messages handled: ${bob.messages.length}`);
      assert.deepEqual(bob.messages.map((m) => m.id), sentIds.slice(0, bob.messages.length), 'in order, none lost or doubled');
    });

    test(`our own messages piling up for a peer that does not read: dropped past MAX_QUEUED_OUTPUT_BYTES`, async () => {
      const { raw, bob, pair } = await rawAgainstSession({ keepalive: { pingIntervalMs: 60_000, silenceLimitMs: 240_000 } });
      raw.socket.pause();
      let maxQueued = 0;
      const sampler = setInterval(() => { maxQueued = Math.max(maxQueued, pair.server.writableLength); }, 2);
      cleanups.push(() => clearInterval(sampler));
      const text = 'x'.repeat(256 * 1024);
      const sends: Array<Promise<unknown>> = [];
      for (let i = 0; i < 80 && !bob.session.isClosed; i++) {
        const sent = bob.session.sendMessage(text);
        sent.catch(() => undefined);
        sends.push(sent);
        await delay(1);
      }
      const reason = await within(bob.closed, 'the drop');
      assert.match(reason, new RegExp(`^peer does not read: \\d+ bytes queued for it, over the ${MAX_QUEUED_OUTPUT_BYTES}-byte limit$`));
      assert.ok(maxQueued <= MAX_QUEUED_OUTPUT_BYTES + 300 * 1024, `queued ${maxQueued} bytes`);
      for (const sent of sends) await assert.rejects(within(sent, 'a pending send'), PeerError);
      // The peer does not read, so it cannot see the BYE or the close; our side must not wait for it.
      const deadline = Date.now() + SOON_MS;
      while (!pair.server.destroyed && Date.now() < deadline) await delay(10);
      assert.ok(pair.server.destroyed, 'our socket was destroyed after the BYE linger');
    });

    test('a slow but reading receiver of three files at once is not dropped, though their data queues past the bound', async () => {
      const source = await tempDir();
      const pair = await socketPair();
      const raw = new FramePeer(pair.client);
      const alice = startEndpoint(pair.server, 'in', 'alice', { keepalive: FAST_KEEPALIVE });
      raw.hello();
      await within(alice.session.ready, 'the handshake');

      // The receiver reads at most 512 KiB per 50 ms (about 10 MB/s) and answers like chatd would.
      let budget = 512 * 1024;
      raw.socket.on('data', (chunk: Buffer) => {
        budget -= chunk.length;
        if (budget <= 0) raw.socket.pause();
      });
      const pacer = setInterval(() => {
        budget = 512 * 1024;
        raw.socket.resume();
      }, 50);
      cleanups.push(() => clearInterval(pacer));
      const hashes = new Map<string, ReturnType<typeof createHash>>();
      let handled = 0;
      const answering = setInterval(() => {
        for (; handled < raw.frames.length; handled++) {
          const frame = raw.frames[handled]!;
          if (frame.kind === 'ping') raw.send({ kind: 'pong', nonce: frame.nonce });
          if (frame.kind === 'message') raw.send({ kind: 'messageAck', id: frame.id });
          if (frame.kind === 'fileOffer') {
            hashes.set(frame.id, createHash('sha256'));
            raw.send({ kind: 'fileAccept', id: frame.id, offset: 0 });
            raw.send({ kind: 'fileCredit', id: frame.id, until: frame.size });
          }
          if (frame.kind === 'fileChunk') hashes.get(frame.id)!.update(frame.data);
          if (frame.kind === 'fileEnd') {
            const sha256 = hashes.get(frame.id)!.digest('hex');
            raw.send({ kind: 'fileResult', id: frame.id, ok: sha256 === frame.sha256, sha256, reason: '' });
          }
        }
        // Chunk frames are not needed once hashed.
        if (handled > 10_000) {
          raw.frames.splice(0, handled);
          handled = 0;
        }
      }, 2);
      cleanups.push(() => clearInterval(answering));
      let maxQueued = 0;
      const sampler = setInterval(() => { maxQueued = Math.max(maxQueued, pair.server.writableLength); }, 2);
      cleanups.push(() => clearInterval(sampler));

      const files = await Promise.all([0, 1, 2].map(async (i) => {
        const file = path.join(source, `f${i}.bin`);
        const handle = await open(file, 'w');
        await handle.write(randomBytes(8 * MiB));
        await handle.close();
        return file;
      }));
      const results = await within(Promise.all(files.map((file, i) => alice.session.sendFile(file, `f${i}.bin`, 8 * MiB))), 'the three transfers', 40_000);
      assert.equal(results.length, 3);
      assert.equal(alice.session.isClosed, false, `still connected (${alice.session.closeReason})`);
      assert.ok(maxQueued > MAX_QUEUED_OUTPUT_BYTES, `file data really queued past the bound: at most ${maxQueued} bytes`);
      await within(alice.session.sendMessage('still here'), 'a message after the transfers');
    });
  });

  describe('pacing', () => {
    test('messages over the budget are read later, in order, none dropped', async () => {
      const { raw, bob } = await rawAgainstSession({ rates: { messages: { perSecond: 100, burst: 10 } } });
      const frames = Array.from({ length: 60 }, (_, i) => message(`m${i}`));
      const started = Date.now();
      raw.write(Buffer.concat([...frames.map((frame) => encodeFrame(frame)), encodeFrame({ kind: 'ping', nonce: 777 })]));
      await raw.waitFor('pong', (pong) => pong.nonce === 777, SOON_MS);
      const elapsed = Date.now() - started;
      // (60 - 10) messages at 100/s: 500 ms.
      assert.ok(elapsed >= 400, `60 messages took ${elapsed} ms`);
      assert.deepEqual(bob.messages.map((m) => m.text), frames.map((f) => f.text));
      const acked = raw.frames.flatMap((f) => (f.kind === 'messageAck' ? [f.id] : []));
      assert.deepEqual(acked, frames.map((f) => f.id), 'each acknowledged once, in order');
      const pongAt = raw.frames.findIndex((f) => f.kind === 'pong' && f.nonce === 777);
      // Acks go out once a message is recorded, a PONG at once: the PING was handled right after
      // the last message, so after the second-to-last one's ack.
      const secondToLastAckAt = raw.frames.findIndex((f) => f.kind === 'messageAck' && f.id === frames[58]!.id);
      assert.ok(pongAt > secondToLastAckAt, 'the PING behind the messages waited its turn');
      assert.equal(bob.session.isClosed, false);
    });

    test(`large messages are paced by their bytes: ${MESSAGE_BYTES_PER_SECOND / MiB} MiB/s after a burst of ${MESSAGE_BYTE_BURST / MiB} MiB, read later, none dropped`, async () => {
      // The default budgets: 40 of the largest messages are 10 MiB, far under the count's burst of
      // 1000, so only the byte budget can hold the last 2 MiB back, for about 2 s.
      const { raw, bob, pair } = await rawAgainstSession();
      const frames = Array.from({ length: 40 }, (_, i) => message(`${i} `.padEnd(MAX_MESSAGE_BYTES, 'x')));
      const total = frames.reduce((sum, frame) => sum + Buffer.byteLength(frame.text), 0);
      assert.equal(total, 10 * MiB);
      let sawPaused = false;
      const sampler = setInterval(() => { sawPaused ||= pair.server.isPaused(); }, 5);
      cleanups.push(() => clearInterval(sampler));
      const started = Date.now();
      raw.write(Buffer.concat([...frames.map((frame) => encodeFrame(frame)), encodeFrame({ kind: 'ping', nonce: 777 })]));
      await raw.waitFor('pong', (pong) => pong.nonce === 777, 20_000);
      const elapsed = Date.now() - started;
      const expectedMs = ((total - MESSAGE_BYTE_BURST) / MESSAGE_BYTES_PER_SECOND) * 1000;
      assert.ok(elapsed >= expectedMs * 0.8, `10 MiB of messages took ${elapsed} ms (budget: ${expectedMs} ms past the burst)`);
      assert.ok(sawPaused, 'the socket was not read while the peer was over its budget');
      assert.deepEqual(bob.messages.map((m) => m.id), frames.map((f) => f.id), 'all of them, in order');
      const acked = raw.frames.flatMap((f) => (f.kind === 'messageAck' ? [f.id] : []));
      assert.deepEqual(acked, frames.map((f) => f.id), 'each acknowledged once, in order');
      assert.equal(bob.session.isClosed, false);
    });

    test('the byte budget and the count budget hold together: a message waits for the one it is over', async () => {
      const { raw, bob } = await rawAgainstSession({ rates: { messageBytes: { perSecond: 100 * 1024, burst: 100 * 1024 } } });
      // 100 KiB at once, then 100 KiB/s: 30 messages of 10 KiB need about 2 s, though the count allows them at once.
      const frames = Array.from({ length: 30 }, (_, i) => message(`${i} `.padEnd(10 * 1024, 'y')));
      const started = Date.now();
      raw.write(Buffer.concat([...frames.map((frame) => encodeFrame(frame)), encodeFrame({ kind: 'ping', nonce: 778 })]));
      await raw.waitFor('pong', (pong) => pong.nonce === 778, SOON_MS);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 1600, `took ${elapsed} ms`);
      assert.deepEqual(bob.messages.map((m) => m.id), frames.map((f) => f.id));
    });

    test('other frames are paced by their own budget', async () => {
      const { raw } = await rawAgainstSession({ rates: { frames: { perSecond: 200, burst: 10 } } });
      const started = Date.now();
      raw.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => encodeFrame({ kind: 'ping', nonce: i + 1 }))));
      await raw.waitFor('pong', (pong) => pong.nonce === 100, SOON_MS);
      const elapsed = Date.now() - started;
      // (100 - 10) at 200/s: 450 ms.
      assert.ok(elapsed >= 350, `100 pings took ${elapsed} ms`);
      const nonces = raw.frames.flatMap((f) => (f.kind === 'pong' && f.nonce > 0 ? [f.nonce] : []));
      assert.deepEqual(nonces, Array.from({ length: 100 }, (_, i) => i + 1));
    });

    test('file chunks are not paced: a transfer under a tiny frame budget runs at full speed', async () => {
      const source = await tempDir();
      const downloads = await tempDir();
      const pair = await socketPair();
      const tiny: Partial<FrameRates> = { frames: { perSecond: 5, burst: 5 } };
      const alice = startEndpoint(pair.client, 'out', 'alice', { rates: tiny });
      const bob = startEndpoint(pair.server, 'in', 'bob', { rates: tiny, downloadsDir: downloads });
      await within(Promise.all([alice.session.ready, bob.session.ready]), 'the handshake');
      const file = path.join(source, 'big.bin');
      const handle = await open(file, 'w');
      await handle.write(randomBytes(16 * MiB));
      await handle.close();
      // 1000 chunks: at 5 frames/s that would take minutes.
      await within(alice.session.sendFile(file, 'big.bin', 16 * MiB), 'the transfer', 20_000);
      assert.equal(bob.files.length, 1);
    });
  });

  describe('file data before the offer was accepted', () => {
    test('a FILE_CHUNK right behind its FILE_OFFER is a protocol error, and nothing is stored', async () => {
      const downloads = await tempDir();
      const { raw, bob } = await rawAgainstSession({ downloadsDir: downloads });
      const id = randomUUID();
      raw.write(Buffer.concat([
        encodeFrame({ kind: 'fileOffer', id, name: 'early.bin', size: 3 }),
        encodeFrame({ kind: 'fileChunk', id, data: Buffer.from('abc') }),
      ]));
      const reason = await within(bob.closed, 'the violation');
      assert.equal(reason, `protocol error: file chunk for transfer ${id} before it was accepted`);
      assert.equal(raw.frames.some((f) => f.kind === 'fileAccept'), false);
      await raw.waitClosed(SOON_MS);
      await waitForEmpty(downloads);
    });

    test('a FILE_END right behind its FILE_OFFER (an empty file) is a protocol error too', async () => {
      const downloads = await tempDir();
      const { raw, bob } = await rawAgainstSession({ downloadsDir: downloads });
      const id = randomUUID();
      raw.write(Buffer.concat([
        encodeFrame({ kind: 'fileOffer', id, name: 'empty.bin', size: 0 }),
        encodeFrame({ kind: 'fileEnd', id, sha256: createHash('sha256').digest('hex') }),
      ]));
      assert.equal(await within(bob.closed, 'the violation'), `protocol error: file end for transfer ${id} before it was accepted`);
      assert.deepEqual(bob.files, []);
      await waitForEmpty(downloads);
    });
  });
});

/** The temporary file of a dropped transfer is removed shortly after the connection ends. */
async function waitForEmpty(dir: string): Promise<void> {
  const deadline = Date.now() + SOON_MS;
  for (;;) {
    const names = await readdir(dir);
    if (names.length === 0) return;
    if (Date.now() > deadline) assert.fail(`left in ${dir}: ${names.join(', ')}`);
    await delay(10);
  }
}
