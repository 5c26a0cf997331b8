/**
 * How sessions end, with both ends in this process over a loopback socket pair: every way a
 * session ends gives both ends a SessionEnd of the right kind, the BYE carries it as its code, and
 * `closed` resolves only once the session's partial files are gone.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, test } from 'node:test';
import { PinnedDirectory } from '../../src/files/pinned-directory.ts';
import type { FrameRates } from '../../src/peer/frame-inbox.ts';
import { BYE_CODES, describeEnd, PeerError, type SessionEnd } from '../../src/peer/session-end.ts';
import { PeerSession, type SessionHandlers } from '../../src/peer/session.ts';
import { FrameType } from '../../src/wire/frames.ts';
import { FILE_READ_BYTES } from '../../src/wire/limits.ts';
import { FramePeer, rawFrame } from '../helpers/frame-peer.ts';
import { createSocketPair, type SocketPair } from '../helpers/socket-pair.ts';
import { within } from '../helpers/within.ts';

const SOON_MS = 5_000;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

interface Endpoint {
  session: PeerSession;
  /** What onClosed was called with, each time. */
  onClosed: Array<{ reason: string; end: SessionEnd }>;
}

interface EndpointOptions {
  handshakeTimeoutMs?: number;
  downloadsDir?: string;
  admit?: SessionHandlers['admit'];
  onMessage?: SessionHandlers['onMessage'];
  rates?: Partial<FrameRates>;
}

function startEndpoint(socket: Socket, direction: 'in' | 'out', name: string, options: EndpointOptions = {}): Endpoint {
  const onClosed: Endpoint['onClosed'] = [];
  let downloads: PinnedDirectory | undefined;
  if (options.downloadsDir) {
    mkdirSync(options.downloadsDir, { recursive: true, mode: 0o700 });
    const held = PinnedDirectory.open(options.downloadsDir, 'the test downloads directory');
    cleanups.push(() => held.close());
    downloads = held;
  }
  const session = new PeerSession({
    socket,
    direction,
    local: { name, instance: randomUUID(), listenPort: 0 },
    peerFingerprint: () => 'ab'.repeat(32),
    ...(options.handshakeTimeoutMs ? { handshakeTimeoutMs: options.handshakeTimeoutMs } : {}),
    ...(options.rates ? { rates: options.rates } : {}),
    handlers: {
      onMessage: options.onMessage ?? (() => undefined),
      acceptFile: () => (downloads ? { downloads } : { decline: 'no downloads directory' }),
      onFileReceived: () => undefined,
      onClosed: (reason, end) => onClosed.push({ reason, end }),
      log: () => undefined,
      ...(options.admit ? { admit: options.admit } : {}),
    },
  });
  cleanups.push(() => session.close('local', 'test over'));
  return { session, onClosed };
}

async function socketPair(): Promise<SocketPair> {
  const pair = await createSocketPair();
  cleanups.push(() => pair.close());
  return pair;
}

/** alice dialled, bob accepted; both handshakes done. */
async function connectedPair(alice: EndpointOptions = {}, bob: EndpointOptions = {}): Promise<{ pair: SocketPair; alice: Endpoint; bob: Endpoint }> {
  const pair = await socketPair();
  const ends = { pair, alice: startEndpoint(pair.client, 'out', 'alice', alice), bob: startEndpoint(pair.server, 'in', 'bob', bob) };
  await within(Promise.all([ends.alice.session.ready, ends.bob.session.ready]), 'both handshakes');
  return ends;
}

/** A raw dialler that has completed its handshake with a session ("bob") on the accepting end. */
async function rawAgainstBob(): Promise<{ raw: FramePeer; bob: Endpoint }> {
  const pair = await socketPair();
  const raw = new FramePeer(pair.client);
  const bob = startEndpoint(pair.server, 'in', 'bob');
  raw.hello();
  await within(bob.session.ready, 'the handshake');
  return { raw, bob };
}

