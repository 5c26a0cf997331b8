/** What a peer session is given: its transport, who we are, its limits, and what its owner decides and is told. */
import type { Socket } from 'node:net';
import type { MessageFrame } from '../wire/frames.ts';
import type { FrameRates } from './frame-inbox.ts';
import type { LocalIdentity, PeerInfo, Refusal } from './handshake.ts';
import type { IncomingHandlers } from './incoming-handlers.ts';
import type { KeepaliveOptions } from './keepalive.ts';
import type { SessionEnd } from './session-end.ts';

/** What the owner of a session decides and is told; the file handlers and `log`: see IncomingHandlers. */
export interface SessionHandlers extends IncomingHandlers {
  /** Called for each message; the acknowledgement is sent once this has returned (or resolved). */
  onMessage(message: MessageFrame): void | Promise<void>;
  /** Called once as the session ends: `reason` is describeEnd(end), the line the daemon logs. */
  onClosed(reason: string, end: SessionEnd): void;
  /** Called as the handshake completes, before the next frame is read; `ready` resolves after. */
  onEstablished?(peer: PeerInfo): void;
  /** Whether to refuse this peer once its HELLO has arrived (see HandshakeOptions.admit). */
  admit?(peer: PeerInfo): Refusal | string | undefined;
}

export interface SessionOptions {
  /** A connected transport: in the daemon a TLS socket, in tests also a plain one. */
  socket: Socket;
  direction: 'in' | 'out';
  /** The remote host:port for logs; default: the socket's. */
  address?: string;
  local: LocalIdentity;
  handlers: SessionHandlers;
  /** The authenticated peer's key fingerprint, read when its HELLO arrives (the transport is up by then). */
  peerFingerprint(): string | undefined;
  handshakeTimeoutMs?: number;
  keepalive?: KeepaliveOptions;
  /** What the peer may deliver; the rest as frameRates() says. */
  rates?: Partial<FrameRates>;
}
