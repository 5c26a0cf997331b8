// Hostile input on the peer port, outside TLS and inside it: the offending connection is closed
// with a logged reason, the daemon stays up and its real peer keeps working.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { FRAME_HEADER_BYTES, HANDSHAKE_TIMEOUT_MS } from '../../src/wire/limits.ts';
import { encodeFrame } from '../../src/wire/frames.ts';
import { ChatHome, historyOf, isAlive } from '../helpers/chat.ts';
import type { FramePeer } from '../helpers/frame-peer.ts';
import { connectTlsPeer, createTestIdentity } from '../helpers/tls-peer.ts';

/**
 * A refusal must come from the refusal itself, not from the daemon's handshake timeout (bob runs
 * with the real HANDSHAKE_TIMEOUT_MS): a fraction of it, still far above a loopback handshake.
 */
const REFUSED_WITHIN_MS = HANDSHAKE_TIMEOUT_MS / 4;
/** How long an attempt is watched at most: past the handshake timeout, so a missing refusal fails on `ms`, not by hanging. */
const ATTEMPT_BOUND_MS = HANDSHAKE_TIMEOUT_MS + 5_000;

interface TlsAttempt {
  /** The first error's code on our side, e.g. the alert the daemon sent. */
  errorCode: string | undefined;
  errorMessage: string | undefined;
  /** Whether our TLS handshake completed. */
  secured: boolean;
  /** Bytes the daemon sent inside TLS. */
  received: number;
  /** From connecting until the connection closed (or ATTEMPT_BOUND_MS). */
  ms: number;
}

/** One TLS connection with `identity`'s certificate and `options`, watched until the daemon ends it. */
async function tlsAttempt(port: number, identity: { key: string; cert: string }, options: tls.ConnectionOptions): Promise<TlsAttempt> {
  const started = Date.now();
  const socket = tls.connect({ host: '127.0.0.1', port, key: identity.key, cert: identity.cert, rejectUnauthorized: false, minVersion: 'TLSv1.3', ...options });
  const attempt: TlsAttempt = { errorCode: undefined, errorMessage: undefined, secured: false, received: 0, ms: 0 };
  socket.on('error', (error: NodeJS.ErrnoException) => {
    attempt.errorCode ??= error.code;
    attempt.errorMessage ??= error.message;
  });
  socket.on('secureConnect', () => { attempt.secured = true; });
  socket.on('data', (chunk: Buffer) => { attempt.received += chunk.length; });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    // Not once(socket, 'close'): that rejects on the 'error' that carries the alert.
    new Promise((resolve) => socket.once('close', resolve)),
    new Promise((resolve) => { timer = setTimeout(resolve, ATTEMPT_BOUND_MS); }),
  ]);
  clearTimeout(timer);
  attempt.ms = Date.now() - started;
  socket.destroy();
  return attempt;
}

/** Writes plain bytes (no TLS) to the port and resolves once the daemon closes the connection. */
function sendPlainAndAwaitClose(port: number, payloads: Buffer[], timeoutMs = 15_000): Promise<{ received: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the daemon did not close the connection'));
    }, timeoutMs);
    socket.on('connect', () => {
      for (const payload of payloads) socket.write(payload);
    });
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(received) });
    });
  });
}

