// What one peer can make a session hold and do: file data before the offer was accepted is a
// protocol violation. Two endpoints over a real loopback socket pair.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, test } from 'node:test';
import { PeerSession, type KeepaliveOptions } from '../../src/peer/session.ts';
import type { ReceivedFile } from '../../src/peer/transfer-receiver.ts';
import { encodeFrame, type MessageFrame } from '../../src/wire/frames.ts';
import { FramePeer } from '../helpers/frame-peer.ts';
import { createSocketPair, type SocketPair } from '../helpers/socket-pair.ts';

const SOON_MS = 5_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chat-bounds-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

interface Endpoint {
  session: PeerSession;
  messages: MessageFrame[];
  files: ReceivedFile[];
  closed: Promise<string>;
}

interface EndpointOptions {
  keepalive?: KeepaliveOptions;
  downloadsDir?: string;
}

function startEndpoint(socket: Socket, direction: 'in' | 'out', name: string, options: EndpointOptions = {}): Endpoint {
  const messages: MessageFrame[] = [];
  const files: ReceivedFile[] = [];
  let resolveClosed!: (reason: string) => void;
  const closed = new Promise<string>((resolve) => { resolveClosed = resolve; });
  const session = new PeerSession({
    socket,
    direction,
    local: { name, instance: randomUUID(), listenPort: 0 },
    peerFingerprint: () => 'ab'.repeat(32),
    ...(options.keepalive ? { keepalive: options.keepalive } : {}),
    handlers: {
      onMessage: (message) => { messages.push(message); },
      acceptFile: () => (options.downloadsDir ? { downloadsDir: options.downloadsDir } : { decline: 'no downloads directory' }),
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
  await within(bob.session.ready, SOON_MS, 'the handshake');
  // The confirmation's PONG, so that what the raw peer has read ends here.
  await raw.waitFor('pong', (pong) => pong.nonce === 0);
  return { raw, bob, pair };
}

describe('peer bounds', { timeout: 60_000 }, () => {
  describe('file data before the offer was accepted', () => {
    test('a FILE_CHUNK right behind its FILE_OFFER is a protocol error, and nothing is stored', async () => {
      const downloads = await tempDir();
      const { raw, bob } = await rawAgainstSession({ downloadsDir: downloads });
      const id = randomUUID();
      raw.write(Buffer.concat([
        encodeFrame({ kind: 'fileOffer', id, name: 'early.bin', size: 3 }),
        encodeFrame({ kind: 'fileChunk', id, data: Buffer.from('abc') }),
      ]));
      const reason = await within(bob.closed, SOON_MS, 'the violation');
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
      assert.equal(await within(bob.closed, SOON_MS, 'the violation'), `protocol error: file end for transfer ${id} before it was accepted`);
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
