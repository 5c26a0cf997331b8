/**
 * PeerSession with both endpoints in this process over a real loopback TCP connection, plus a "raw"
 * peer that writes bytes by hand to play a broken or hostile implementation.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { appendFile, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import {
  PeerError,
  PeerSession,
  type KeepaliveOptions,
  type LocalIdentity,
  type SessionHandlers,
} from '../../src/peer/session.ts';
import type { ReceivedFile } from '../../src/peer/transfer-receiver.ts';
import { FrameDecoder } from '../../src/wire/decoder.ts';
import { PinnedDirectory } from '../../src/files/pinned-directory.ts';
import { encodeFrame, FrameType, type Frame, type MessageFrame } from '../../src/wire/frames.ts';
import {
  FILE_CHUNK_BYTES,
  FILE_READ_BYTES,
  FRAME_HEADER_BYTES,
  MAX_FRAME_BYTES,
  MAX_INCOMING_TRANSFERS,
  MAX_MESSAGE_BYTES,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
  SEND_BLOCKS,
} from '../../src/wire/limits.ts';
import { FramePeer, type FrameOf } from '../helpers/frame-peer.ts';
import { createSocketPair, type SocketPair } from '../helpers/socket-pair.ts';
import { within } from '../helpers/within.ts';
import { sha256Of } from '../helpers/random-data.ts';

const MiB = 1024 * 1024;
/** What a TLS transport would report as the other side's key; the session only passes it on. */
const TEST_FINGERPRINT = 'ab'.repeat(32);
/** Upper bound for anything that should happen "soon" on loopback: catches hangs, not slowness. */
const SOON_MS = 5_000;
/**
 * A fixed wait, the only one left between tests: a closed session aborts its receivers without
 * waiting (`void receiver.abort()`), so their unlinks may still run when the test ends. A session
 * promise that settles once its receivers are cleaned up would replace it.
 */
const RECEIVER_CLEANUP_GRACE_MS = 20;
/** A handshake deadline short enough to wait for: the event that shows what a session did until then. */
const SHORT_HANDSHAKE_MS = 150;
/** How long a slow onMessage / onFileReceived handler takes, to see the acknowledgement wait for it. */
const SLOW_HANDLER_MS = 100;
/** A receiver stops reading: time for the loopback socket buffers to fill, then how long the stalled sender is watched. */
const STALL_FILL_MS = 400;
const STALL_WATCH_MS = 200;
/** What a stalled sender's socket may hold beyond its blocks: chunk headers, a ping or two. */
const QUEUE_SLACK_BYTES = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Resources every test creates, released after each test (sockets first, then directories).

const socketCleanups: Array<() => Promise<void> | void> = [];
const dirCleanups: Array<() => Promise<void>> = [];
/** Errors that escaped to the process: any of these fails the test that was running. */
const strayErrors: unknown[] = [];
const recordStray = (error: unknown): void => {
  strayErrors.push(error);
};

function holdDirectory(dir: string): PinnedDirectory {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const held = PinnedDirectory.open(dir, 'the test downloads directory');
  dirCleanups.push(async () => held.close());
  return held;
}

async function tempDir(label: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `chat-session-${label}-`));
  dirCleanups.push(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

async function socketPair(): Promise<SocketPair> {
  const pair = await createSocketPair();
  socketCleanups.push(() => pair.close());
  return pair;
}

/** A promise the test releases by hand (or cleanup does), to hold a handler open. */
function gate(): { promise: Promise<void>; open(): void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  socketCleanups.push(() => release());
  return { promise, open: () => release() };
}

async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, ms = SOON_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(5);
  }
}

// ---------------------------------------------------------------------------------------------
// Endpoints: a PeerSession whose handlers record everything they see.

interface Endpoint {
  session: PeerSession;
  identity: LocalIdentity;
  messages: MessageFrame[];
  files: ReceivedFile[];
  logs: string[];
  closedReasons: string[];
  /** Resolves with the first onClosed reason. */
  closed: Promise<string>;
}

interface EndpointOptions {
  name: string;
  listenPort?: number;
  downloadsDir?: string;
  handshakeTimeoutMs?: number;
  /** Runs after the message is recorded; the session acknowledges once it settles. */
  onMessage?: (message: MessageFrame) => void | Promise<void>;
  acceptFile?: SessionHandlers['acceptFile'];
  onFileReceived?: (file: ReceivedFile) => void | Promise<void>;
  admit?: SessionHandlers['admit'];
  /** The key fingerprint this endpoint's transport reports for the other side; null: not authenticated. */
  peerFingerprint?: string | null;
  keepalive?: KeepaliveOptions;
}

function startEndpoint(socket: Socket, direction: 'in' | 'out', options: EndpointOptions): Endpoint {
  const identity: LocalIdentity = { name: options.name, instance: randomUUID(), listenPort: options.listenPort ?? 0 };
  const messages: MessageFrame[] = [];
  const files: ReceivedFile[] = [];
  const logs: string[] = [];
  const closedReasons: string[] = [];
  let resolveClosed!: (reason: string) => void;
  const closed = new Promise<string>((resolve) => {
    resolveClosed = resolve;
  });
  // Made and held open at the start, as chatd does with its downloads directory.
  const downloads = options.downloadsDir ? holdDirectory(options.downloadsDir) : undefined;
  const session = new PeerSession({
    socket,
    direction,
    local: identity,
    peerFingerprint: () => (options.peerFingerprint === null ? undefined : options.peerFingerprint ?? TEST_FINGERPRINT),
    ...(options.keepalive ? { keepalive: options.keepalive } : {}),
    ...(options.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
    handlers: {
      async onMessage(message) {
        messages.push(message);
        await options.onMessage?.(message);
      },
      acceptFile(offer, reservedBytes) {
        if (options.acceptFile) return options.acceptFile(offer, reservedBytes);
        return downloads ? { downloads } : { decline: 'no downloads directory' };
      },
      async onFileReceived(file) {
        files.push(file);
        await options.onFileReceived?.(file);
      },
      ...(options.admit ? { admit: options.admit } : {}),
      onClosed(reason) {
        closedReasons.push(reason);
        resolveClosed(reason);
      },
      log(line) {
        logs.push(line);
      },
    },
  });
  socketCleanups.push(() => session.close('test over'));
  return { session, identity, messages, files, logs, closedReasons, closed };
}

/** alice dialled (client end, `out`), bob accepted (server end, `in`); both handshakes done. */
async function connectedPair(
  aliceOptions: Partial<EndpointOptions> = {},
  bobOptions: Partial<EndpointOptions> = {},
): Promise<{ pair: SocketPair; alice: Endpoint; bob: Endpoint }> {
  const pair = await socketPair();
  const alice = startEndpoint(pair.client, 'out', { name: 'alice', listenPort: 4001, ...aliceOptions });
  const bob = startEndpoint(pair.server, 'in', { name: 'bob', listenPort: 4002, ...bobOptions });
  await within(Promise.all([alice.session.ready, bob.session.ready]), 'both handshakes');
  return { pair, alice, bob };
}

/** A frame seen on the wire, and when. */
interface SeenFrame {
  frame: Frame;
  at: number;
}

/**
 * The frames arriving at `socket`, decoded beside the session that reads them (a second 'data'
 * listener gets the same chunks): what the other end sent, when the test cannot ask it.
 */
function framesCrossing(socket: Socket): SeenFrame[] {
  const decoder = new FrameDecoder();
  const seen: SeenFrame[] = [];
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) seen.push({ frame, at: Date.now() });
  });
  return seen;
}

