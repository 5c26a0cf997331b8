/**
 * How a session notices that the link ended: a peer's FIN or RST ends it at once, even while the
 * peer reads nothing and our writes wait behind a full socket buffer.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { PeerSession } from '../../src/peer/session.ts';
import { FramePeer } from '../helpers/frame-peer.ts';
import { createSocketPair, type SocketPair } from '../helpers/socket-pair.ts';

/** Far beyond what loopback's socket buffers hold, so the sender's writes block. */
const FILE_BYTES = 256 * 1024 * 1024;
/** Keepalive that cannot end the session within the test: only the FIN or RST can. */
const SLOW_KEEPALIVE = { pingIntervalMs: 60_000, silenceLimitMs: 240_000 };
/** "At once": generous for a loaded machine, far below any keepalive. */
const AT_ONCE_MS = 3_000;

let dir: string;
let file: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chat-link-end-'));
  file = path.join(dir, 'big.bin');
  await writeFile(file, '');
  await truncate(file, FILE_BYTES);
});
after(() => rm(dir, { recursive: true, force: true }));

/** A session (the listener) sending a big file to a raw dialler that accepted it and then stopped reading. */
async function blockedSender(pair: SocketPair): Promise<{ session: PeerSession; raw: FramePeer; closed: Promise<string>; sending: Promise<unknown> }> {
  let closedWith!: (reason: string) => void;
  const closed = new Promise<string>((resolve) => { closedWith = resolve; });
  const session = new PeerSession({
    socket: pair.server,
    direction: 'in',
    local: { name: 'bob', instance: randomUUID(), listenPort: 0 },
    peerFingerprint: () => 'ab'.repeat(32),
    keepalive: SLOW_KEEPALIVE,
    handlers: {
      onMessage: () => undefined,
      acceptFile: () => ({ decline: 'not in this test' }),
      onFileReceived: () => undefined,
      onClosed: (reason) => closedWith(reason),
      log: () => undefined,
    },
  });
  const raw = new FramePeer(pair.client);
  raw.hello();
  await session.ready;
  let sent = 0;
  const sending = session.sendFile(file, 'big.bin', FILE_BYTES, (bytes) => { sent = bytes; });
  sending.catch(() => undefined);
  const offer = await raw.waitFor('fileOffer');
  raw.send({ kind: 'fileAccept', id: offer.id, offset: 0 });
  // Credit for the whole file: only the socket can hold the sender back.
  raw.send({ kind: 'fileCredit', id: offer.id, until: FILE_BYTES });
  // Accepted: now it reads nothing more, and the sender fills the socket buffers.
  raw.socket.pause();
  let last = -1;
  for (let stalled = 0; stalled < 5;) {
    await delay(100);
    stalled = sent === last && pair.server.writableLength > 0 ? stalled + 1 : 0;
    last = sent;
  }
  assert.ok(sent < FILE_BYTES, 'the sender is blocked before the end of the file');
  return { session, raw, closed, sending };
}

describe('the end of a link', { timeout: 60_000 }, () => {
  test('a FIN from a peer that reads nothing ends the session at once, with our writes blocked', async () => {
    const pair = await createSocketPair();
    try {
      const { closed, sending } = await blockedSender(pair);
      const started = Date.now();
      // Half-close only: the peer still holds the socket and reads nothing (no RST comes after).
      pair.client.end();
      const reason = await Promise.race([closed, delay(AT_ONCE_MS).then(() => 'still open')]);
      assert.equal(reason, 'connection closed by peer', `after ${Date.now() - started} ms`);
      await assert.rejects(sending, /connection closed by peer/);
      assert.equal(pair.server.destroyed, true, 'the socket is gone, not waiting to flush');
    } finally {
      await pair.close();
    }
  });

  test('an RST from a peer that reads nothing ends the session at once, with our writes blocked', async () => {
    const pair = await createSocketPair();
    try {
      const { closed, sending } = await blockedSender(pair);
      pair.client.resetAndDestroy();
      const reason = await Promise.race([closed, delay(AT_ONCE_MS).then(() => 'still open')]);
      assert.match(reason, /socket error: .*ECONNRESET|connection closed by peer/);
      await assert.rejects(sending);
    } finally {
      await pair.close();
    }
  });
});
