/**
 * The one gate every authenticated connection passes, on every path (incoming, outgoing, first
 * contact, the same peer again, both dialling at once): it decides from the TLS-proven key alone,
 * never from what the peer merely claims (its name or instance), whether the connection may hold
 * the daemon's single peer slot.
 */
import type { AcceptMode } from '../control/protocol.ts';
import { formatFingerprint } from '../identity/fingerprint-notation.ts';
import type { KnownPeers } from '../identity/known-peers.ts';
import type { PeerInfo } from '../peer/session.ts';
import { decideConsent } from './consent.ts';
import type { NewPeerLimit } from './new-peer-limit.ts';

/** Prefix of handshake refusals about keys; `chat connect` reports them as identityMismatch. */
export const IDENTITY_REFUSAL = 'identity: ';
/** Prefix of refusals because another peer holds the slot; `chat connect` reports them as busy. */
export const BUSY_REFUSAL = 'busy: ';
/**
 * Prefix of refusals of a name that is not pinned, when no new name may be pinned now. A kind of
 * busy (not now, or not until a pin is forgotten), so an older dialler reports it as busy.
 */
export const NEW_PEER_REFUSAL = `${BUSY_REFUSAL}not pinning a new peer name: `;

export type AdmissionVerdict =
  /** The slot is free: this connection becomes the peer. */
  | { verdict: 'accept' }
  /** The same key is connected already, and this connection wins the tie-break: it replaces that one. */
  | { verdict: 'replace' }
  /** The same key is connected already, and that connection wins: this one is closed. */
  | { verdict: 'duplicate' }
  /** `newPeer`: a key or name this daemon does not let in now (no consent, or no room for a new pin). */
  | { verdict: 'refuse'; kind: 'identity' | 'busy' | 'newPeer'; reason: string };

export interface AdmissionInput {
  /** The peer of this connection, with the fingerprint its TLS handshake proved. */
  candidate: PeerInfo;
  /** The peer holding the slot now, if its connection is still open. */
  current: PeerInfo | undefined;
  /** `chat connect --fingerprint`: the only key this outgoing connection may present. */
  expectedFingerprint: string | undefined;
  /** This daemon's own key and name. */
  ownFingerprint: string;
  ownName: string;
  knownPeers: KnownPeers;
  /** Who may connect (--accept), with what the consent rule needs to know (see decideConsent). */
  mode: AcceptMode;
  /** This side dialled the candidate's key: this connection is outgoing, or a dial of ours proved that key a moment ago. */
  dialled: boolean;
  inviteOpen: boolean;
  /** Whether a name that is not pinned may be pinned now. */
  newPeers: NewPeerLimit;
}

/**
 * Keys first (`--fingerprint`, then the key pinned to the claimed name), then consent for a key
 * not pinned (decideConsent), then room for a name not pinned yet (NewPeerLimit), then the slot:
 * another key is `busy` whatever name or instance it claims. Two connections with the same key are the same peer twice: both ends keep the one
 * dialled by the side with the smaller fingerprint, and when one side dialled both (a reconnect
 * while the old link still looks alive) the newer one.
 */
export function decideAdmission(input: AdmissionInput): AdmissionVerdict {
  const { candidate, current, expectedFingerprint, ownFingerprint, knownPeers, newPeers } = input;
  const identity = identityProblem(candidate, expectedFingerprint, knownPeers);
  if (identity) return { verdict: 'refuse', kind: 'identity', reason: identity };
  const consent = decideConsent({
    candidate, ownName: input.ownName, mode: input.mode, knownPeers, dialled: input.dialled, inviteOpen: input.inviteOpen,
  });
  if (!consent.allowed) return { verdict: 'refuse', kind: 'newPeer', reason: `${BUSY_REFUSAL}${consent.reason}` };
  if (knownPeers.check(candidate.name, candidate.fingerprint).status === 'new') {
    const problem = newPeers.problem(candidate.direction);
    if (problem) return { verdict: 'refuse', kind: 'newPeer', reason: `${NEW_PEER_REFUSAL}${problem}` };
  }
  if (!current) return { verdict: 'accept' };
  if (current.fingerprint !== candidate.fingerprint) {
    return { verdict: 'refuse', kind: 'busy', reason: `${BUSY_REFUSAL}already connected to ${current.name}` };
  }
  const dialler = (peer: PeerInfo) => (peer.direction === 'out' ? ownFingerprint : peer.fingerprint);
  const candidateDialler = dialler(candidate);
  const currentDialler = dialler(current);
  if (candidateDialler === currentDialler) return { verdict: 'replace' };
  return candidateDialler < currentDialler ? { verdict: 'replace' } : { verdict: 'duplicate' };
}

/** The kind of end (and BYE code) a refusal closes its connection with: a new peer not let in now is a kind of busy. */
export function refusalKind(kind: 'identity' | 'busy' | 'newPeer'): 'identity' | 'busy' {
  return kind === 'identity' ? 'identity' : 'busy';
}

/** Why this peer's key is not acceptable: not the expected one, or not the one pinned to its name. */
function identityProblem(peer: PeerInfo, expectedFingerprint: string | undefined, knownPeers: KnownPeers): string | undefined {
  if (expectedFingerprint && peer.fingerprint !== expectedFingerprint) {
    return `${IDENTITY_REFUSAL}${peer.address} presented the key ${formatFingerprint(peer.fingerprint)}, ` +
      `not the expected ${formatFingerprint(expectedFingerprint)} (--fingerprint)`;
  }
  const check = knownPeers.check(peer.name, peer.fingerprint);
  if (check.status !== 'changed') return undefined;
  return `${IDENTITY_REFUSAL}the key of "${peer.name}" has changed: pinned ${formatFingerprint(check.pinned.fingerprint)} ` +
    `(first seen ${check.pinned.firstSeen}), presented ${formatFingerprint(peer.fingerprint)}. If "${peer.name}" really ` +
    `has a new key, the side that pinned the old one runs: chat peers forget "${peer.name}"`;
}