// ---------------------------------------------------------------------------------------------
// A raw peer: writes whatever bytes a test wants and decodes what the session sends back.

/** A raw peer: the shared test peer, on a plain socket. */
class RawPeer extends FramePeer {
  override waitFor<K extends Frame['kind']>(kind: K, match?: (frame: FrameOf<K>) => boolean): Promise<FrameOf<K>> {
    return super.waitFor(kind, match, SOON_MS);
  }
}

/** A raw peer on the dialling end, a recorded session ("bob") on the accepting end. */
async function rawAgainstSession(bobOptions: Partial<EndpointOptions> = {}): Promise<{ raw: RawPeer; bob: Endpoint; pair: SocketPair }> {
  const pair = await socketPair();
  const raw = new RawPeer(pair.client);
  const bob = startEndpoint(pair.server, 'in', { name: 'bob', listenPort: 4002, ...bobOptions });
  return { raw, bob, pair };
}

/** The same, once the raw peer has said HELLO and the session is ready. */
async function rawAfterHandshake(bobOptions: Partial<EndpointOptions> = {}): Promise<{ raw: RawPeer; bob: Endpoint; pair: SocketPair }> {
  const both = await rawAgainstSession(bobOptions);
  both.raw.hello();
  await within(both.bob.session.ready, 'ready');
  return both;
}

/** The session ended with `pattern`, told the raw peer why (BYE) and the connection is gone. */
async function assertClosedBy(bob: Endpoint, raw: RawPeer, pattern: RegExp): Promise<string> {
  const reason = await within(bob.closed, 'onClosed');
  assert.match(reason, pattern);
  assert.deepEqual(bob.closedReasons, [reason], 'onClosed runs exactly once');
  assert.equal(bob.session.isClosed, true);
  await within(raw.closed, 'the raw socket to close');
  const bye = raw.frames.find((frame) => frame.kind === 'bye');
  assert.ok(bye, 'the session says BYE before closing');
  assert.equal(bye.reason, reason.slice(0, 200));
  return reason;
}

/** A header claiming `bodyLength` bytes of frame type `code`, with no body. */
function rawHeader(bodyLength: number, code: number): Buffer {
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32BE(bodyLength, 0);
  header.writeUInt8(code, 4);
  return header;
}

/** A frame with the given type byte and payload, no validation. */
function rawFrame(code: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([rawHeader(1 + body.length, code), body]);
}

// ---------------------------------------------------------------------------------------------
// Files.

interface TestFile {
  path: string;
  size: number;
  sha256: string;
}

