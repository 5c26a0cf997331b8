/**
 * A hand-driven peer for end-to-end tests: its own identity and a TLS 1.3 connection to a real
 * daemon's peer port, through which a test sends whatever frames or bytes it wants.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import tls from 'node:tls';
import { loadOrCreateIdentity, type Identity } from '../../src/identity/identity.ts';
import { PEER_ALPN } from '../../src/peer/secure-transport.ts';
import { FramePeer } from './frame-peer.ts';

const HANDSHAKE_WAIT_MS = 15_000;

/** A fresh identity in a temporary directory; `remove()` deletes it. */
export async function createTestIdentity(): Promise<Identity & { remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chat-test-identity-'));
  const identity = await loadOrCreateIdentity(path.join(dir, 'identity'));
  return { ...identity, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A fresh identity for the suite (describe) this is called in: a before() hook fills it in and an
 * after() hook removes it, so read it in tests and in hooks registered after this call.
 */
export function identityForSuite(): Identity {
  const identity: Identity = { key: '', cert: '', fingerprint: '', keyFile: '', certFile: '' };
  let remove = async (): Promise<void> => undefined;
  before(async () => {
    const { remove: removeDir, ...made } = await createTestIdentity();
    remove = removeDir;
    Object.assign(identity, made);
  });
  after(() => remove());
  return identity;
}

/** Completes TCP + TLS (with `identity`'s certificate, unless null) and resolves once encrypted. */
export async function connectTlsPeer(port: number, identity: Pick<Identity, 'key' | 'cert'> | null, alpn = PEER_ALPN): Promise<FramePeer> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    ...(identity ? { key: identity.key, cert: identity.cert } : {}),
    minVersion: 'TLSv1.3',
    rejectUnauthorized: false,
    ALPNProtocols: [alpn],
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      once(socket, 'secureConnect'),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no TLS handshake')), HANDSHAKE_WAIT_MS); }),
    ]);
  } catch (error) {
    socket.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return new FramePeer(socket);
}
