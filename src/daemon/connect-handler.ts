/**
 * `connect`: dials a peer (TCP, then TLS and HELLO within one handshake timeout), puts it in the
 * peer slot, and turns each way that can fail into the control error `chat connect` reports.
 */
import type { Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import { ErrorCode, type ConnectParams, type ConnectResult } from '../control/protocol.ts';
import { ControlError } from '../control/server.ts';
import { PeerTransportError, peerFingerprint, secureDialled } from '../peer/secure-transport.ts';
import { formatAddress, type PeerInfo } from '../peer/session.ts';
import { dial, DialError } from '../peer/tcp.ts';
import { reasonOf, refusalOf, USER_DISCONNECT_REASON } from './close-reason.ts';
import type { Gatekeeper } from './gatekeeper.ts';
import type { Logger } from './logger.ts';
import type { LastPeer } from './last-peer.ts';
import type { PeerSlot } from './peer-slot.ts';
import type { DialOutcome } from './reconnect.ts';

export interface ConnectContext {
  slot: PeerSlot;
  gatekeeper: Gatekeeper;
  log: Logger;
  peerContext: SecureContext;
  /** TLS and HELLO of one connection: the same limit as on the listening side. */
  handshakeTimeoutMs: number;
}

/**
 * `wanted`: asked once the handshake is done, before the connection becomes active; false (a
 * redial that `chat disconnect` cancelled meanwhile) closes it as the user's disconnect.
 */
export async function handleConnect(
  context: ConnectContext,
  { host, port, fingerprint }: ConnectParams,
  wanted: () => boolean = () => true,
): Promise<ConnectResult> {
  const { slot, log, handshakeTimeoutMs } = context;
  const current = slot.peer;
  // A different port cannot be the peer we have: refuse before the other daemon sees a
  // connection that would only be dropped. The same port is dialled: the handshake tells.
  if (current && port !== current.listenPort) {
    throw new ControlError(ErrorCode.busy, `already connected to ${current.name}; run "chat disconnect" first`);
  }
  const target = formatAddress(host, port);
  // `chat connect` is consent to whoever it reaches: that key dialling us back meanwhile (both
  // dialling at once) is let in too, whichever of the two connections is admitted first.
  if (fingerprint) context.gatekeeper.dialledKey(fingerprint);
  let socket: Socket;
  try {
    socket = await dial(host, port, handshakeTimeoutMs);
  } catch (error) {
    throw error instanceof DialError ? new ControlError(ErrorCode.connectFailed, error.message) : error;
  }
  socket.setNoDelay(true);
  log.info(`peer ${target}: dialled`);
  // TLS and HELLO share one handshake timeout, as on the listening side.
  const handshakeDeadline = Date.now() + handshakeTimeoutMs;
  let secure: TLSSocket;
  try {
    secure = await secureDialled(socket, context.peerContext, handshakeTimeoutMs);
  } catch (error) {
    if (error instanceof PeerTransportError && error.failure === 'notChat') {
      log.warn(`peer ${target}: does not speak chat: ${error.detail}`);
      throw new ControlError(ErrorCode.connectFailed, `${target} does not speak chat (${error.message}); is that the right port?`);
    }
    log.warn(`peer ${target}: ${reasonOf(error)}`);
    throw new ControlError(ErrorCode.connectFailed, `handshake with ${target} failed: ${reasonOf(error)}`);
  }
  const proven = peerFingerprint(secure);
  // Consent is for the key the user meant: with `fingerprint` (always so for a redial, which is
  // no user's act) a key that is not it gets none, or whoever took over an address we redial
  // could dial us back as a consented stranger.
  if (proven && (!fingerprint || proven === fingerprint)) context.gatekeeper.dialledKey(proven);
  const session = slot.open(secure, 'out', target, {
    expectedFingerprint: fingerprint,
    handshakeTimeoutMs: Math.max(1, handshakeDeadline - Date.now()),
  });
  let peer: PeerInfo;
  try {
    peer = await session.ready;
  } catch (error) {
    const reason = reasonOf(error);
    const refusal = refusalOf(session.end, slot.refusalKindOf(session));
    // Both dialled at once, and the other side kept its own connection (or refused ours before
    // our consent reached it): the peer we dialled is connected all the same.
    const connected = slot.peer;
    if (refusal?.kind !== 'identity' && connected && connected.fingerprint === proven && !slot.session?.isClosed) {
      return { peer: slot.summary()!, alreadyConnected: true };
    }
    if (refusal?.kind === 'identity') {
      if (refusal.remote) context.gatekeeper.refusedBy(target, proven, refusal.detail);
      throw new ControlError(ErrorCode.identityMismatch, refusal.remote ? `${target} refused us: ${refusal.detail}` : `refused ${target}: ${refusal.detail}`);
    }
    if (refusal?.kind === 'newPeer') throw new ControlError(ErrorCode.busy, `refused ${target}: ${refusal.detail}`);
    if (refusal?.kind === 'busy' && !refusal.remote) throw busyError(slot);
    if (refusal?.kind === 'busy') throw new ControlError(ErrorCode.busy, `${target} refused: ${refusal.detail}`);
    throw new ControlError(ErrorCode.connectFailed, `handshake with ${target} failed: ${reason}`);
  }
  if (!wanted()) {
    session.close('disconnected', USER_DISCONNECT_REASON);
    throw new ControlError(ErrorCode.connectFailed, `connecting to ${target} was cancelled: ${USER_DISCONNECT_REASON}`);
  }
  const outcome = slot.adopt(session, peer, fingerprint);
  if (outcome === 'refused') {
    const code = refusalOf(session.end, slot.refusalKindOf(session))?.kind === 'identity' ? ErrorCode.identityMismatch : ErrorCode.busy;
    throw new ControlError(code, `refused ${target}: ${session.closeReason}`);
  }
  if (outcome === 'busy') throw busyError(slot);
  return { peer: slot.summary()!, alreadyConnected: outcome === 'duplicate' };
}

function busyError(slot: PeerSlot): ControlError {
  return new ControlError(ErrorCode.busy, `already connected to ${slot.peer?.name ?? 'another peer'}; run "chat disconnect" first`);
}

/** One redial of the reconnect policy: `connect` to `target` expecting its key, the outcome as a DialOutcome. */
export async function redial(context: ConnectContext, target: LastPeer, wanted: () => boolean): Promise<DialOutcome> {
  try {
    await handleConnect(context, { host: target.host, port: target.port, fingerprint: target.fingerprint }, wanted);
    return { outcome: 'connected' };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // A key refused on either side: redialling would only be refused again. A slot held by another
    // peer (busy) is for a while only: that is a failed dial, and the backoff goes on.
    const refused = error instanceof ControlError && error.code === ErrorCode.identityMismatch;
    return refused ? { outcome: 'refused', reason } : { outcome: 'failed', reason };
  }
}