/** Writes `size` random bytes in 1 MiB pieces (memory stays small for big files). */
async function randomFile(dir: string, name: string, size: number): Promise<TestFile> {
  const filePath = path.join(dir, name);
  const hash = createHash('sha256');
  const handle = await open(filePath, 'w');
  try {
    for (let written = 0; written < size; ) {
      const piece = randomBytes(Math.min(MiB, size - written));
      hash.update(piece);
      await handle.write(piece, 0, piece.length);
      written += piece.length;
    }
  } finally {
    await handle.close();
  }
  return { path: filePath, size, sha256: hash.digest('hex') };
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

const isTempName = (name: string): boolean => name.startsWith('.chat-') && name.endsWith('.part');
/** A listing with no file but one transfer's partial file and its record: ['part', 'state']. */
const partialsOnly = (names: string[]): string[] => names.map((name) => /^\.chat-[0-9a-f-]{36}\.(part|state)$/.exec(name)?.[1] ?? name).sort();

/** Waits (bounded) until no temporary `.chat-*.part` file is left, then returns the directory listing. */
async function listAfterTempFilesGone(dir: string, ms = 3_000): Promise<string[]> {
  await waitUntil(async () => !(await listDir(dir)).some(isTempName), `no .chat-*.part left in ${dir}`, ms).catch(() => undefined);
  return listDir(dir);
}

// ---------------------------------------------------------------------------------------------

describe('PeerSession', { timeout: 60_000 }, () => {
  before(() => {
    process.on('uncaughtException', recordStray);
    process.on('unhandledRejection', recordStray);
  });

  after(() => {
    process.off('uncaughtException', recordStray);
    process.off('unhandledRejection', recordStray);
  });

  afterEach(async () => {
    while (socketCleanups.length > 0) await socketCleanups.pop()!();
    // Let aborted receivers finish closing and unlinking before their directories go.
    await delay(RECEIVER_CLEANUP_GRACE_MS);
    while (dirCleanups.length > 0) await dirCleanups.pop()!();
    const escaped = strayErrors.splice(0);
    assert.deepEqual(escaped, [], 'no error escaped to the process');
  });

  describe('handshake', { timeout: 60_000 }, () => {
    test('both sides learn the other\'s name, instance, listen port and direction', async () => {
      const { pair, alice, bob } = await connectedPair();
      const aliceSees = await alice.session.ready;
      const bobSees = await bob.session.ready;

      assert.deepEqual(aliceSees, {
        name: 'bob',
        instance: bob.identity.instance,
        version: PROTOCOL_VERSION,
        listenPort: 4002,
        address: `127.0.0.1:${pair.server.localPort}`,
        direction: 'out',
        fingerprint: TEST_FINGERPRINT,
      });
      assert.deepEqual(bobSees, {
        name: 'alice',
        instance: alice.identity.instance,
        version: PROTOCOL_VERSION,
        listenPort: 4001,
        address: `127.0.0.1:${pair.client.localPort}`,
        direction: 'in',
        fingerprint: TEST_FINGERPRINT,
      });
      assert.deepEqual(alice.session.peer, aliceSees);
      assert.deepEqual(bob.session.peer, bobSees);
      assert.equal(alice.session.direction, 'out');
      assert.equal(bob.session.direction, 'in');
      assert.equal(alice.session.isClosed, false);
      assert.equal(bob.session.isClosed, false);
    });

    test('the listening side waits for the dialler\'s HELLO, then answers with its own', async () => {
      // Not greeted, a listener says nothing until its handshake deadline, and then only why it leaves.
      const ungreeted = await rawAgainstSession({ handshakeTimeoutMs: SHORT_HANDSHAKE_MS });
      await assertClosedBy(ungreeted.bob, ungreeted.raw, /^no handshake within/);
      assert.deepEqual(ungreeted.raw.frames.map((frame) => frame.kind), ['bye'], 'nothing is said before the dialler greets');
      const { raw, bob } = await rawAgainstSession();
      raw.hello();
      const hello = await raw.waitFor('hello');
      assert.deepEqual(hello, {
        kind: 'hello',
        protocol: PROTOCOL_NAME,
        version: PROTOCOL_VERSION,
        minVersion: MIN_PROTOCOL_VERSION,
        name: 'bob',
        instance: bob.identity.instance,
        listenPort: 4002,
      });
    });

    test('a listening side that refuses the peer answers with a BYE and no HELLO', async () => {
      const { raw, bob } = await rawAgainstSession({ admit: (peer) => (peer.name === 'mallory' ? 'busy: already connected to alice' : undefined) });
      raw.hello();
      await assertClosedBy(bob, raw, /^busy: already connected to alice$/);
      assert.equal(raw.frames.some((frame) => frame.kind === 'hello'), false);
    });

    test('a peer that only speaks version 1 (plain TCP, before TLS) is refused', async () => {
      const { raw, bob } = await rawAgainstSession();
      raw.hello({ version: 1, minVersion: 1 });
      await assertClosedBy(bob, raw, /^protocol error: no common protocol version/);
    });

    test('a version 3 peer (it would send file data without credit) is refused with the versions', async () => {
      const { raw, bob } = await rawAgainstSession();
      raw.hello({ version: 3, minVersion: 3 });
      await assertClosedBy(bob, raw, /^protocol error: no common protocol version \(we speak 4-4, peer 3-3\): the peer runs an older chat; it must be upgraded$/);
    });

    test('a newer peer that still accepts our version settles on ours', async () => {
      const { raw, bob } = await rawAgainstSession();
      raw.hello({ version: 7, minVersion: MIN_PROTOCOL_VERSION, name: 'mallory', listenPort: 5555 });
      const peer = await within(bob.session.ready, 'ready');
      assert.equal(peer.version, PROTOCOL_VERSION);
      assert.equal(peer.name, 'mallory');
      assert.equal(peer.instance, raw.instance);
      assert.equal(peer.listenPort, 5555);
      // Still usable afterwards: a ping is answered.
      raw.send({ kind: 'ping', nonce: 17 });
      await raw.waitFor('pong', (pong) => pong.nonce === 17);
    });

    test('the listener counts as connected only once the dialler confirms its HELLO', async () => {
      const { raw, bob } = await rawAgainstSession();
      raw.autoConfirm = false;
      let ready = false;
      void bob.session.ready.then(() => (ready = true), () => undefined);
      raw.hello();
      await raw.waitFor('hello');
      // No wait needed: the listener would count as connected in the same step as it answers, and
      // its answer has crossed the socket since.
      assert.equal(ready, false, 'not connected before the confirmation');
      assert.equal(bob.session.peer, undefined);
      assert.equal(bob.session.claimedPeer?.name, 'mallory');
      raw.send({ kind: 'ping', nonce: 0 });
      const peer = await within(bob.session.ready, 'ready');
      assert.equal(peer.name, 'mallory');
      await raw.waitFor('pong', (pong) => pong.nonce === 0);
    });

    test('anything but PING 0 in place of the dialler\'s confirmation is a protocol error', async () => {
      const { raw, bob } = await rawAgainstSession();
      raw.autoConfirm = false;
      raw.hello();
      await raw.waitFor('hello');
      raw.send({ kind: 'message', id: randomUUID(), time: new Date().toISOString(), text: 'skipping the confirmation' });
      await assertClosedBy(bob, raw, /^protocol error: expected the dialler's confirmation \(ping 0\), got message$/);
      await assert.rejects(bob.session.ready, PeerError);
      assert.deepEqual(bob.messages, []);
    });

    test('a dialler that refuses the listener says BYE instead of confirming; neither side connects', async () => {
      const pair = await socketPair();
      const alice = startEndpoint(pair.client, 'out', {
        name: 'alice',
        peerFingerprint: 'cd'.repeat(32),
        admit: (peer) => (peer.fingerprint === 'cd'.repeat(32) ? 'identity: not the key we expected' : undefined),
      });
      const bob = startEndpoint(pair.server, 'in', { name: 'bob' });
      await assert.rejects(within(alice.session.ready, 'alice'), /identity: not the key we expected/);
      await assert.rejects(within(bob.session.ready, 'bob'), /peer left: identity: not the key we expected/);
      assert.equal(bob.session.peer, undefined, 'the listener never counted it as connected');
      assert.equal(bob.session.claimedPeer?.name, 'alice');
    });

    test('each side learns the key fingerprint its transport authenticated', async () => {
      const { alice, bob } = await connectedPair({ peerFingerprint: '01'.repeat(32) }, { peerFingerprint: '02'.repeat(32) });
      assert.equal((await alice.session.ready).fingerprint, '01'.repeat(32));
      assert.equal((await bob.session.ready).fingerprint, '02'.repeat(32));
    });

    test('a HELLO before the transport has authenticated the peer is refused', async () => {
      const pair = await socketPair();
      const raw = new RawPeer(pair.client);
      const bob = startEndpoint(pair.server, 'in', { name: 'bob', peerFingerprint: null });
      raw.hello();
      const reason = await within(bob.closed, 'onClosed');
      assert.match(reason, /hello before the peer was authenticated/);
      await within(raw.closed, 'the raw socket to close');
      assert.equal(raw.frames.some((frame) => frame.kind === 'hello'), false);
    });

    test('a peer that only speaks version 99 is refused', async () => {
      const { raw, bob } = await rawAgainstSession();
      raw.hello({ version: 99, minVersion: 99 });
      await assertClosedBy(bob, raw, /^protocol error: no common protocol version/);
      await assert.rejects(bob.session.ready, PeerError);
      assert.equal(bob.session.peer, undefined);
    });

    test('a first frame that is not HELLO closes the connection', async () => {
      const { raw, bob } = await rawAgainstSession();
      raw.send({ kind: 'message', id: randomUUID(), time: new Date().toISOString(), text: 'hi, skipping hello' });
      await assertClosedBy(bob, raw, /^protocol error: expected hello, got message$/);
      await assert.rejects(bob.session.ready, PeerError);
      assert.deepEqual(bob.messages, [], 'the message before HELLO is not delivered');
    });

    test('a HELLO of another protocol is refused', async () => {
      const { raw, bob } = await rawAgainstSession();
      raw.hello({ protocol: 'other' });
      await assertClosedBy(bob, raw, /^protocol error: not a chat peer \(protocol "other"\)$/);
      await assert.rejects(bob.session.ready, PeerError);
    });

    test('a HELLO carrying our own instance id is refused', async () => {
      const { raw, bob } = await rawAgainstSession();
      raw.hello({ instance: bob.identity.instance });
      await assertClosedBy(bob, raw, /^protocol error: connected to ourselves$/);
    });

    test('no HELLO within handshakeTimeoutMs closes the connection', async () => {
      const started = Date.now();
      const { raw, bob } = await rawAgainstSession({ handshakeTimeoutMs: 300 });
      await assertClosedBy(bob, raw, /^no handshake within 300 ms$/);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 250, `closed after ${elapsed} ms, before the timeout`);
      assert.ok(elapsed < 3_000, `closed only after ${elapsed} ms`);
      await assert.rejects(bob.session.ready, /no handshake within 300 ms/);
    });

    test('a completed handshake is not cut by the handshake timer', async () => {
      const { raw, bob } = await rawAfterHandshake({ handshakeTimeoutMs: SHORT_HANDSHAKE_MS });
      // A second session with the same deadline, started later and never greeted: once its timer
      // has fired, the first one's would have too (timers of one duration fire in creation order).
      const later = await rawAgainstSession({ handshakeTimeoutMs: SHORT_HANDSHAKE_MS });
      await assertClosedBy(later.bob, later.raw, new RegExp(`^no handshake within ${SHORT_HANDSHAKE_MS} ms$`));
      assert.equal(bob.session.isClosed, false, `closed: ${bob.closedReasons.join(', ')}`);
      raw.send({ kind: 'ping', nonce: 1 });
      await raw.waitFor('pong', (pong) => pong.nonce === 1);
    });
  });

  describe('keepalive', { timeout: 60_000 }, () => {
    const fast: KeepaliveOptions = { pingIntervalMs: 100, silenceLimitMs: 500 };

    test('a quiet peer is pinged, and a peer that answers stays connected', async () => {
      const { pair, alice, bob } = await connectedPair({ keepalive: fast }, { keepalive: fast });
      // Neither side sends anything: whatever crosses the wire now is keepalive.
      const started = Date.now();
      const fromAlice = framesCrossing(pair.server);
      const fromBob = framesCrossing(pair.client);
      // Nonce 0 is the handshake's confirmation (its PONG may cross now); keepalive counts from 1.
      const keepalive = (kind: 'ping' | 'pong') => [...fromAlice, ...fromBob].filter(({ frame }) => frame.kind === kind && frame.nonce > 0);
      const pings = () => keepalive('ping');
      const pongs = () => keepalive('pong');
      // Pings answered for twice the silence limit: without the answers counting as signs of life
      // the pair would have been dropped by then.
      await waitUntil(
        () => pongs().some((seen) => seen.at - started >= 2 * fast.silenceLimitMs),
        `PONGs for more than ${2 * fast.silenceLimitMs} ms (pings so far: ${pings().length})`,
      );
      assert.equal(alice.session.isClosed, false, `alice closed: ${alice.closedReasons.join(', ')}`);
      assert.equal(bob.session.isClosed, false, `bob closed: ${bob.closedReasons.join(', ')}`);
      const nonces = (from: SeenFrame[], kind: 'ping' | 'pong') =>
        from.flatMap(({ frame }) => (frame.kind === kind && frame.nonce > 0 ? [frame.nonce] : []));
      // A ping every interval or two, from one side or the other (each side's pings keep the other quiet).
      const pinged = pings().length;
      assert.ok(pinged >= (2 * fast.silenceLimitMs) / fast.pingIntervalMs / 2, `only ${pinged} pings`);
      // Each side answers the other's pings, nonce for nonce (the last may still be on its way).
      for (const [pinger, answerer] of [[fromAlice, fromBob], [fromBob, fromAlice]] as const) {
        const answered = nonces(answerer, 'pong');
        assert.deepEqual(answered, nonces(pinger, 'ping').slice(0, answered.length));
      }
    });

    test('a connected peer that goes silent is dropped after the silence limit', async () => {
      const { raw, bob } = await rawAfterHandshake({ keepalive: fast });
      // The raw peer reads but never answers: the session pings, then gives up.
      const started = Date.now();
      const reason = await within(bob.closed, 'the dead peer to be dropped');
      assert.match(reason, /no sign of life from the peer .*ping timeout/);
      assert.ok(Date.now() - started >= 300, 'not before the silence limit');
      assert.ok(raw.frames.some((frame) => frame.kind === 'ping' && frame.nonce > 0), 'it was pinged first');
    });
  });

  describe('messages', { timeout: 60_000 }, () => {
    test('sendMessage resolves only after the receiver\'s onMessage has finished', async () => {
      const events: string[] = [];
      const { alice, bob } = await connectedPair({}, {
        async onMessage(message) {
          events.push(`start ${message.text}`);
          await delay(SLOW_HANDLER_MS);
          events.push(`end ${message.text}`);
        },
      });
      const started = Date.now();
      const sent = await alice.session.sendMessage('hello bob');
      events.push('acked');
      assert.deepEqual(events, ['start hello bob', 'end hello bob', 'acked']);
      assert.ok(Date.now() - started >= SLOW_HANDLER_MS - 10, 'the ack waited for the slow handler');
      assert.equal(bob.messages.length, 1);
      assert.equal(bob.messages[0]!.id, sent.id);
      assert.equal(bob.messages[0]!.time, sent.time);
      assert.ok(!Number.isNaN(Date.parse(sent.time)));
    });

    test('unicode, multi-line, 64 KiB and limit-sized texts arrive byte for byte', async () => {
      const { alice, bob } = await connectedPair();
      const pattern = 'héllo wörld 👋🏽 世界 ﷽ e\u0301 \u200d\t"quoted" \\back\\slash\n';
      let kib64 = pattern.repeat(Math.ceil((64 * 1024) / Buffer.byteLength(pattern)));
      while (Buffer.byteLength(kib64) > 64 * 1024) kib64 = [...kib64].slice(0, -1).join('');
      kib64 += 'x'.repeat(64 * 1024 - Buffer.byteLength(kib64));
      assert.equal(Buffer.byteLength(kib64), 64 * 1024);
      const euroAtLimit = '€'.repeat(Math.floor(MAX_MESSAGE_BYTES / 3)) + 'x'.repeat(MAX_MESSAGE_BYTES % 3);
      assert.equal(Buffer.byteLength(euroAtLimit), MAX_MESSAGE_BYTES);
      const texts = [
        'héllo 👋 世界',
        'line one\nline two\r\nline three\n\n  indented\ttabbed',
        'control \u0000\u0001\u001f\u007f and emoji 🧑‍🚀 and RTL שלום',
        kib64,
        euroAtLimit,
        // Worst case for JSON escaping: every byte becomes \u00XX (6 bytes) and must still fit a frame.
        '\u0001'.repeat(MAX_MESSAGE_BYTES),
      ];
      for (const text of texts) {
        const sent = await alice.session.sendMessage(text);
        const received = bob.messages.at(-1)!;
        assert.equal(received.id, sent.id);
        assert.ok(Buffer.from(received.text, 'utf8').equals(Buffer.from(text, 'utf8')), `text of ${Buffer.byteLength(text)} bytes differs`);
      }
      assert.equal(bob.messages.length, texts.length);
    });

    test('messages flow both ways at once and each is acknowledged to its sender', async () => {
      const { alice, bob } = await connectedPair();
      const fromAlice = Array.from({ length: 25 }, (_, i) => `a${i}`);
      const fromBob = Array.from({ length: 25 }, (_, i) => `b${i}`);
      const sent = await within(
        Promise.all([...fromAlice.map((t) => alice.session.sendMessage(t)), ...fromBob.map((t) => bob.session.sendMessage(t))]),
        'all acks',
      );
      assert.equal(new Set(sent.map((s) => s.id)).size, 50, 'ids are unique');
      assert.deepEqual(bob.messages.map((m) => m.text), fromAlice);
      assert.deepEqual(alice.messages.map((m) => m.text), fromBob);
    });

    test('a text over MAX_MESSAGE_BYTES is rejected locally and the connection stays up', async () => {
      const { alice, bob } = await connectedPair();
      await assert.rejects(alice.session.sendMessage('a'.repeat(MAX_MESSAGE_BYTES + 1)), (error: unknown) => {
        assert.ok(error instanceof PeerError);
        assert.match(error.message, new RegExp(`exceeds ${MAX_MESSAGE_BYTES} bytes`));
        return true;
      });
      // Fewer characters than the limit, more bytes: the limit is in UTF-8 bytes.
      const euros = '€'.repeat(Math.floor(MAX_MESSAGE_BYTES / 3) + 1);
      assert.ok(euros.length < MAX_MESSAGE_BYTES);
      await assert.rejects(alice.session.sendMessage(euros), PeerError);
      await alice.session.sendMessage('still fine');
      assert.deepEqual(bob.messages.map((m) => m.text), ['still fine'], 'nothing oversized reached the peer');
      assert.equal(alice.session.isClosed, false);
      assert.equal(bob.session.isClosed, false);
    });

    test('an onMessage that throws closes the connection and fails the sender\'s promise', async () => {
      const { alice, bob } = await connectedPair({}, {
        onMessage() {
          throw new Error('disk full');
        },
      });
      await assert.rejects(alice.session.sendMessage('will not be recorded'), (error: unknown) => {
        assert.ok(error instanceof PeerError);
        return true;
      });
      const reason = await within(bob.closed, 'bob onClosed');
      assert.match(reason, /^could not record message: .*disk full/);
    });

    test('an acknowledgement for an unknown message id closes the connection', async () => {
      const { raw, bob } = await rawAfterHandshake();
      raw.send({ kind: 'messageAck', id: randomUUID() });
      await assertClosedBy(bob, raw, /^protocol error: acknowledgement for unknown message [0-9a-f-]{36}$/);
    });

    test('a message from a raw peer is acknowledged with its id', async () => {
      const { raw, bob } = await rawAfterHandshake();
      const id = randomUUID();
      raw.send({ kind: 'message', id, time: '2025-01-02T03:04:05.678Z', text: 'ping?' });
      await raw.waitFor('messageAck', (ack) => ack.id === id);
      assert.deepEqual(bob.messages, [{ kind: 'message', id, time: '2025-01-02T03:04:05.678Z', text: 'ping?' }]);
    });

    test('an empty text is rejected locally instead of tearing down the connection', async () => {
      const { alice, bob } = await connectedPair();
      await assert.rejects(alice.session.sendMessage(''), PeerError);
      await within(alice.session.sendMessage('after the empty one'), 'ack');
      assert.equal(bob.session.isClosed, false, `bob closed: ${bob.closedReasons.join(', ')}`);
    });
  });

  describe('files', { timeout: 60_000 }, () => {
    test('a file of a few MiB lands with identical bytes, reported before sendFile resolves', async () => {
      const source = await tempDir('src');
      const downloads = path.join(await tempDir('dl'), 'downloads'); // created when the endpoint starts
      const order: string[] = [];
      const { alice, bob } = await connectedPair({}, {
        downloadsDir: downloads,
        async onFileReceived(file) {
          order.push(`stored ${file.name}`);
          await delay(SLOW_HANDLER_MS);
          order.push('recorded');
        },
      });
      const file = await randomFile(source, 'data.bin', 3 * MiB + 12_345);
      const progress: number[] = [];
      const sent = await within(
        alice.session.sendFile(file.path, 'data.bin', file.size, (bytes) => progress.push(bytes)),
        'sendFile',
        SOON_MS * 2,
      );
      order.push('sent');

      assert.deepEqual(order, ['stored data.bin', 'recorded', 'sent']);
      assert.equal(sent.name, 'data.bin');
      assert.equal(sent.size, file.size);
      assert.equal(sent.sha256, file.sha256);
      assert.match(sent.id, /^[0-9a-f-]{36}$/);

      assert.equal(bob.files.length, 1);
      const received = bob.files[0]!;
      assert.deepEqual(received, { id: sent.id, name: 'data.bin', path: path.join(downloads, 'data.bin'), size: file.size, sha256: file.sha256 });
      const [original, stored] = await Promise.all([readFile(file.path), readFile(received.path)]);
      assert.ok(stored.equals(original), 'stored bytes equal the sent bytes');
      assert.equal(await sha256Of(received.path), file.sha256);
      assert.deepEqual(await listDir(downloads), ['data.bin'], 'no temporary file is left');

      assert.ok(progress.length >= Math.floor(file.size / FILE_READ_BYTES), `only ${progress.length} progress calls`);
      for (let i = 1; i < progress.length; i++) {
        assert.ok(progress[i]! > progress[i - 1]!, `progress went from ${progress[i - 1]} to ${progress[i]}`);
      }
      assert.ok(progress[0]! > 0);
      assert.equal(progress.at(-1), file.size);
    });

    test('a second file of the same name is stored as "name (1).ext" and the first is kept', async () => {
      const source = await tempDir('src');
      const downloads = await tempDir('dl');
      const { alice, bob } = await connectedPair({}, { downloadsDir: downloads });
      const first = await randomFile(source, 'one.bin', 200_000);
      const second = await randomFile(source, 'two.bin', 300_000);
      await alice.session.sendFile(first.path, 'report.pdf', first.size);
      await alice.session.sendFile(second.path, 'report.pdf', second.size);

      assert.deepEqual(bob.files.map((f) => f.name), ['report.pdf', 'report (1).pdf']);
      assert.deepEqual(await listDir(downloads), ['report (1).pdf', 'report.pdf']);
      assert.equal(await sha256Of(path.join(downloads, 'report.pdf')), first.sha256);
      assert.equal(await sha256Of(path.join(downloads, 'report (1).pdf')), second.sha256);
    });

    test('an empty file is transferred', async () => {
      const source = await tempDir('src');
      const downloads = await tempDir('dl');
      const { alice, bob } = await connectedPair({}, { downloadsDir: downloads });
      const file = path.join(source, 'empty.txt');
      await writeFile(file, '');
      const sent = await within(alice.session.sendFile(file, 'empty.txt', 0), 'sendFile');
      assert.equal(sent.size, 0);
      assert.equal(sent.sha256, createHash('sha256').digest('hex'));
      assert.deepEqual(await listDir(downloads), ['empty.txt']);
      assert.equal((await readFile(path.join(downloads, 'empty.txt'))).length, 0);
      assert.equal(bob.files.length, 1);
    });

    test('a declined offer rejects sendFile with the receiver\'s reason and stores nothing', async () => {
      const source = await tempDir('src');
      const downloads = await tempDir('dl');
      const offers: string[] = [];
      const { alice, bob } = await connectedPair({}, {
        acceptFile(offer) {
          offers.push(`${offer.name}:${offer.size}`);
          return { decline: 'not accepting files from you' };
        },
      });
      const file = await randomFile(source, 'secret.bin', 100_000);
      await assert.rejects(alice.session.sendFile(file.path, 'secret.bin', file.size), (error: unknown) => {
        assert.ok(error instanceof PeerError);
        assert.match(error.message, /not accepting files from you/);
        return true;
      });
      assert.deepEqual(offers, ['secret.bin:100000']);
      assert.deepEqual(bob.files, []);
      assert.deepEqual(await listDir(downloads), []);
      // The connection survives a decline.
      await alice.session.sendMessage('ok then');
      assert.equal(bob.messages.at(-1)!.text, 'ok then');
    });

    test(`more than ${MAX_INCOMING_TRANSFERS} offers at once: the extra one is declined`, async () => {
      const source = await tempDir('src');
      const downloads = await tempDir('dl');
      const { alice } = await connectedPair({}, { downloadsDir: downloads });
      const file = await randomFile(source, 'f.bin', 256 * 1024);
      const sends = Array.from({ length: MAX_INCOMING_TRANSFERS + 1 }, (_, i) => alice.session.sendFile(file.path, `f${i}.bin`, file.size));
      const results = await within(Promise.allSettled(sends), 'all transfers', SOON_MS * 2);
      const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [[i, String(r.reason)] as const] : []));
      assert.equal(rejected.length, 1, JSON.stringify(rejected));
      assert.equal(rejected[0]![0], MAX_INCOMING_TRANSFERS);
      assert.match(rejected[0]![1], /too many transfers at once/);
      assert.equal((await listDir(downloads)).length, MAX_INCOMING_TRANSFERS);
    });

    test('a receiver that drops the connection midway stores no file, and keeps its partial file for resuming', async () => {
      const source = await tempDir('src');
      const downloads = await tempDir('dl');
      const { pair, alice, bob } = await connectedPair({}, { downloadsDir: downloads });
      const file = await randomFile(source, 'big.bin', 24 * MiB);
      let receivedBytes = 0;
      let listingAtCut: string[] | undefined;
      pair.server.on('data', (chunk: Buffer) => {
        receivedBytes += chunk.length;
        if (listingAtCut === undefined && receivedBytes > 2 * MiB) {
          listingAtCut = readdirSync(downloads);
          pair.server.destroy();
        }
      });
      const progress: number[] = [];
      await assert.rejects(
        within(alice.session.sendFile(file.path, 'big.bin', file.size, (n) => progress.push(n)), 'sendFile to fail', SOON_MS * 2),
        PeerError,
      );
      assert.ok(listingAtCut, 'the cut happened');
      assert.ok(listingAtCut.some(isTempName), `a temporary file existed during the transfer: ${JSON.stringify(listingAtCut)}`);
      assert.ok((progress.at(-1) ?? 0) < file.size, 'the transfer really was cut short');
      await within(bob.closed, 'bob onClosed');
      await within(alice.closed, 'alice onClosed');
      assert.deepEqual(bob.files, []);
      assert.deepEqual(partialsOnly(await listDir(downloads)), ['part', 'state']);
    });

    test('a sender that disconnects midway leaves no file, only its partial file for resuming', async () => {
      const downloads = await tempDir('dl');
      const { raw, bob } = await rawAfterHandshake({ downloadsDir: downloads });
      const id = randomUUID();
      raw.send({ kind: 'fileOffer', id, name: 'half.bin', size: 1 * MiB });
      await raw.waitFor('fileAccept', (accept) => accept.id === id);
      raw.send({ kind: 'fileChunk', id, data: randomBytes(FILE_CHUNK_BYTES) });
      raw.send({ kind: 'fileChunk', id, data: randomBytes(FILE_CHUNK_BYTES) });
      await waitUntil(() => readdirSync(downloads).some(isTempName), 'the temporary file');
      raw.socket.destroy();
      assert.equal(await within(bob.closed, 'onClosed', SOON_MS), 'connection closed by peer');
      await within(bob.session.closed, 'closed', SOON_MS);
      assert.deepEqual(partialsOnly(await listDir(downloads)), ['part', 'state']);
      assert.equal(statSync(path.join(downloads, `.chat-${id}.part`)).size, 2 * FILE_CHUNK_BYTES, 'what arrived is kept');
    });

    test('a sender that disconnects right after its offer leaves nothing: an empty partial file is not kept', async () => {
      const downloads = await tempDir('dl');
      const { raw, bob } = await rawAfterHandshake({ downloadsDir: downloads });
      const id = randomUUID();
      raw.socket.end(encodeFrame({ kind: 'fileOffer', id, name: 'ghost.bin', size: 1000 }));
      await within(bob.closed, 'onClosed', SOON_MS);
      await within(bob.session.closed, 'closed', SOON_MS);
      assert.deepEqual(await listDir(downloads), [], `nothing of transfer ${id} is left`);
    });

    test('a SHA-256 that does not match is reported to the sender and nothing is stored', async () => {
      const downloads = await tempDir('dl');
      const { raw, bob } = await rawAfterHandshake({ downloadsDir: downloads });
      const id = randomUUID();
      raw.send({ kind: 'fileOffer', id, name: 'tampered.bin', size: 3 });
      await raw.waitFor('fileAccept', (accept) => accept.id === id && accept.offset === 0);
      raw.send({ kind: 'fileChunk', id, data: Buffer.from('abc') });
      raw.send({ kind: 'fileEnd', id, sha256: '00'.repeat(32) });
      const result = await raw.waitFor('fileResult', (r) => r.id === id);
      assert.equal(result.ok, false);
      assert.match(result.reason, /SHA-256 mismatch/);
      assert.deepEqual(bob.files, []);
      assert.deepEqual(await listDir(downloads), []);
      // A bad file is the sender's problem, not a protocol violation: the connection stays.
      raw.send({ kind: 'ping', nonce: 9 });
      await raw.waitFor('pong', (pong) => pong.nonce === 9);
      assert.equal(bob.session.isClosed, false);
    });

    test('messages sent during a 64 MiB transfer are acknowledged while it is still running', async () => {
      const source = await tempDir('src');
      const downloads = await tempDir('dl');
      const { alice, bob } = await connectedPair({}, { downloadsDir: downloads });
      const file = await randomFile(source, 'huge.bin', 64 * MiB);
      let sentBytes = 0;
      let transferSettled = false;
      const transfer = alice.session.sendFile(file.path, 'huge.bin', file.size, (n) => {
        sentBytes = n;
      });
      void transfer.then(
        () => {
          transferSettled = true;
        },
        () => {
          transferSettled = true;
        },
      );
      await waitUntil(() => sentBytes >= 4 * MiB, 'the transfer to be under way', SOON_MS * 2);

      const aliceToBob = await within(alice.session.sendMessage('are you getting this?'), 'ack from bob');
      const atFirstAck = { settled: transferSettled, sentBytes };
      const bobToAlice = await within(bob.session.sendMessage('yes, still receiving'), 'ack from alice');
      const atSecondAck = { settled: transferSettled, sentBytes };

      assert.equal(atFirstAck.settled, false, 'alice\'s message was acknowledged before the transfer finished');
      assert.ok(atFirstAck.sentBytes < file.size, `already sent all ${atFirstAck.sentBytes} bytes`);
      assert.equal(atSecondAck.settled, false, 'bob\'s message was acknowledged before the transfer finished');
      assert.equal(bob.messages.at(-1)!.id, aliceToBob.id);
      assert.equal(alice.messages.at(-1)!.id, bobToAlice.id);

      const sent = await within(transfer, 'the 64 MiB transfer', 30_000);
      assert.equal(sent.sha256, file.sha256);
      assert.equal(bob.files[0]!.sha256, file.sha256);
      assert.equal(await sha256Of(path.join(downloads, 'huge.bin')), file.sha256);
    });

    test('a receiver that stops reading stalls the sender instead of queueing the file in memory', async () => {
      const source = await tempDir('src');
      const downloads = await tempDir('dl');
      const { pair, alice, bob } = await connectedPair({}, { downloadsDir: downloads });
      const file = await randomFile(source, 'stalled.bin', 32 * MiB);
      let sentBytes = 0;
      const transfer = alice.session.sendFile(file.path, 'stalled.bin', file.size, (n) => {
        if (sentBytes === 0) pair.server.pause(); // bob's socket stops reading once data flows
        sentBytes = n;
      });
      transfer.catch(() => undefined);
      await waitUntil(() => sentBytes > 0, 'the first chunk');
      // Nothing to wait on: a stalled sender is one that does nothing. Give the loopback buffers
      // time to fill, then watch the sender stand still.
      await delay(STALL_FILL_MS);
      const stalledAt = sentBytes;
      await delay(STALL_WATCH_MS);
      // Kernel socket buffers on loopback hold a few MiB; a sender that reused its blocks before the
      // socket had flushed them (BlockPool, SEND_BLOCKS of FILE_READ_BYTES) would read the whole
      // file and queue it in memory.
      assert.ok(stalledAt < file.size / 2, `sender read ${stalledAt} of ${file.size} bytes while nobody read them`);
      assert.equal(sentBytes, stalledAt, 'the sender stays stalled');
      const queued = pair.client.writableLength;
      assert.ok(queued <= SEND_BLOCKS * FILE_READ_BYTES + QUEUE_SLACK_BYTES, `${queued} bytes queued in the sender's socket`);
      pair.server.resume();
      const sent = await within(transfer, 'the transfer after resuming', 30_000);
      assert.equal(sent.sha256, file.sha256);
      assert.equal(bob.files[0]!.sha256, file.sha256);
    });

    test('a file that grew after it was measured is sent as measured, and the connection carries on', async () => {
      const source = await tempDir('src');
      const downloads = await tempDir('dl');
      const { alice, bob } = await connectedPair({}, { downloadsDir: downloads });
      const file = await randomFile(source, 'growing.log', 100_000);
      await appendFile(file.path, 'one more line\n'); // appended after the size was taken
      // Exactly the measured bytes are offered and sent: the transfer succeeds with their hash.
      const sent = await within(alice.session.sendFile(file.path, 'growing.log', file.size), 'sendFile');
      assert.equal(sent.size, file.size);
      assert.equal(sent.sha256, file.sha256);
      assert.deepEqual(bob.files.map((f) => [f.name, f.size, f.sha256]), [['growing.log', file.size, file.sha256]]);
      assert.equal(await sha256Of(path.join(downloads, 'growing.log')), file.sha256);
      // And the connection carries on: a message after it is acknowledged.
      await within(alice.session.sendMessage('after the growing file'), 'ack');
      assert.equal(bob.session.isClosed, false, `bob closed: ${bob.closedReasons.join(', ')}`);
      assert.equal(alice.session.isClosed, false, `alice closed: ${alice.closedReasons.join(', ')}`);
    });
  });

  describe('hostile input from a raw socket', { timeout: 60_000 }, () => {
    interface Attack {
      name: string;
      reason: RegExp;
      /** Whether the raw peer completes the handshake first. */
      afterHello: boolean;
      attack(raw: RawPeer): Promise<void> | void;
    }
    const attacks: Attack[] = [
      {
        name: 'a length prefix over MAX_FRAME_BYTES',
        reason: new RegExp(`frame of ${MAX_FRAME_BYTES + 1} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`),
        afterHello: true,
        attack: (raw) => raw.write(rawHeader(MAX_FRAME_BYTES + 1, FrameType.message)),
      },
      {
        name: 'a 4 GiB length prefix',
        reason: /exceeds the \d+-byte limit/,
        afterHello: true,
        attack: (raw) => raw.write(rawHeader(0xffffffff, FrameType.fileChunk)),
      },
      {
        name: 'garbage instead of a HELLO (an HTTP request)',
        reason: /exceeds the \d+-byte limit/,
        afterHello: false,
        attack: (raw) => raw.write(Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')),
      },
      {
        name: 'garbage JSON in a message frame',
        reason: /message frame is not valid JSON/,
        afterHello: true,
        attack: (raw) => raw.write(rawFrame(FrameType.message, '{{{ not json')),
      },
      {
        name: 'a frame with an empty body',
        reason: /frame with an empty body/,
        afterHello: true,
        attack: (raw) => raw.write(rawHeader(0, 0)),
      },
      {
        name: 'an unknown frame type',
        reason: /unknown frame type 0x7f/,
        afterHello: true,
        attack: (raw) => raw.write(rawFrame(0x7f, '{}')),
      },
      {
        name: 'a second HELLO',
        reason: /second hello/,
        afterHello: true,
        attack: (raw) => raw.hello(),
      },
      {
        name: 'a chunk for an unknown transfer id',
        reason: /frame for unknown incoming transfer [0-9a-f-]{36}/,
        afterHello: true,
        attack: (raw) => raw.send({ kind: 'fileChunk', id: randomUUID(), data: Buffer.from('surprise') }),
      },
      {
        name: 'an accept for a transfer never offered',
        reason: /frame for unknown outgoing transfer/,
        afterHello: true,
        attack: (raw) => raw.send({ kind: 'fileAccept', id: randomUUID(), offset: 0 }),
      },
    ];

    for (const { name, reason, afterHello, attack } of attacks) {
      test(`${name} closes the connection with a protocol error`, async () => {
        const { raw, bob } = await rawAgainstSession();
        if (afterHello) {
          raw.hello();
          await within(bob.session.ready, 'ready');
        }
        await attack(raw);
        const closedWith = await assertClosedBy(bob, raw, /^protocol error: /);
        assert.match(closedWith, reason);
        if (!afterHello) await assert.rejects(bob.session.ready, PeerError);
      });
    }

    test('the same hostile bytes split one byte per write are caught too', async () => {
      const { raw, bob } = await rawAfterHandshake();
      for (const byte of rawFrame(0x7f, '{}')) {
        raw.write(Buffer.from([byte]));
        await delay(1);
      }
      await assertClosedBy(bob, raw, /^protocol error: unknown frame type 0x7f$/);
    });

    test('more chunk bytes than offered close the connection and drop the temporary file', async () => {
      const downloads = await tempDir('dl');
      const { raw, bob } = await rawAfterHandshake({ downloadsDir: downloads });
      const id = randomUUID();
      raw.send({ kind: 'fileOffer', id, name: 'ten.bin', size: 10 });
      await raw.waitFor('fileAccept', (accept) => accept.id === id);
      assert.ok(readdirSync(downloads).some(isTempName), 'the temporary file exists once accepted');
      raw.send({ kind: 'fileChunk', id, data: Buffer.alloc(6, 1) });
      raw.send({ kind: 'fileChunk', id, data: Buffer.alloc(6, 2) });
      await assertClosedBy(bob, raw, /^protocol error: transfer [0-9a-f-]{36} sent more than the 10 bytes it offered$/);
      assert.deepEqual(bob.files, []);
      assert.deepEqual(await listAfterTempFilesGone(downloads), []);
    });

    test('a hostile peer does not disturb another session in the same process', async () => {
      const { alice, bob } = await connectedPair();
      const { raw, bob: victim } = await rawAgainstSession();
      raw.write(Buffer.from('\xff\xff\xff\xff garbage', 'latin1'));
      await assertClosedBy(victim, raw, /^protocol error: /);
      await alice.session.sendMessage('unaffected');
      assert.equal(bob.messages.at(-1)!.text, 'unaffected');
    });
  });

  describe('close()', { timeout: 60_000 }, () => {
    test('the other side sees the BYE reason; both sockets end', async () => {
      const { pair, alice, bob } = await connectedPair();
      const serverClosed = once(pair.server, 'close');
      const clientClosed = once(pair.client, 'close');
      alice.session.close('see you tomorrow');
      assert.equal(alice.session.isClosed, true);
      assert.equal(await within(bob.closed, 'bob onClosed'), 'peer left: see you tomorrow');
      assert.equal(await alice.closed, 'see you tomorrow');
      assert.equal(bob.session.isClosed, true);
      assert.ok(bob.logs.some((line) => line.includes('see you tomorrow')), 'the goodbye is logged');
      await within(Promise.all([serverClosed, clientClosed]), 'both sockets to close');
      // Closing twice is harmless and does not call onClosed again.
      alice.session.close('again');
      assert.deepEqual(alice.closedReasons, ['see you tomorrow']);
      assert.deepEqual(bob.closedReasons, ['peer left: see you tomorrow']);
    });

    test('a pending sendMessage rejects with PeerError when we close', async () => {
      const hold = gate();
      const { alice, bob } = await connectedPair({}, { onMessage: () => hold.promise });
      const pending = alice.session.sendMessage('are you there?');
      pending.catch(() => undefined);
      await waitUntil(() => bob.messages.length === 1, 'bob to receive the message');
      alice.session.close('leaving');
      await assert.rejects(within(pending, 'the pending send'), (error: unknown) => {
        assert.ok(error instanceof PeerError);
        assert.match(error.message, /^peer connection closed: leaving$/);
        return true;
      });
      assert.equal(await within(bob.closed, 'bob onClosed'), 'peer left: leaving');
    });

    test('pending sendMessage and sendFile reject with PeerError when the peer closes', async () => {
      const source = await tempDir('src');
      const downloads = await tempDir('dl');
      const hold = gate();
      const { alice, bob } = await connectedPair({}, {
        downloadsDir: downloads,
        onMessage: () => hold.promise,
        onFileReceived: () => hold.promise,
      });
      const file = await randomFile(source, 'held.bin', 500_000);
      const message = alice.session.sendMessage('held');
      const transfer = alice.session.sendFile(file.path, 'held.bin', file.size);
      message.catch(() => undefined);
      transfer.catch(() => undefined);
      await waitUntil(() => bob.messages.length === 1 && bob.files.length === 1, 'bob to hold both');
      bob.session.close('going offline');
      for (const pending of [message, transfer]) {
        await assert.rejects(within(pending as Promise<unknown>, 'a pending operation'), (error: unknown) => {
          assert.ok(error instanceof PeerError);
          assert.match(error.message, /^peer connection closed: peer left: going offline$/);
          return true;
        });
      }
    });

    test('sending after close fails with PeerError', async () => {
      const source = await tempDir('src');
      const { alice } = await connectedPair();
      const file = await randomFile(source, 'x.bin', 10);
      alice.session.close('done');
      await assert.rejects(async () => alice.session.sendMessage('too late'), PeerError);
      await assert.rejects(alice.session.sendFile(file.path, 'x.bin', file.size), PeerError);
    });

    test('sendMessage after close returns a rejected promise instead of throwing', async () => {
      const { alice } = await connectedPair();
      alice.session.close('done');
      let result: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        result = alice.session.sendMessage('too late');
      });
      await assert.rejects(result!, PeerError);
    });
  });
});
