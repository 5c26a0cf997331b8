/**
 * The start of one connection: the versioned HELLO exchange, the listener's answer (its HELLO or a
 * refusal), the dialler's PING 0 that confirms it, and the deadline for all of it.
 */
import { ProtocolError } from '../wire/errors.ts';
import type { HandshakeFrames } from '../wire/decoder.ts';
import type { Frame, HelloFrame } from '../wire/frames.ts';
import { HANDSHAKE_TIMEOUT_MS, MAX_HELLO_FRAME_BYTES, MIN_PROTOCOL_VERSION, PROTOCOL_NAME, PROTOCOL_VERSION } from '../wire/limits.ts';
import type { ByeCode } from './session-end.ts';

export interface LocalIdentity {
  name: string;
  /** Random per daemon run. */
  instance: string;
  listenPort: number;
}

export interface PeerInfo {
  name: string;
  instance: string;
  /** Protocol version both sides speak on this connection. */
  version: number;
  /** The peer's own listening port (0 if it does not listen). */
  listenPort: number;
  /** Remote address of this connection, host:port. */
  address: string;
  /** `out` when we dialled. */
  direction: 'in' | 'out';
  /** SHA-256 of the public key the peer proved it holds (64 hex digits), from the transport. */
  fingerprint: string;
}

/** Why a peer is refused at its HELLO: the kind its BYE names, and the reason it gives. */
export interface Refusal {
  kind: ByeCode;
  detail: string;
}

/** What the handshake needs of its connection. */
export interface HandshakeLink {
  send(frame: Frame): void;
  close(kind: ByeCode, detail: string): void;
}

export interface HandshakeOptions {
  direction: 'in' | 'out';
  /** The remote host:port, for PeerInfo. */
  address: string;
  local: LocalIdentity;
  /** The authenticated peer's key fingerprint, read when its HELLO arrives (the transport is up by then). */
  peerFingerprint(): string | undefined;
  timeoutMs?: number;
  link: HandshakeLink;
  /**
   * A reason to refuse this peer once its HELLO has arrived: a listener answers with BYE instead
   * of HELLO, a dialler says BYE instead of confirming. A bare string is a refusal of kind `local`.
   */
  admit?(peer: PeerInfo): Refusal | string | undefined;
  /** Runs as the handshake completes, before `ready` resolves and before the next frame is handled. */
  onComplete(peer: PeerInfo): void;
}

/** The dialler's PING that confirms the listener's HELLO; keepalive pings count from 1. */
export const HANDSHAKE_CONFIRMATION_NONCE = 0;

/**
 * Until the handshake is complete the peer may only send its HELLO (and, to a listener, the
 * confirmation): a stranger cannot park a partial frame of MAX_FRAME_BYTES in a pending handshake.
 */
export function handshakeFrames(direction: 'in' | 'out'): HandshakeFrames {
  return { count: direction === 'in' ? 2 : 1, maxFrameBytes: MAX_HELLO_FRAME_BYTES };
}

/**
 * The dialler speaks first; the listener answers with its HELLO, or with a BYE that says why it
 * refuses (busy, incompatible version, a changed key), so the dialler's `chat connect` can report
 * it. The dialler then confirms with a PING, or refuses the listener with a BYE. (A BYE is the
 * session's to handle, before the handshake as after it.)
 */
export class Handshake {
  readonly ready: Promise<PeerInfo>;
  private readonly options: HandshakeOptions;
  private settle!: { resolve(peer: PeerInfo): void; reject(error: Error): void };
  private readonly timer: NodeJS.Timeout;
  private established: PeerInfo | undefined;
  /** Listener only: the peer whose HELLO we answered, until the dialler confirms it accepts us. */
  private answered: PeerInfo | undefined;

  constructor(options: HandshakeOptions) {
    this.options = options;
    this.ready = new Promise<PeerInfo>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.ready.catch(() => undefined);
    const timeoutMs = options.timeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    this.timer = setTimeout(() => options.link.close('timeout', `no handshake within ${timeoutMs} ms`), timeoutMs);
  }

