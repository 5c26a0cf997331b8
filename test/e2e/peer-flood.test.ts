// A real daemon against a TLS peer that floods it: frames it never reads the answers to, messages
// faster than the budget. The daemon's memory stays bounded (VmRSS), the non-reader is dropped with
// the documented reason, and every message it read is kept, at the budgeted pace.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { encodeFrame, FrameType, type Frame, type MessageFrame } from '../../src/wire/frames.ts';
import { MAX_FRAME_BYTES, MAX_HELLO_FRAME_BYTES, MESSAGE_BURST, MESSAGES_PER_SECOND } from '../../src/wire/limits.ts';
import { ChatHome, historyOf, isAlive } from '../helpers/chat.ts';
import type { FramePeer } from '../helpers/frame-peer.ts';
import { mb, residentBytes } from '../helpers/measure.ts';
import { connectTlsPeer, createTestIdentity } from '../helpers/tls-peer.ts';
import { MAX_PENDING_HANDSHAKES } from '../../src/daemon/peer-slot.ts';

const MiB = 1024 * 1024;
/** The daemon's memory target under any flood. */
const RSS_LIMIT = 150 * MiB;
/** "Back near idle": what the daemon may keep after the flooder is gone (V8 keeps some heap it grew). */
const RSS_KEPT_AFTER = 60 * MiB;
/** A flood is stopped here (the test has failed by then); keeps a broken daemon from eating the machine. */
const RSS_ABORT = 400 * MiB;
/** --ping-interval for the daemon: a peer that leaves its answers unread 4 intervals (2 s) is dropped. */
const PING_INTERVAL_S = 0.5;

interface FloodResult {
  sent: number;
  peakRss: number;
  ms: number;
  closedByDaemon: boolean;
}

/**
 * Writes blocks of 1000 frames as fast as TLS takes them and never reads, until the daemon closes
 * the connection, `ms` pass, or its RSS passes RSS_ABORT; samples the daemon's RSS meanwhile.
 */
async function flood(peer: FramePeer, pid: number, makeFrame: (i: number) => Frame, ms: number): Promise<FloodResult> {
  peer.socket.pause();
  let closed = false;
  void peer.closed.then(() => { closed = true; });
  let peakRss = residentBytes(pid);
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, residentBytes(pid)); }, 50);
  const started = Date.now();
  let sent = 0;
  try {
    while (!closed && Date.now() - started < ms && peakRss < RSS_ABORT) {
      // Written as fast as TCP takes them: a bounded backlog here, so `sent` is what really left.
      if (peer.socket.writableLength < 256 * 1024) {
        peer.socket.write(Buffer.concat(Array.from({ length: 1000 }, () => encodeFrame(makeFrame(sent++)))));
        await new Promise((resolve) => setImmediate(resolve));
      } else {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            peer.socket.off('drain', done);
            resolve();
          };
          const timer = setTimeout(done, 20);
          peer.socket.on('drain', done);
        });
      }
    }
  } finally {
    clearInterval(sampler);
  }
  peakRss = Math.max(peakRss, residentBytes(pid));
  return { sent, peakRss, ms: Date.now() - started, closedByDaemon: closed };
}

function message(text: string): MessageFrame {
  return { kind: 'message', id: randomUUID(), time: new Date().toISOString(), text };
}

