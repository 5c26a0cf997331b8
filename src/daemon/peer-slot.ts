/**
 * The daemon's single peer slot: incoming connections wait in a bounded handshake queue, each
 * connection becomes a PeerSession, one admitted session holds the slot, and each end is seen here.
 */
import type { Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { PeerSummary } from '../control/protocol.ts';
import { formatFingerprint } from '../identity/fingerprint-notation.ts';
import { listenAddressOf } from '../peer/address.ts';
import { clipPeerText, quote } from '../peer/log-text.ts';
import { peerFingerprint, secureAccepted } from '../peer/secure-transport.ts';
import { formatAddress, PeerSession, type KeepaliveOptions, type PeerInfo, type SessionEnd } from '../peer/session.ts';
import { IDENTITY_REFUSAL, refusalKind } from './admission.ts';
import type { RefusalKind } from './close-reason.ts';
import type { EventFeed } from './event-feed.ts';
import type { Gatekeeper } from './gatekeeper.ts';
import type { Logger } from './logger.ts';
import { peerContentHandlers, type PeerContentOptions } from './peer-content.ts';

/**
 * Incoming connections still in their handshake at once. Past this the oldest is dropped to make
 * room: a flood of idle half-open sockets cannot lock a real peer out, because a real handshake
 * takes milliseconds while an idle socket stays oldest.
 */
export const MAX_PENDING_HANDSHAKES = 32;

/**
 * What `adopt` did with a session: `adopted`; `duplicate`, the same key was connected already (the
 * session replaced that connection, or was closed in its favour); `busy` or `refused`, it was closed.
 */
export type Adoption = 'adopted' | 'duplicate' | 'busy' | 'refused';

export interface PeerSlotOptions extends PeerContentOptions {
  /** The instance id in this daemon's HELLO, which tells a connection to itself. */
  instance: string;
  /** The port this daemon listens on, as its HELLO announces it (known once the listener is bound). */
  listenPort: () => number;
  peerContext: SecureContext;
  handshakeTimeoutMs: number;
  keepalive: KeepaliveOptions | undefined;
  gatekeeper: Gatekeeper;
  /** Told when a session becomes the active one, after its `connected` event (the outbox sends what is queued for its key). */
  onAdopted?(session: PeerSession, peer: PeerInfo): void;
  /** Told when the active session ends, after its `disconnected` event; `recorded`: both its events were. */
  onEnded?(peer: PeerInfo, end: SessionEnd, recorded: boolean): void;
}

export class PeerSlot {
  private readonly options: PeerSlotOptions;
  private readonly log: Logger;
  private readonly feed: EventFeed;
  private readonly gatekeeper: Gatekeeper;
  /** The peer that completed the handshake and is in use. */
  private active: PeerSession | undefined;
  private readonly handshaking = new Set<PeerSession>();
  /** Whether the active session's `connected` was recorded, and so its `disconnected` will be. */
  private sessionRecorded = false;
  private closing = false;
  /** What our admission refused each refused session for (its BYE says only identity or busy). */
  private readonly refusals = new WeakMap<PeerSession, RefusalKind>();

  constructor(options: PeerSlotOptions) {
    this.options = options;
    this.log = options.log;
    this.feed = options.feed;
    this.gatekeeper = options.gatekeeper;
  }

  /** The session holding the slot; it may have closed a moment ago. */
  get session(): PeerSession | undefined {
    return this.active;
  }

  /** The peer of the session holding the slot. */
  get peer(): PeerInfo | undefined {
    return this.active?.peer;
  }

  /** The peer holding the slot, as `status` and `connect` report it. */
  summary(): PeerSummary | null {
    const peer = this.active?.peer;
    return peer ? summarize(peer) : null;
  }

  /** Takes a connection from the peer listener into the handshake queue. */
  accept(socket: Socket): void {
    const from = formatAddress(socket.remoteAddress, socket.remotePort);
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.makeRoomForHandshake(from);
    socket.setNoDelay(true);
    const secure = secureAccepted(socket, this.options.peerContext);
    this.open(secure, 'in', from);
  }

  /** What this side refused `session` for, if it did. */
  refusalKindOf(session: PeerSession): RefusalKind | undefined {
    return this.refusals.get(session);
  }

  /** Closes every session, active and pending, and turns away connections from now on (the daemon is stopping). */
  closeAll(reason: string): void {
    this.closing = true;
    this.active?.close('local', reason);
    for (const pending of this.handshaking) pending.close('local', reason);
  }

  /**
   * A session on a TLS connection, in the handshake queue until `adopt`. An incoming one is
   * adopted as soon as its handshake completes; `connect` adopts an outgoing one itself.
   */
  open(
    socket: TLSSocket,
    direction: 'in' | 'out',
    address: string,
    options: { expectedFingerprint?: string; handshakeTimeoutMs?: number } = {},
  ): PeerSession {
    const { expectedFingerprint, handshakeTimeoutMs = this.options.handshakeTimeoutMs } = options;
    const session: PeerSession = new PeerSession({
      socket,
      direction,
      address,
      handshakeTimeoutMs,
      peerFingerprint: () => peerFingerprint(socket),
      keepalive: this.options.keepalive,
      local: { name: this.options.name, instance: this.options.instance, listenPort: this.options.listenPort() },
      handlers: {
        log: (line) => this.log.info(`peer ${address}: ${line}`),
        ...peerContentHandlers(() => session.peer!, address, () => session === this.active, this.options),
        onClosed: (reason, end) => this.sessionClosed(session, reason, end),
        // Incoming: adopt at once, so an offer in the same read as the confirmation finds it active.
        // Outgoing: `connect` adopts once `ready` resolves, and reports the outcome.
        ...(direction === 'in' ? {
          onEstablished: (peer: PeerInfo) => {
            this.adopt(session, peer);
          },
        } : {}),
        admit: (peer) => {
          const verdict = this.gatekeeper.check(peer, this.openPeer(), expectedFingerprint);
          if (verdict.verdict !== 'refuse') return undefined;
          this.refusals.set(session, verdict.kind);
          return { kind: refusalKind(verdict.kind), detail: verdict.reason };
        },
      },
    });
    this.handshaking.add(session);
    return session;
  }

  /**
   * Makes a freshly handshaken session the active one, or closes it. The admission rule runs again
   * here, not only at HELLO: another connection may have taken the slot, or pinned the name, since.
   */
  adopt(session: PeerSession, peer: PeerInfo, expectedFingerprint?: string): Adoption {
    this.handshaking.delete(session);
    const verdict = this.gatekeeper.check(peer, this.openPeer(), expectedFingerprint);
    if (verdict.verdict === 'refuse') {
      this.refusals.set(session, verdict.kind);
      session.close(refusalKind(verdict.kind), verdict.reason);
      return verdict.kind === 'busy' ? 'busy' : 'refused';
    }
    const previous = verdict.verdict === 'replace' ? this.active?.peer : undefined;
    if (verdict.verdict === 'duplicate') {
      this.log.info(`peer ${peer.address}: ${quote(peer.name)} connected twice; kept the connection ${this.active?.peer?.address}`);
      session.close('duplicate', 'duplicate connection');
      return 'duplicate';
    }
    const time = new Date().toISOString();
    let pin: 'pinned' | 'seen';
    try {
      pin = this.gatekeeper.pin(peer, time);
    } catch (error) {
      session.close('identity', `${IDENTITY_REFUSAL}${(error as Error).message}`);
      return 'refused';
    }
    const replaced = this.active;
    this.active = session;
    this.sessionRecorded = this.feed.recordsConnection(peer.fingerprint, pin === 'pinned');
    // Not the active session any more, so its end records nothing: the event below says it all.
    replaced?.close('duplicate', 'duplicate connection');
    const change = previous && describeChange(previous, peer);
    this.log.info(
      `peer ${peer.address}: connected to ${quote(peer.name)} (${peer.direction}, protocol ${peer.version}, key ${formatFingerprint(peer.fingerprint)}` +
        `${pin === 'pinned' ? ', first contact: key pinned' : ''}${change ? `; ${quote(change)}` : ''})`,
    );
    if (this.sessionRecorded) {
      this.feed.record({
        type: 'peer', state: 'connected', direction: peer.direction, time,
        from: peer.name, to: this.options.name, address: peer.address, fingerprint: peer.fingerprint, firstContact: pin === 'pinned',
        ...(change ? { reason: change } : {}),
      });
    }
    this.options.onAdopted?.(session, peer);
    return previous ? 'duplicate' : 'adopted';
  }

  /** The peer holding the slot, if its connection is still open. */
  private openPeer(): PeerInfo | undefined {
    return this.active && !this.active.isClosed ? this.active.peer : undefined;
  }

  /** Drops the oldest incoming connection still in its handshake when MAX_PENDING_HANDSHAKES are. */
  private makeRoomForHandshake(newcomer: string): void {
    let pending = 0;
    let oldest: PeerSession | undefined;
    for (const session of this.handshaking) {
      if (session.direction !== 'in') continue;
      pending++;
      oldest ??= session;
    }
    if (oldest && pending >= MAX_PENDING_HANDSHAKES) {
      this.log.warn(`peer ${oldest.address}: dropped unauthenticated connection to make room for ${newcomer} (${pending} handshakes pending)`);
      oldest.close('busy', `dropped: ${MAX_PENDING_HANDSHAKES} handshakes pending`);
    }
  }

  private sessionClosed(session: PeerSession, reason: string, end: SessionEnd): void {
    this.handshaking.delete(session);
    if (session !== this.active) {
      if (session.peer) return;
      // A dialler that refuses us after our HELLO is only logged: anyone can send that BYE, so it
      // says nothing a history event could vouch for. (A listener we dialled that refuses us is
      // recorded by `connect`.)
      this.log.warn(`peer ${session.address}: dropped before handshake: ${quote(reason)}`);
      return;
    }
    this.active = undefined;
    const peer = session.peer!;
    this.log.info(`peer ${peer.address}: ${quote(peer.name)} disconnected: ${quote(reason)}`);
    if (this.sessionRecorded) {
      this.feed.recordSafely({
        type: 'peer', state: 'disconnected', direction: peer.direction, time: new Date().toISOString(),
        from: peer.name, to: this.options.name, address: peer.address, fingerprint: peer.fingerprint, reason: clipPeerText(reason),
      });
    }
    this.options.onEnded?.(peer, end, this.sessionRecorded);
  }
}

/** What a replacing connection of the same key changes: always its address, maybe the name it uses. */
function describeChange(previous: PeerInfo, next: PeerInfo): string {
  const renamed = previous.name !== next.name ? `, now named "${next.name}" (was "${previous.name}")` : '';
  return `same key again: replaces the connection ${previous.address}${renamed}`;
}

function summarize(peer: PeerInfo): PeerSummary {
  return {
    name: peer.name,
    address: peer.address,
    direction: peer.direction,
    listenPort: peer.listenPort,
    protocolVersion: peer.version,
    fingerprint: peer.fingerprint,
    listenAddress: listenAddressOf(peer.address, peer.listenPort),
  };
}