  /** The peer once the handshake is complete. */
  get peer(): PeerInfo | undefined {
    return this.established;
  }

  /** The name and key the other side claimed in its HELLO, even if the handshake did not finish. */
  get claimedPeer(): PeerInfo | undefined {
    return this.established ?? this.answered;
  }

  /** The dialler greets at once; the listener waits for the dialler's HELLO. */
  start(): void {
    if (this.options.direction === 'out') this.sendHello();
  }

  /**
   * Handles a frame (not a BYE) that arrives before the handshake is complete. True when the frame
   * is used up; false for the dialler's confirmation, which the session then answers as any PING.
   * Throws ProtocolError for anything the handshake does not allow.
   */
  receive(frame: Frame): boolean {
    if (!this.answered) {
      if (frame.kind !== 'hello') throw new ProtocolError(`expected hello, got ${frame.kind}`);
      this.acceptHello(frame);
      return true;
    }
    // The dialler's PING after our HELLO says it accepted us: now we are connected.
    if (frame.kind !== 'ping' || frame.nonce !== HANDSHAKE_CONFIRMATION_NONCE) {
      throw new ProtocolError(`expected the dialler's confirmation (ping ${HANDSHAKE_CONFIRMATION_NONCE}), got ${frame.kind}`);
    }
    const peer = this.answered;
    this.complete(peer);
    this.answered = undefined;
    return false;
  }

  /** The connection ended: the deadline stops and `ready` fails with `error` (if it is still pending). */
  fail(error: Error): void {
    clearTimeout(this.timer);
    this.settle.reject(error);
  }

  private sendHello(): void {
    const { local } = this.options;
    this.options.link.send({
      kind: 'hello',
      protocol: PROTOCOL_NAME,
      version: PROTOCOL_VERSION,
      minVersion: MIN_PROTOCOL_VERSION,
      name: local.name,
      instance: local.instance,
      listenPort: local.listenPort,
    });
  }

  private acceptHello(hello: HelloFrame): void {
    if (hello.protocol !== PROTOCOL_NAME) throw new ProtocolError(`not a chat peer (protocol "${hello.protocol}")`);
    const version = Math.min(hello.version, PROTOCOL_VERSION);
    if (version < MIN_PROTOCOL_VERSION || version < hello.minVersion) {
      throw new ProtocolError(
        `no common protocol version (we speak ${MIN_PROTOCOL_VERSION}-${PROTOCOL_VERSION}, peer ${hello.minVersion}-${hello.version})` +
          (hello.version < MIN_PROTOCOL_VERSION ? ': the peer runs an older chat; it must be upgraded' : ': this chat is older than the peer; upgrade it'),
      );
    }
    if (hello.instance === this.options.local.instance) throw new ProtocolError('connected to ourselves');
    const fingerprint = this.options.peerFingerprint();
    if (!fingerprint) throw new ProtocolError('hello before the peer was authenticated');
    const { direction, address } = this.options;
    const peer: PeerInfo = { name: hello.name, instance: hello.instance, version, listenPort: hello.listenPort, address, direction, fingerprint };
    const refusal = this.options.admit?.(peer);
    if (refusal) {
      const { kind, detail } = typeof refusal === 'string' ? { kind: 'local' as const, detail: refusal } : refusal;
      this.options.link.close(kind, detail);
      return;
    }
    if (direction === 'in') {
      // Not connected yet: the dialler still checks our name and key, and may say BYE instead.
      this.answered = peer;
      this.sendHello();
      return;
    }
    this.options.link.send({ kind: 'ping', nonce: HANDSHAKE_CONFIRMATION_NONCE });
    this.complete(peer);
  }

  private complete(peer: PeerInfo): void {
    clearTimeout(this.timer);
    this.established = peer;
    // Synchronously, before any frame that came in the same read (an offer) is dispatched.
    this.options.onComplete(peer);
    this.settle.resolve(peer);
  }
}
