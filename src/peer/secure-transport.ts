import { constants } from 'node:crypto';
import type { Socket } from 'node:net';
import tls, { type SecureContext, type TLSSocket } from 'node:tls';
import { fingerprintOfKey } from '../identity/fingerprint.ts';

/**
 * The peer link's transport: TLS 1.3 with a certificate on both sides, and nothing else (there is
 * no plaintext mode). Certificates are self-signed and not checked against any authority: a peer
 * is who its key's fingerprint says, and the daemon decides whether that is the peer it expects.
 * TLS proves the peer holds the private key of the certificate it presents.
 */

/** ALPN protocol id: a chat daemon only completes a TLS handshake with a client that asks for it. */
export const PEER_ALPN = 'chat';

export interface TransportIdentity {
  key: string;
  cert: string;
}

/**
 * Why a dialled TLS handshake failed: `timeout` (no answer in time) or `notChat` (the other side
 * answered, but not as a chat daemon: not TLS, not TLS 1.3, not ALPN "chat", or it hung up).
 */
export type TransportFailure = 'timeout' | 'notChat';

/** A failed TLS handshake: the message is short and says what failed; `detail` (OpenSSL's words) is for the log. */
export class PeerTransportError extends Error {
  override name = 'PeerTransportError';
  readonly failure: TransportFailure;
  readonly detail: string;

  constructor(failure: TransportFailure, message: string, detail: string = message) {
    super(message);
    this.failure = failure;
    this.detail = detail;
  }
}

/**
 * The peer link's TLS context. `cipherSuites` (OpenSSL's TLS 1.3 names, e.g.
 * TLS_CHACHA20_POLY1305_SHA256) is for the bench's cipher comparison; the daemons keep OpenSSL's
 * default list, which negotiates TLS_AES_256_GCM_SHA384 between two chat daemons.
 */
export function createPeerContext(identity: TransportIdentity, cipherSuites?: string): SecureContext {
  return tls.createSecureContext({
    key: identity.key,
    cert: identity.cert,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ...(cipherSuites ? { ciphers: cipherSuites } : {}),
    // Every connection does a full handshake, so every connection proves its key.
    secureOptions: constants.SSL_OP_NO_TICKET,
  });
}

/** Wraps an accepted TCP socket; the handshake runs as soon as the dialler speaks. */
export function secureAccepted(socket: Socket, context: SecureContext): TLSSocket {
  const secure = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext: context,
    requestCert: true,
    // There is no authority to check against; the fingerprint is checked after the handshake.
    rejectUnauthorized: false,
    ALPNProtocols: [PEER_ALPN],
  });
  secure.once('secure', () => {
    const problem = checkHandshake(secure);
    if (problem) secure.destroy(new PeerTransportError('notChat', problem));
  });
  return secure;
}

/** Runs the client side of the handshake over a connected TCP socket. */
export function secureDialled(socket: Socket, context: SecureContext, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket,
      secureContext: context,
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      ALPNProtocols: [PEER_ALPN],
    });
    const timer = setTimeout(() => fail(new PeerTransportError('timeout', `no TLS handshake within ${timeoutMs / 1000} s`)), timeoutMs);
    const onClose = () => fail(new PeerTransportError('notChat', 'TLS handshake failed', 'the connection closed during the TLS handshake'));
    const fail = (error: Error) => {
      clearTimeout(timer);
      secure.off('error', fail);
      secure.off('close', onClose);
      secure.destroy();
      // OpenSSL's message ("…:wrong version number:../deps/openssl/…:77:\n") goes to the log only.
      reject(error instanceof PeerTransportError ? error : new PeerTransportError('notChat', 'TLS handshake failed', `TLS handshake failed: ${error.message.trim()}`));
    };
    secure.once('error', fail);
    secure.once('close', onClose);
    secure.once('secureConnect', () => {
      const problem = checkHandshake(secure);
      if (problem) {
        fail(new PeerTransportError('notChat', problem));
        return;
      }
      clearTimeout(timer);
      secure.off('error', fail);
      secure.off('close', onClose);
      resolve(secure);
    });
  });
}

/**
 * Fingerprints taken when the handshake completed. On the client side Node hands out the peer
 * certificate only once (a second getPeerX509Certificate() returns undefined), so it is read once,
 * here.
 */
const fingerprints = new WeakMap<TLSSocket, string>();

/** The SHA-256 fingerprint of the key the peer proved it holds; undefined before the handshake. */
export function peerFingerprint(socket: TLSSocket): string | undefined {
  return fingerprints.get(socket);
}

/** Why a completed handshake is not acceptable, or undefined after recording the peer's fingerprint. */
function checkHandshake(socket: TLSSocket): string | undefined {
  if (socket.getProtocol() !== 'TLSv1.3') return `TLS version ${socket.getProtocol()} instead of TLSv1.3`;
  if (socket.alpnProtocol !== PEER_ALPN) return `the other side does not speak "${PEER_ALPN}" over TLS (ALPN)`;
  const certificate = socket.getPeerX509Certificate();
  if (!certificate) return 'the other side presented no certificate';
  fingerprints.set(socket, fingerprintOfKey(certificate.publicKey));
  return undefined;
}