/** Both ends' `closed`, checked against what `end`, onClosed and closeReason say. */
async function endsOf(...endpoints: Endpoint[]): Promise<SessionEnd[]> {
  const ends = await within(Promise.all(endpoints.map((endpoint) => endpoint.session.closed)), 'both ends to close');
  for (const [i, endpoint] of endpoints.entries()) {
    assert.deepEqual(endpoint.session.end, ends[i]);
    assert.deepEqual(endpoint.onClosed, [{ reason: describeEnd(ends[i]!), end: ends[i] }], 'onClosed once, with the end');
    assert.equal(endpoint.session.closeReason, describeEnd(ends[i]!));
  }
  return ends;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chat-session-end-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('how a session ends', { timeout: 60_000 }, () => {
  for (const kind of BYE_CODES) {
    test(`a close of kind ${kind} ends this side so, and reaches the other as ${kind} with remote: true`, async () => {
      const { alice, bob } = await connectedPair();
      alice.session.close(kind, `closing as ${kind}`);
      const [aliceEnd, bobEnd] = await endsOf(alice, bob);
      assert.deepEqual(aliceEnd, { kind, remote: false, detail: `closing as ${kind}` });
      assert.deepEqual(bobEnd, { kind, remote: true, detail: `closing as ${kind}` });
      assert.equal(bob.session.closeReason, `peer left: closing as ${kind}`, 'the line the daemon logs is unchanged');
    });
  }

  test('close(reason) is a close of kind local', async () => {
    const { alice, bob } = await connectedPair();
    alice.session.close('see you tomorrow');
    const [aliceEnd, bobEnd] = await endsOf(alice, bob);
    assert.deepEqual(aliceEnd, { kind: 'local', remote: false, detail: 'see you tomorrow' });
    assert.deepEqual(bobEnd, { kind: 'local', remote: true, detail: 'see you tomorrow' });
  });

  test('a BYE without a code (an older peer), or with a code we do not know, is peerLeft', async () => {
    for (const payload of ['{"reason":"old peer"}', '{"reason":"old peer","code":"reboot"}']) {
      const { raw, bob } = await rawAgainstBob();
      raw.write(rawFrame(FrameType.bye, payload));
      const [end] = await endsOf(bob);
      assert.deepEqual(end, { kind: 'peerLeft', remote: true, detail: 'old peer' }, payload);
      assert.equal(bob.session.closeReason, 'peer left: old peer');
    }
  });

  test('a BYE with an empty reason and no code reads "peer left: no reason given"', async () => {
    const { raw, bob } = await rawAgainstBob();
    raw.send({ kind: 'bye', reason: '' });
    assert.deepEqual(await endsOf(bob), [{ kind: 'peerLeft', remote: true, detail: '' }]);
    assert.equal(bob.session.closeReason, 'peer left: no reason given');
  });

  test('a protocol violation ends the receiving side with kind protocol, and the other side learns it from the code', async () => {
    const { pair, alice, bob } = await connectedPair();
    // Bytes no chatd sends, on alice's socket as if her session had sent them.
    pair.client.write(rawFrame(0x7f, '{}'));
    const [bobEnd, aliceEnd] = await endsOf(bob, alice);
    assert.deepEqual(bobEnd, { kind: 'protocol', remote: false, detail: 'protocol error: unknown frame type 0x7f' });
    assert.deepEqual(aliceEnd, { kind: 'protocol', remote: true, detail: 'protocol error: unknown frame type 0x7f' });
  });

  test('a BYE whose code is not a string is itself a protocol violation', async () => {
    const { raw, bob } = await rawAgainstBob();
    raw.write(rawFrame(FrameType.bye, '{"reason":"x","code":7}'));
    assert.deepEqual(await endsOf(bob), [{ kind: 'protocol', remote: false, detail: 'protocol error: bye frame: field "code" must be a string' }]);
    const bye = await raw.waitFor('bye', () => true, SOON_MS);
    assert.equal(bye.code, 'protocol');
  });

  test('no handshake within handshakeTimeoutMs: timeout on the side that waited, and on the other from its BYE', async () => {
    const pair = await socketPair();
    // The listener does not read, so the dialler's HELLO is never answered.
    pair.server.pause();
    const alice = startEndpoint(pair.client, 'out', 'alice');
    const bob = startEndpoint(pair.server, 'in', 'bob', { handshakeTimeoutMs: 200 });
    const [bobEnd, aliceEnd] = await endsOf(bob, alice);
    assert.deepEqual(bobEnd, { kind: 'timeout', remote: false, detail: 'no handshake within 200 ms' });
    assert.deepEqual(aliceEnd, { kind: 'timeout', remote: true, detail: 'no handshake within 200 ms' });
    await assert.rejects(alice.session.ready, (error) => error instanceof PeerError && error.end === alice.session.end);
  });

  test('a refusal at the HELLO has the refusal\'s kind on both ends, and fails both handshakes with it', async () => {
    const pair = await socketPair();
    const alice = startEndpoint(pair.client, 'out', 'alice');
    const bob = startEndpoint(pair.server, 'in', 'bob', { admit: () => ({ kind: 'busy', detail: 'busy: already connected to carol' }) });
    const [aliceEnd, bobEnd] = await endsOf(alice, bob);
    assert.deepEqual(bobEnd, { kind: 'busy', remote: false, detail: 'busy: already connected to carol' });
    assert.deepEqual(aliceEnd, { kind: 'busy', remote: true, detail: 'busy: already connected to carol' });
    await assert.rejects(alice.session.ready, (error) => error instanceof PeerError
      && error.message === 'peer connection closed: peer left: busy: already connected to carol' && error.end?.kind === 'busy');
    await assert.rejects(bob.session.ready, (error) => error instanceof PeerError && error.end?.remote === false);
  });

  test('a message the owner cannot record ends the session as internal, on both ends', async () => {
    const { alice, bob } = await connectedPair({}, { onMessage: () => { throw new Error('disk full'); } });
    await assert.rejects(alice.session.sendMessage('hello'), (error) => error instanceof PeerError && error.end?.kind === 'internal');
    const [bobEnd, aliceEnd] = await endsOf(bob, alice);
    assert.deepEqual(bobEnd, { kind: 'internal', remote: false, detail: 'could not record message: Error: disk full' });
    assert.deepEqual(aliceEnd, { kind: 'internal', remote: true, detail: 'could not record message: Error: disk full' });
  });

  test('a reset connection is transport on both ends', async () => {
    const { pair, alice, bob } = await connectedPair();
    pair.client.resetAndDestroy();
    const [aliceEnd, bobEnd] = await endsOf(alice, bob);
    assert.equal(aliceEnd!.kind, 'transport');
    assert.equal(bobEnd!.kind, 'transport');
    assert.equal(aliceEnd!.remote || bobEnd!.remote, false);
    assert.match(bobEnd!.detail, /^(socket error: .*ECONNRESET.*|connection closed by peer)$/);
  });

  test('a peer that does not read past the output bound is dropped as unread, and learns it once it reads again', async () => {
    // alice takes in what was queued for her at once when she reads again, so the BYE behind it comes before the linger ends.
    const unpaced = { messages: { perSecond: 1e6, burst: 1e6 }, messageBytes: { perSecond: 1e9, burst: 1e9 } };
    const { pair, alice, bob } = await connectedPair({ rates: unpaced });
    pair.client.pause();
    const text = 'x'.repeat(256 * 1024);
    for (let i = 0; i < 80 && !bob.session.isClosed; i++) {
      bob.session.sendMessage(text).catch(() => undefined);
      await delay(1);
    }
    const bobEnd = await within(bob.session.closed, 'the drop');
    assert.equal(bobEnd.kind, 'unread');
    assert.equal(bobEnd.remote, false);
    assert.match(bobEnd.detail, /^peer does not read: \d+ bytes queued for it/);
    pair.client.resume();
    const aliceEnd = await within(alice.session.closed, 'alice to read the BYE');
    assert.deepEqual(aliceEnd, { ...bobEnd, remote: true });
  });

  test('callers see a PeerError that carries the end: a pending message, and a send after the end', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    cleanups.push(() => release());
    const { alice, bob } = await connectedPair({}, { onMessage: () => held });
    const pending = alice.session.sendMessage('are you there?');
    bob.session.close('duplicate', 'duplicate connection');
    await assert.rejects(pending, (error) => error instanceof PeerError
      && error.message === 'peer connection closed: peer left: duplicate connection'
      && error.end?.kind === 'duplicate' && error.end.remote);
    await within(alice.session.closed, 'alice to close');
    await assert.rejects(alice.session.sendMessage('too late'), (error) => error instanceof PeerError && error.end === alice.session.end);
    const file = path.join(await tempDir(), 'x.bin');
    await writeFile(file, 'x');
    await assert.rejects(alice.session.sendFile(file, 'x.bin', 1), (error) => error instanceof PeerError && error.end?.kind === 'duplicate');
  });

  test('closed resolves only once a partially received file is on disk and closed, kept with its record for resuming', async () => {
    const downloads = path.join(await tempDir(), 'downloads');
    const { alice, bob } = await connectedPair({}, { downloadsDir: downloads });
    const source = path.join(await tempDir(), 'big.bin');
    await writeFile(source, randomBytes(16 * FILE_READ_BYTES));
    let partialSeen = false;
    const sending = alice.session.sendFile(source, 'big.bin', 16 * FILE_READ_BYTES, (bytes) => {
      if (bytes < 2 * FILE_READ_BYTES || alice.session.isClosed) return;
      // Accepted, so bob's temporary file exists; part of the data is on its way.
      partialSeen = true;
      alice.session.close('local', 'changed my mind');
    });
    await assert.rejects(sending, PeerError);
    const end = await within(bob.session.closed, 'bob to close');
    assert.ok(partialSeen, 'the transfer was under way');
    assert.deepEqual(end, { kind: 'local', remote: true, detail: 'changed my mind' });
    const left = (await readdir(downloads)).sort();
    assert.equal(left.length, 2, `the partial file and its record: ${left.join(', ')}`);
    assert.match(left[0]!, /^\.chat-[0-9a-f-]{36}\.part$/);
    assert.match(left[1]!, /^\.chat-[0-9a-f-]{36}\.state$/);
    const held = (await stat(path.join(downloads, left[0]!))).size;
    assert.ok(held >= 2 * FILE_READ_BYTES && held < 16 * FILE_READ_BYTES, `what arrived is on disk the moment closed resolves: ${held} bytes`);
  });
});
