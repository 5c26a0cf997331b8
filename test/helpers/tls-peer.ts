/**
 * A hand-driven peer for end-to-end tests: its own identity, a TLS 1.3 connection to a real
 * daemon's peer port, and whatever frames (or bytes) a test wants to send through it.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls, { type TLSSocket } from 'node:tls';
import { loadOrCreateIdentity, type Identity } from '../../src/identity/identity.ts';
import { PEER_ALPN } from '../../src/peer/secure-transport.ts';
import { FrameDecoder } from '../../src/wire/decoder.ts';
import { encodeFrame, type Frame, type HelloFrame } from '../../src/wire/frames.ts';
import { MIN_PROTOCOL_VERSION, PROTOCOL_NAME, PROTOCOL_VERSION } from '../../src/wire/limits.ts';

const WAIT_MS = 15_000;

/** A fresh identity in a temporary directory; `remove()` deletes it. */
export async function createTestIdentity(): Promise<Identity & { remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chat-test-identity-'));
  const identity = await loadOrCreateIdentity(path.join(dir, 'identity'));
  return { ...identity, remove: () => rm(dir, { recursive: true, force: true }) };
}

type FrameOf<K extends Frame['kind']> = Extract<Frame, { kind: K }>;

export class TlsTestPeer {
  readonly socket: TLSSocket;
  readonly frames: Frame[] = [];
  readonly instance = randomUUID();
  readonly closed: Promise<void>;
  private readonly decoder = new FrameDecoder();
  /** Like a real dialler, confirm the daemon's HELLO with PING 0; off to send the confirmation by hand. */
  autoConfirm = true;

  private constructor(socket: TLSSocket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) {
        this.frames.push(frame);
        // Like a real dialler: confirm the daemon's HELLO.
        if (frame.kind === 'hello' && this.autoConfirm) this.send({ kind: 'ping', nonce: 0 });
      }
    });
    socket.on('error', () => undefined);
    this.closed = once(socket, 'close').then(() => undefined);
  }

  /** Completes TCP + TLS (with `identity`'s certificate, unless null) and resolves once encrypted. */
  static async connect(port: number, identity: Pick<Identity, 'key' | 'cert'> | null, alpn = PEER_ALPN): Promise<TlsTestPeer> {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ...(identity ? { key: identity.key, cert: identity.cert } : {}),
      minVersion: 'TLSv1.3',
      rejectUnauthorized: false,
      ALPNProtocols: [alpn],
    });
    await Promise.race([
      once(socket, 'secureConnect'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no TLS handshake')), WAIT_MS)),
    ]);
    return new TlsTestPeer(socket);
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  send(frame: Frame): void {
    this.write(encodeFrame(frame));
  }

  hello(overrides: Partial<HelloFrame> = {}): void {
    this.send({
      kind: 'hello',
      protocol: PROTOCOL_NAME,
      version: PROTOCOL_VERSION,
      minVersion: MIN_PROTOCOL_VERSION,
      name: 'mallory',
      instance: this.instance,
      listenPort: 0,
      ...overrides,
    });
  }

  /** Waits for a frame of `kind` (matching `match`) from the daemon. */
  async waitFor<K extends Frame['kind']>(kind: K, match: (frame: FrameOf<K>) => boolean = () => true): Promise<FrameOf<K>> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const found = this.frames.find((frame): frame is FrameOf<K> => frame.kind === kind && match(frame as FrameOf<K>));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${kind} frame from the daemon; got ${this.frames.map((f) => f.kind).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Resolves once the daemon has closed the connection; rejects if it does not within the bound. */
  async waitClosed(ms = WAIT_MS): Promise<void> {
    await Promise.race([
      this.closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('the daemon did not close the connection')), ms)),
    ]);
  }

  close(): void {
    this.socket.destroy();
  }
}
