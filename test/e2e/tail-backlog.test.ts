// `chat tail` followers that stop reading (SIGSTOP, as Ctrl-Z does) while a peer floods the daemon
// with large messages: the daemon closes each one past its notification backlog instead of
// holding node-ipc's 8 MiB for it, its RSS stays bounded, and once continued every tail
// reconnects by itself and prints every message exactly once, in order, with no seq missing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { MAX_NOTIFICATION_BACKLOG_BYTES } from '../../src/control/limits.ts';
import type { MessageFrame } from '../../src/wire/frames.ts';
import { MAX_MESSAGE_BYTES } from '../../src/wire/limits.ts';
import { ChatHome } from '../helpers/chat.ts';
import type { FramePeer } from '../helpers/frame-peer.ts';
import { mb, residentBytes } from '../helpers/measure.ts';
import { connectTlsPeer, createTestIdentity } from '../helpers/tls-peer.ts';

const MiB = 1024 * 1024;
/** Stopped tails at once. Before the bound each could make the daemon hold 8 MiB and more. */
const TAILS = 8;
/** 48 of the largest messages: 12 MiB, past node-ipc's 8 MiB per client (and the 8 MiB burst of the byte budget). */
const FLOOD = 48;
/**
 * What the daemon's RSS may grow by while the tails are stopped. Measured 2026-12-06: 26-30 MiB
 * with this file alone, 45 once under `npm test` (two files at once on two cores, so collection
 * lags); without the bound (MAX_NOTIFICATION_BACKLOG_BYTES set to 1 GiB) 100 MiB.
 */
const RSS_GROWTH_LIMIT = 64 * MiB;

/** What one tail printed: seq and id of each event (not the text: 12 MiB per tail), and its stderr. */
interface TailTranscript {
  child: ChildProcess;
  events: Array<{ seq: number; id: string }>;
  stderr(): string;
  waitFor(id: string, ms: number): Promise<void>;
}

function transcribe(child: ChildProcess): TailTranscript {
  const events: Array<{ seq: number; id: string }> = [];
  let partial = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    let newline;
    while ((newline = partial.indexOf('\n')) !== -1) {
      const event = JSON.parse(partial.slice(0, newline)) as { seq: number; id: string };
      events.push({ seq: event.seq, id: event.id });
      partial = partial.slice(newline + 1);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  return {
    child,
    events,
    stderr: () => stderr,
    async waitFor(id, ms) {
      const deadline = Date.now() + ms;
      while (!events.some((event) => event.id === id)) {
        if (Date.now() > deadline) throw new Error(`tail ${child.pid} did not print ${id} within ${ms} ms; printed ${events.length} events; stderr: ${stderr}`);
        await delay(20);
      }
    },
  };
}

function message(text: string): MessageFrame {
  return { kind: 'message', id: randomUUID(), time: new Date().toISOString(), text };
}

describe('chat tail that stops reading while a peer floods', { timeout: 240_000 }, () => {
  let home: ChatHome;
  let bob: { port: number; pid: number };
  let mallory: Awaited<ReturnType<typeof createTestIdentity>>;
  let peer: FramePeer;

  before(async () => {
    mallory = await createTestIdentity();
    home = await ChatHome.create();
    bob = await home.startDaemon('bob');
    peer = await connectTlsPeer(bob.port, mallory);
    peer.hello();
    await peer.waitFor('pong', (pong) => pong.nonce === 0);
  });
  after(async () => {
    peer?.close();
    await home.cleanup();
    await mallory.remove();
  });

  const acknowledged = (id: string) => peer.frames.some((frame) => frame.kind === 'messageAck' && frame.id === id);

  test(`${TAILS} stopped tails: closed past ${MAX_NOTIFICATION_BACKLOG_BYTES / MiB} MiB each, RSS bounded; continued, each prints every message once, in order`, async () => {
    const tails = Array.from({ length: TAILS }, () => transcribe(home.spawn(['tail', '--profile', 'bob', '--json', '-n', '0'])));
    // Subscribed once a message sent now shows up in every tail.
    const deadline = Date.now() + 60_000;
    let marker = '';
    while (!tails.every((tail) => tail.events.some((event) => event.id === marker))) {
      if (Date.now() > deadline) throw new Error('the tails never all printed a message');
      const frame = message(`ready ${Date.now()}`);
      peer.send(frame);
      marker = frame.id;
      await delay(300);
    }

    for (const tail of tails) tail.child.kill('SIGSTOP');
    const idleRss = residentBytes(bob.pid);
    let peakRss = idleRss;
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, residentBytes(bob.pid)); }, 20);
    const flood = Array.from({ length: FLOOD }, (_, i) => message(`flood ${i} `.padEnd(MAX_MESSAGE_BYTES, 'x')));
    try {
      for (const frame of flood) peer.send(frame);
      const floodDeadline = Date.now() + 60_000;
      while (!acknowledged(flood.at(-1)!.id)) {
        if (Date.now() > floodDeadline) throw new Error('the daemon did not take the flood');
        await delay(20);
      }
      // The tails that are still stopped are still closed, and nothing is kept for them.
      await delay(500);
    } finally {
      clearInterval(sampler);
      for (const tail of tails) tail.child.kill('SIGCONT');
    }
    const log = readFileSync(path.join(home.profileDir('bob'), 'chatd.log'), 'utf8');
    const closedLines = log.split('\n').filter((line) => line.includes('-byte notification backlog; closed')).length;
    process.stdout.write(`# ${TAILS} stopped tails, ${FLOOD} messages of 256 KiB: daemon RSS ${mb(idleRss)} -> peak ${mb(peakRss)}; ${closedLines} tails closed\n`);
    assert.equal(closedLines, TAILS, 'each stopped tail was closed, and that was logged');
    assert.ok(peakRss - idleRss < RSS_GROWTH_LIMIT, `the daemon's RSS grew by ${mb(peakRss - idleRss)}`);

    const floodIds = flood.map((frame) => frame.id);
    for (const tail of tails) {
      await tail.waitFor(floodIds.at(-1)!, 60_000);
      const ids = tail.events.map((event) => event.id).filter((id) => floodIds.includes(id));
      assert.deepEqual(ids, floodIds, `tail ${tail.child.pid}: every message once, in order`);
      const seqs = tail.events.map((event) => event.seq);
      for (let i = 1; i < seqs.length; i++) {
        if (seqs[i] !== seqs[i - 1]! + 1) assert.fail(`tail ${tail.child.pid}: seq ${seqs[i]} after ${seqs[i - 1]}`);
      }
      assert.match(tail.stderr(), /^chat: the daemon closed the connection \(this tail fell behind\); reconnected, going on after event \d+\n/);
      assert.equal(tail.child.exitCode, null, 'still following');
    }

    // Still following on the new connection.
    const after = message('after the flood');
    peer.send(after);
    for (const tail of tails) await tail.waitFor(after.id, 20_000);

    // What the give-up line offers a person, and what a restarted script uses: every event after a seq.
    const firstSeq = tails[0]!.events.find((event) => event.id === floodIds[0])!.seq;
    const replay = await home.run(['tail', '--profile', 'bob', '--no-follow', '--json', '--after', String(firstSeq)]);
    assert.equal(replay.code, 0, replay.stderr);
    const replayed = replay.stdout.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { id: string }).id);
    assert.deepEqual(replayed, [...floodIds.slice(1), after.id]);
  });
});