describe('hostile input on the peer port', { timeout: 120_000 }, () => {
  let home: ChatHome;
  let alice: { port: number; pid: number };
  let bob: { port: number; pid: number };
  let bobLog: string;
  let mallory: Awaited<ReturnType<typeof createTestIdentity>>;

  before(async () => {
    mallory = await createTestIdentity();
    home = await ChatHome.create();
    alice = await home.startDaemon('alice');
    bob = await home.startDaemon('bob');
    bobLog = path.join(home.profileDir('bob'), 'chatd.log');
    const connected = await home.run(['connect', '--profile', 'alice', String(bob.port)]);
    assert.equal(connected.code, 0, connected.stderr);
  });
  after(async () => {
    await home.cleanup();
    await mallory.remove();
  });

  /** A TLS connection with mallory's certificate that has said `frames`; resolves once the daemon hangs up. */
  async function sendInsideTlsAndAwaitClose(payloads: Buffer[]): Promise<FramePeer> {
    const peer = await connectTlsPeer(bob.port, mallory);
    for (const payload of payloads) peer.write(payload);
    await peer.waitClosed();
    return peer;
  }

  /** Waits (bounded poll) until bob's log has a line matching `pattern`: the daemon logs as it drops, the client may see the drop first. */
  async function waitForLog(pattern: RegExp, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pattern.test(await readFile(bobLog, 'utf8'))) {
      if (Date.now() > deadline) assert.fail(`no log line matching ${pattern} within ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function assertStillServing(marker: string): Promise<void> {
    assert.ok(isAlive(bob.pid), 'the daemon is still running');
    const sent = await home.run(['send', '--profile', 'alice', marker]);
    assert.equal(sent.code, 0, `the real peer still works: ${sent.stderr}`);
    const events = await historyOf(home, 'bob', 3);
    assert.ok(events.some((event) => event.text === marker));
  }

  test('plain-text garbage (no TLS): closed, logged with the address', async () => {
    const { received } = await sendPlainAndAwaitClose(bob.port, [randomBytes(64 * 1024)]);
    assert.equal(received.includes(Buffer.from('chat-peer')), false, 'nothing of the protocol is said outside TLS');
    await assertStillServing('after garbage');
    assert.match(await readFile(bobLog, 'utf8'), /peer 127\.0\.0\.1:\d+: dropped before handshake: "socket error: .*(SSL|TLS|wrong version|packet length)/i);
  });

  test('a plain-text client speaking the old unencrypted protocol (a HELLO without TLS)', async () => {
    const hello = encodeFrame({
      kind: 'hello', protocol: 'chat-peer', version: 1, minVersion: 1, name: 'mallory', instance: randomUUID(), listenPort: 0,
    });
    const { received } = await sendPlainAndAwaitClose(bob.port, [hello]);
    assert.equal(received.includes(Buffer.from('chat-peer')), false, 'no HELLO comes back in the clear');
    await assertStillServing('after plaintext hello');
  });

  test('an HTTP request', async () => {
    await sendPlainAndAwaitClose(bob.port, [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
    await assertStillServing('after http');
  });

  test('a TLS client without a certificate is refused', async () => {
    const peer = await connectTlsPeer(bob.port, null).catch(() => undefined);
    if (peer) {
      peer.hello();
      await peer.waitClosed();
      assert.equal(peer.frames.some((frame) => frame.kind === 'hello'), false, 'no HELLO for an anonymous client');
    }
    await assertStillServing('after anonymous tls');
    assert.match(await readFile(bobLog, 'utf8'), /presented no certificate/);
  });

  test('a TLS client for another application protocol (ALPN) is refused at once, with the no_application_protocol alert', async () => {
    const attempt = await tlsAttempt(bob.port, mallory, { ALPNProtocols: ['http/1.1'] });
    assert.equal(attempt.errorCode, 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL', `the TLS alert (${attempt.errorMessage})`);
    assert.equal(attempt.secured, false, 'the TLS handshake never completed');
    assert.ok(attempt.ms < REFUSED_WITHIN_MS, `refused after ${attempt.ms} ms, not at once (the handshake timeout is ${HANDSHAKE_TIMEOUT_MS} ms)`);
    await waitForLog(/peer 127\.0\.0\.1:\d+: dropped before handshake: "socket error: .*no application protocol/);
    await assertStillServing('after wrong alpn');
  });

  test('a TLS client that asks for no application protocol is dropped once TLS is up, before a byte is said', async () => {
    const attempt = await tlsAttempt(bob.port, mallory, {});
    assert.equal(attempt.secured, true, `TLS itself completes (${attempt.errorMessage ?? 'no error'})`);
    assert.equal(attempt.received, 0, 'nothing is said to it');
    assert.ok(attempt.ms < REFUSED_WITHIN_MS, `dropped after ${attempt.ms} ms, not at once (the handshake timeout is ${HANDSHAKE_TIMEOUT_MS} ms)`);
    await waitForLog(/peer 127\.0\.0\.1:\d+: dropped before handshake: "socket error: the other side does not speak \\"chat\\" over TLS \(ALPN\)"/);
    await assertStillServing('after no alpn');
  });

  test('inside TLS: random garbage bytes', async () => {
    await sendInsideTlsAndAwaitClose([randomBytes(64 * 1024)]);
    await assertStillServing('after tls garbage');
    assert.match(await readFile(bobLog, 'utf8'), /protocol error/);
  });

  test('inside TLS: a length prefix of 4 GiB is refused without waiting for the body', async () => {
    const header = Buffer.alloc(FRAME_HEADER_BYTES, 0xff);
    header.writeUInt8(0x01, 4);
    await sendInsideTlsAndAwaitClose([header]);
    await assertStillServing('after huge prefix');
    assert.match(await readFile(bobLog, 'utf8'), /exceeds the \d+-byte limit/);
  });

  test('inside TLS: frames before HELLO, a bad HELLO, and a wrong protocol version', async () => {
    const message = encodeFrame({ kind: 'message', id: randomUUID(), time: new Date().toISOString(), text: 'sneaky' });
    await sendInsideTlsAndAwaitClose([message]);
    const badHello = Buffer.concat([Buffer.from([0, 0, 0, 3, 0x01]), Buffer.from('[1]')]);
    await sendInsideTlsAndAwaitClose([badHello]);
    const future = encodeFrame({
      kind: 'hello', protocol: 'chat-peer', version: 9, minVersion: 9, name: 'mallory', instance: randomUUID(), listenPort: 0,
    });
    await sendInsideTlsAndAwaitClose([future]);
    await assertStillServing('after bad hellos');
    const events = await historyOf(home, 'bob', 1000);
    assert.ok(!events.some((event) => event.text === 'sneaky'), 'nothing before the handshake is accepted');
    assert.match(await readFile(bobLog, 'utf8'), /no common protocol version/);
  });

  test('a second peer is refused while one is connected', async () => {
    const intruder = await connectTlsPeer(bob.port, mallory);
    intruder.hello();
    const bye = await intruder.waitFor('bye');
    assert.match(bye.reason, /busy/);
    await intruder.waitClosed();
    await assertStillServing('after intruder');
    const status = JSON.parse((await home.run(['daemon', 'status', '--profile', 'bob', '--json'])).stdout);
    assert.equal(status.peer.name, 'alice');
  });

  test('chat connect to a daemon that already has a peer exits 1 and says it wants an invite', async () => {
    await home.startDaemon('carol');
    const result = await home.run(['connect', '--profile', 'carol', String(bob.port)]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^chat: 127\.0\.0\.1:\d+ refused: busy: bob is not accepting new peers; ask bob to run: chat invite\n$/);
    const status = JSON.parse((await home.run(['daemon', 'status', '--profile', 'carol', '--json'])).stdout);
    assert.equal(status.connection, 'disconnected');
  });

  test('chat connect from a daemon that already has a peer exits 1 without dialling', async () => {
    const carol = await home.startDaemon('carol');
    const before = (await historyOf(home, 'carol')).length;
    const result = await home.run(['connect', '--profile', 'alice', String(carol.port)]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^chat: already connected to bob; run "chat disconnect" first\n$/);
    assert.equal((await historyOf(home, 'carol')).length, before, 'carol never saw a connection');
    const again = await home.run(['connect', '--profile', 'alice', String(bob.port)]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already connected to bob/);
  });

  test('many garbage connections at once', async () => {
    await Promise.all(Array.from({ length: 50 }, () => sendPlainAndAwaitClose(bob.port, [randomBytes(1024)])));
    await assertStillServing('after flood');
    assert.ok(isAlive(alice.pid));
  });
});
