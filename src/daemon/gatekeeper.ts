/**
 * The daemon's side of admission: it puts each real connection to decideAdmission with what
 * consent knows now (mode, own dials, invite), pins the key of the peer it lets in, and leaves
 * every refusal in the log and, within budget, the history.
 */
import type { AcceptMode, InviteSummary } from '../control/protocol.ts';
import { formatFingerprint } from '../identity/fingerprint-notation.ts';
import type { KnownPeers } from '../identity/known-peers.ts';
import { clipPeerText, quote } from '../peer/log-text.ts';
import type { PeerInfo } from '../peer/session.ts';
import { decideAdmission, type AdmissionVerdict } from './admission.ts';
import { decideConsent, type ConsentVerdict } from './consent.ts';
import { DialledKeys } from './dialled-keys.ts';
import type { EventFeed } from './event-feed.ts';
import { Invitation } from './invitation.ts';
import type { Logger } from './logger.ts';
import { NewPeerLimit } from './new-peer-limit.ts';

export interface GatekeeperOptions {
  /** This daemon's name and key. */
  name: string;
  fingerprint: string;
  knownPeers: KnownPeers;
  /** Who may connect (--accept). */
  mode: AcceptMode;
  feed: EventFeed;
  log: Logger;
}

export class Gatekeeper {
  private readonly name: string;
  private readonly fingerprint: string;
  private readonly knownPeers: KnownPeers;
  private readonly feed: EventFeed;
  private readonly log: Logger;
  private readonly newPeers: NewPeerLimit;
  readonly mode: AcceptMode;
  private readonly invitation = new Invitation();
  private readonly dialledKeys = new DialledKeys();

  constructor(options: GatekeeperOptions) {
    this.mode = options.mode;
    this.name = options.name;
    this.fingerprint = options.fingerprint;
    this.knownPeers = options.knownPeers;
    this.feed = options.feed;
    this.log = options.log;
    this.newPeers = new NewPeerLimit(options.knownPeers);
  }

  /**
   * The admission rule for `peer` now, with `current` holding the slot (see decideAdmission). A
   * refusal is logged and recorded, so `chat tail` shows who knocked (events are rate-limited).
   */
  check(peer: PeerInfo, current: PeerInfo | undefined, expectedFingerprint?: string): AdmissionVerdict {
    const verdict = decideAdmission({
      candidate: peer,
      current,
      expectedFingerprint,
      ownFingerprint: this.fingerprint,
      ownName: this.name,
      knownPeers: this.knownPeers,
      newPeers: this.newPeers,
      mode: this.mode,
      dialled: this.dialled(peer),
      inviteOpen: this.invitation.isOpen(),
    });
    if (verdict.verdict === 'refuse') this.refused(peer, verdict.reason);
    return verdict;
  }

  /**
   * Pins the name of a peer let in to its key (or sees the pin again); throws when the pins cannot
   * be saved. A key let in by the invite uses it up: the invite is for one peer.
   */
  pin(peer: PeerInfo, time: string): 'pinned' | 'seen' {
    const consent = this.consent(peer);
    const pin = this.knownPeers.remember(peer.name, peer.fingerprint, time);
    if (pin === 'pinned') this.newPeers.pinned(peer.direction);
    if (consent.allowed && consent.ground === 'invite' && this.invitation.close()) {
      this.log.info(`invite used by ${quote(peer.name)} (key ${formatFingerprint(peer.fingerprint)}); new peers need another chat invite`);
    }
    return pin;
  }

  /** A dial of ours reached this key (or `--fingerprint` names it): its connections back to us are consented for a while. */
  dialledKey(fingerprint: string): void {
    this.dialledKeys.add(fingerprint);
  }

  /** Opens the invite for the next one new key, for `forMs`. */
  invite(forMs: number): InviteSummary {
    const invite = this.invitation.open(forMs);
    this.log.info(`invite open for one new peer until ${invite.expiresAt}`);
    return invite;
  }

  /** Closes the invite; false when none was open. */
  cancelInvite(): boolean {
    const cancelled = this.invitation.close();
    if (cancelled) this.log.info('invite cancelled');
    return cancelled;
  }

  /** The open invite, null when none is. */
  inviteSummary(): InviteSummary | null {
    return this.invitation.summary();
  }

  private dialled(peer: PeerInfo): boolean {
    return peer.direction === 'out' || this.dialledKeys.has(peer.fingerprint);
  }

  private consent(peer: PeerInfo): ConsentVerdict {
    return decideConsent({
      candidate: peer, ownName: this.name, mode: this.mode, knownPeers: this.knownPeers,
      dialled: this.dialled(peer), inviteOpen: this.invitation.isOpen(),
    });
  }

  /**
   * The listener we dialled refused our key: recorded (within the refusal budget) under the name
   * pinned to the key it proved, or the address we dialled. Only for a connection we dialled: a
   * dialler's BYE after our HELLO proves nothing about us, and any stranger can send one.
   */
  refusedBy(target: string, fingerprint: string | undefined, theirReason: string): void {
    this.feed.recordRefusal(() => {
      const from = (fingerprint && this.knownPeers.list().find((pin) => pin.fingerprint === fingerprint)?.name) || target;
      return {
        type: 'peer', state: 'refused', direction: 'out', time: new Date().toISOString(),
        from, to: this.name, address: target, ...(fingerprint ? { fingerprint } : {}),
        reason: `${from} refused us: ${clipPeerText(theirReason)}`,
      };
    });
  }

  private refused(peer: PeerInfo, reason: string): void {
    this.log.warn(`peer ${peer.address}: refused ${quote(peer.name)} (key ${formatFingerprint(peer.fingerprint)}): ${reason}`);
    this.feed.recordRefusal(() => ({
      type: 'peer', state: 'refused', direction: peer.direction, time: new Date().toISOString(),
      from: peer.name, to: this.name, address: peer.address, fingerprint: peer.fingerprint, reason,
    }));
  }
}