describe('a peer that floods a real daemon', { timeout: 240_000 }, () => {
  let home: ChatHome;
  let bob: { port: number; pid: number };
  let bobLog: string;
  let idleRss: number;
  let mallory: Awaited<ReturnType<typeof createTestIdentity>>;

  before(async () => {
    mallory = await createTestIdentity();
    home = await ChatHome.create();
    bob = await home.startDaemon('bob', ['--ping-interval', String(PING_INTERVAL_S)]);
    bobLog = path.join(home.profileDir('bob'), 'chatd.log');
    await delay(500);
    idleRss = residentBytes(bob.pid);
  });
  after(async () => {
    await home.cleanup();
    await mallory.remove();
  });

  async function disconnections(): Promise<Array<Record<string, unknown>>> {
    return (await historyOf(home, 'bob', 20_000)).filter((event) => event.type === 'peer' && event.state === 'disconnected');
  }

  /** A connected mallory; `seen` disconnections so far, to wait for this one's. */
  async function connectMallory(): Promise<{ peer: FramePeer; seen: number }> {
    const seen = (await disconnections()).length;
    const peer = await connectTlsPeer(bob.port, mallory);
    peer.hello();
    await peer.waitFor('pong', (pong) => pong.nonce === 0);
    return { peer, seen };
  }

  /** Waits (bounded) until the daemon has recorded the end of the connection after `seen` earlier ones. */
  async function waitDisconnected(seen: number, ms = 20_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const events = await disconnections();
      if (events.length > seen) return String(events[seen]!.reason);
      if (Date.now() > deadline) throw new Error('the daemon did not record the disconnection');
      await delay(100);
    }
  }

  async function assertStillServing(): Promise<void> {
    assert.ok(isAlive(bob.pid), 'the daemon is still running');
    const { peer, seen } = await connectMallory();
    peer.send({ kind: 'ping', nonce: 42 });
    await peer.waitFor('pong', (pong) => pong.nonce === 42);
    peer.close();
    await waitDisconnected(seen);
  }

  test('a PING flood that never reads: dropped with "peer does not read", RSS bounded and back near idle', async () => {
    const { peer, seen } = await connectMallory();
    const result = await flood(peer, bob.pid, (i) => ({ kind: 'ping', nonce: i + 1 }), 90_000);
    peer.close();
    const reason = await waitDisconnected(seen);
    await delay(1000);
    const afterRss = residentBytes(bob.pid);
    const numbers = `idle ${mb(idleRss)}, peak ${mb(result.peakRss)}, after ${mb(afterRss)}; ${result.sent} PINGs written in ${result.ms} ms`;
    process.stdout.write(`# PING flood: ${numbers}\n`);
    assert.ok(result.closedByDaemon, `the daemon dropped the flooder (${numbers})`);
    assert.match(reason, /^peer does not read: \d+ bytes of answers unread, none of our output taken for \d+ s$/);
    assert.match(readFileSync(bobLog, 'utf8'), /"mallory" disconnected: "peer does not read: /);
    assert.ok(result.peakRss < RSS_LIMIT, `RSS stayed under ${mb(RSS_LIMIT)}: ${numbers}`);
    assert.ok(afterRss - idleRss < RSS_KEPT_AFTER, `RSS came back near idle: ${numbers}`);
    await assertStillServing();
  });

  test('a MESSAGE flood that never reads its acknowledgements: RSS bounded, the flood paced, what was read is kept', async () => {
    const { peer, seen } = await connectMallory();
    const sentIds: string[] = [];
    const result = await flood(peer, bob.pid, () => {
      const frame = message('flood');
      sentIds.push(frame.id);
      return frame;
    }, 12_000);
    peer.close();
    await waitDisconnected(seen);
    await delay(1000);
    const afterRss = residentBytes(bob.pid);
    const received = (await historyOf(home, 'bob', 20_000))
      .filter((event) => event.type === 'message' && event.from === 'mallory')
      .map((event) => String(event.id));
    const numbers = `idle ${mb(idleRss)}, peak ${mb(result.peakRss)}, after ${mb(afterRss)}; ${result.sent} messages written, ${received.length} recorded in ${result.ms} ms`;
    process.stdout.write(`# MESSAGE flood: ${numbers}\n`);
    assert.ok(result.peakRss < RSS_LIMIT, `RSS stayed under ${mb(RSS_LIMIT)}: ${numbers}`);
    assert.ok(afterRss - idleRss < RSS_KEPT_AFTER, `RSS came back near idle: ${numbers}`);
    const allowed = MESSAGE_BURST + (MESSAGES_PER_SECOND * (result.ms + 1000)) / 1000 * 1.1;
    assert.ok(received.length <= allowed, `paced: ${received.length} messages recorded, budget ${Math.round(allowed)}`);
    assert.ok(received.length >= MESSAGE_BURST, `the burst was read: ${received.length}`);
    assert.deepEqual(received, sentIds.slice(0, received.length), 'recorded in order, none lost or doubled');
    await assertStillServing();
  });

  test(`messages faster than ${MESSAGES_PER_SECOND}/s are read at that pace, and every one arrives`, async () => {
    const { peer, seen } = await connectMallory();
    const total = MESSAGE_BURST + 2000;
    const frames = Array.from({ length: total }, (_, i) => message(`paced ${i}`));
    peer.write(Buffer.concat(frames.map((frame) => encodeFrame(frame))));
    const acks = () => peer.frames.reduce((n, frame) => n + (frame.kind === 'messageAck' ? 1 : 0), 0);
    const at = async (count: number): Promise<number> => {
      const deadline = Date.now() + 60_000;
      while (acks() < count) {
        if (Date.now() > deadline) throw new Error(`only ${acks()} of ${count} acknowledgements`);
        await delay(5);
      }
      return Date.now();
    };
    // Measured past the burst: from the first 500 paced acknowledgements to the last.
    const from = await at(MESSAGE_BURST + 500);
    const to = await at(total);
    const rate = 1500 / ((to - from) / 1000);
    process.stdout.write(`# paced messages: ${rate.toFixed(0)}/s past the burst (budget ${MESSAGES_PER_SECOND}/s)\n`);
    assert.ok(rate <= MESSAGES_PER_SECOND * 1.25, `${rate.toFixed(0)} messages/s`);
    assert.ok(rate >= MESSAGES_PER_SECOND / 2, `${rate.toFixed(0)} messages/s`);
    const acked = peer.frames.flatMap((frame) => (frame.kind === 'messageAck' ? [frame.id] : []));
    assert.deepEqual(acked, frames.map((frame) => frame.id), 'each acknowledged once, in order');
    peer.close();
    await waitDisconnected(seen);
    const received = (await historyOf(home, 'bob', 20_000))
      .filter((event) => event.type === 'message' && String(event.text).startsWith('paced '))
      .map((event) => String(event.text));
    assert.deepEqual(received, frames.map((frame) => frame.text), 'every message recorded once, in order');
  });

  test(`${MAX_PENDING_HANDSHAKES} strangers announcing huge HELLOs and sending them: each dropped at its header, logged, RSS flat`, async () => {
    const before = residentBytes(bob.pid);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(MAX_FRAME_BYTES, 0);
    header.writeUInt8(FrameType.hello, 4);
    const body = Buffer.alloc(MAX_FRAME_BYTES - 1024, 0x20);
    const strangers = await Promise.all(Array.from({ length: MAX_PENDING_HANDSHAKES }, () => connectTlsPeer(bob.port, mallory)));
    let peakRss = before;
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, residentBytes(bob.pid)); }, 20);
    try {
      for (const stranger of strangers) {
        stranger.write(header);
        stranger.write(body);
      }
      // The handshake deadline is 10 s: closed well before it, by the frame limit.
      await Promise.all(strangers.map((stranger) => stranger.waitClosed(5000)));
    } finally {
      clearInterval(sampler);
      for (const stranger of strangers) stranger.close();
    }
    peakRss = Math.max(peakRss, residentBytes(bob.pid));
    process.stdout.write(`# ${MAX_PENDING_HANDSHAKES} huge HELLOs: RSS before ${mb(before)}, peak ${mb(peakRss)}\n`);
    const refused = `dropped before handshake: "protocol error: frame of ${MAX_FRAME_BYTES} bytes before the handshake is complete exceeds the ${MAX_HELLO_FRAME_BYTES}-byte limit for a handshake frame"`;
    // (Lines of one kind are logged 20 times a second, then counted.)
    assert.ok(readFileSync(bobLog, 'utf8').includes(refused), 'the drop is logged with its reason');
    assert.ok(peakRss - before < 32 * MiB, `RSS grew by ${mb(peakRss - before)}`);
    await assertStillServing();
  });

  test('a FILE_CHUNK before FILE_ACCEPT is a protocol error, logged; the daemon keeps serving', async () => {
    const { peer, seen } = await connectMallory();
    const id = randomUUID();
    peer.write(Buffer.concat([
      encodeFrame({ kind: 'fileOffer', id, name: 'early.bin', size: 3 }),
      encodeFrame({ kind: 'fileChunk', id, data: Buffer.from('abc') }),
    ]));
    const bye = await peer.waitFor('bye');
    assert.equal(bye.reason, `protocol error: file chunk for transfer ${id} before it was accepted`);
    assert.equal(await waitDisconnected(seen), bye.reason);
    assert.match(readFileSync(bobLog, 'utf8'), /disconnected: "protocol error: file chunk for transfer [0-9a-f-]+ before it was accepted"/);
    await assertStillServing();
  });
});
