/**
 * The consent rule: whether a peer whose key no pin holds may connect at all, decided from the
 * accept mode, the pins, this side's own dials and the open invite (docs/security.md, *Who may connect*).
 */
import type { AcceptMode } from '../control/protocol.ts';
import type { KnownPeers } from '../identity/known-peers.ts';
import type { PeerInfo } from '../peer/session.ts';

/**
 * Why a key may connect: it is pinned (under any name); `--accept any`; this side dialled it (`chat
 * connect` is consent); no key is pinned yet (the first contact); or an invite is open.
 */
export type ConsentGround = 'pinned' | 'any' | 'dialled' | 'firstContact' | 'invite';

export type ConsentVerdict = { allowed: true; ground: ConsentGround } | { allowed: false; reason: string };

export interface ConsentInput {
  /** The peer of this connection, with the key its TLS handshake proved. */
  candidate: PeerInfo;
  /** This daemon's own name, for the hint in a refusal. */
  ownName: string;
  mode: AcceptMode;
  knownPeers: KnownPeers;
  /** Whether this side dialled this key: this connection, or another dial of ours that proved the key a moment ago. */
  dialled: boolean;
  inviteOpen: boolean;
}

/**
 * A pinned key is always let in; a new one only as its mode says. The grounds are tried in the
 * order above, so that the invite is used only by a key nothing else lets in.
 */
export function decideConsent(input: ConsentInput): ConsentVerdict {
  const { candidate, ownName, mode, knownPeers, dialled, inviteOpen } = input;
  if (knownPeers.hasKey(candidate.fingerprint)) return { allowed: true, ground: 'pinned' };
  if (mode === 'any') return { allowed: true, ground: 'any' };
  if (mode === 'known') {
    return {
      allowed: false,
      reason: `${ownName} accepts only peers it has pinned (--accept known); to let this key in, ${ownName} runs: ` +
        `chat peers add "${candidate.name}" --fingerprint ${candidate.fingerprint}`,
    };
  }
  if (dialled) return { allowed: true, ground: 'dialled' };
  if (knownPeers.size === 0) return { allowed: true, ground: 'firstContact' };
  if (inviteOpen) return { allowed: true, ground: 'invite' };
  return { allowed: false, reason: `${ownName} is not accepting new peers; ask ${ownName} to run: chat invite` };
}
