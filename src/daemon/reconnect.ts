/**
 * The reconnect policy: after a drop that neither user asked for, the daemon that dialled redials
 * the same address with backoff for as long as it runs, and a daemon that starts again redials its
 * last peer; each outage is one `reconnecting` event in the history.
 */
import type { ConnectParams, ConnectResult, ReconnectSummary } from '../control/protocol.ts';
import type { NewEvent } from '../history/events.ts';
import { clipPeerText, quote } from '../peer/log-text.ts';
import { formatAddress, type PeerInfo } from '../peer/session.ts';
import { hostOf } from '../peer/address.ts';
import { describeEnd, type SessionEnd } from '../peer/session-end.ts';
import type { LastPeer } from './last-peer.ts';
import type { Logger } from './logger.ts';
import { reconnectDelayMs, type BackoffLimits } from './reconnect-backoff.ts';

/** What one redial came to. */
export type DialOutcome =
  | { outcome: 'connected' }
  /** Refused over a key, or busy (on either side): the next redial would be refused too, so there is none. */
  | { outcome: 'refused'; reason: string }
  /** Unreachable, no TLS, no handshake in time: tried again later. */
  | { outcome: 'failed'; reason: string };

/** The reason of the `reconnecting` event when chatd starts and redials its last peer. */
export const RESTART_REASON = 'chatd started: redialling the last peer';

export interface ReconnectorOptions {
  /** False with --no-reconnect: the daemon redials nobody by itself, at start or after a drop. */
  enabled: boolean;
  /** This daemon's name, the `to` of its events. */
  name: string;
  /** Dials `target` as `chat connect` does, expecting its fingerprint. */
  dial(target: LastPeer): Promise<DialOutcome>;
  /** The peer holding the slot now, if its connection is open. */
  current(): PeerInfo | undefined;
  /** The persisted target (LastPeerFile); both may throw, and are logged then. */
  load(): LastPeer | undefined;
  save(peer: LastPeer): void;
  /** Records an event in the history without throwing (EventFeed.recordSafely). */
  record(event: NewEvent): void;
  log: Logger;
  backoff?: BackoffLimits;
  random?: () => number;
}

interface Outage {
  /** The redial under way or next, from 1. */
  attempt: number;
  timer: NodeJS.Timeout | undefined;
  /** When the next redial starts (epoch ms); undefined while one is under way or waits for `connect`. */
  nextAt: number | undefined;
  dialling: boolean;
  lastError: string | undefined;
}

export class Reconnector {
  private readonly options: ReconnectorOptions;
  private readonly log: Logger;
  /** The peer to redial, as persisted. */
  private target: LastPeer | undefined;
  /** Whether this daemon redials `target` after a drop: it dialled it, and nobody disconnected since. */
  private redialling = false;
  private outage: Outage | undefined;
  /** User `connect`s under way: redials wait for them. */
  private userConnects = 0;
  private stopped = false;

  constructor(options: ReconnectorOptions) {
    this.options = options;
    this.log = options.log;
  }

  /** Reads the persisted target, and redials it at once unless the user disconnected or --no-reconnect. */
  start(): void {
    let target: LastPeer | undefined;
    try {
      target = this.options.load();
    } catch (error) {
      this.log.warn(`not redialling a last peer: ${(error as Error).message}`);
      return;
    }
    if (!target) return;
    this.target = target;
    if (target.userDisconnected) {
      this.log.info(`not redialling the last peer ${quote(target.name)}: the last connection was ended by "chat disconnect"`);
      return;
    }
    if (!this.options.enabled) {
      this.log.info(`not redialling the last peer ${quote(target.name)} (--no-reconnect)`);
      return;
    }
    this.redialling = true;
    this.begin(RESTART_REASON, true, 0);
  }

  /** Cancels every redial for good (the daemon is stopping). */
  stop(): void {
    this.stopped = true;
    this.end();
  }

  /**
   * The user's `connect`: redials wait while it runs. Once it succeeds, the peer it reached at
   * `host:port` is the one redialled from now on, whoever it replaces.
   */
  async userConnect(params: ConnectParams, connect: () => Promise<ConnectResult>): Promise<ConnectResult> {
    this.userConnects++;
    if (this.outage) this.pause(this.outage);
    try {
      const result = await connect();
      const { name, fingerprint } = result.peer;
      this.end();
      this.remember({ name, fingerprint, host: params.host, port: params.port, dialled: true, userDisconnected: false });
      this.redialling = true;
      return result;
    } finally {
      this.userConnects--;
      const outage = this.outage;
      if (outage && this.userConnects === 0 && !outage.timer && !outage.dialling) this.schedule(outage, this.delay(outage.attempt));
    }
  }

  /**
   * `chat disconnect`: no redial from now on, here and (from the persisted flag) after a restart.
   * Returns the name of the peer that would have been redialled, if one would.
   */
  userDisconnect(): string | undefined {
    const target = this.target;
    const stopped = this.redialling || this.outage !== undefined ? target?.name : undefined;
    this.end();
    this.redialling = false;
    if (target) this.remember({ ...target, userDisconnected: true });
    return stopped;
  }

  /** The peer this daemon means to reach again, if any: who messages sent while disconnected are for. */
  intended(): { fingerprint: string; name: string } | undefined {
    return this.target && { fingerprint: this.target.fingerprint, name: this.target.name };
  }

  /** A session became the active one (PeerSlot). */
  adopted(peer: PeerInfo): void {
    if (this.stopped) return;
    const { target, outage } = this;
    this.end();
    if (target?.fingerprint === peer.fingerprint && !target.userDisconnected) {
      if (outage) this.log.info(`reconnected to ${quote(peer.name)} (attempt ${outage.attempt}; ${peer.direction === 'out' ? 'we dialled' : 'it dialled us'})`);
      // The side that dialled redials after the next drop: a redial of a peer that had dialled us makes it ours.
      const dialled = target.dialled || peer.direction === 'out';
      this.redialling = dialled;
      if (target.name !== peer.name || target.dialled !== dialled) this.remember({ ...target, name: peer.name, dialled });
      return;
    }
    // The peer dialled us: it is the one to dial after a restart only if there is no other peer to
    // reach again (none yet, or the user disconnected from it). Otherwise a stranger who dialled
    // once while our peer was away would become the peer we redial, and receive its messages.
    if (peer.direction === 'in' && !this.redialling && (!target || target.userDisconnected)) {
      const host = hostOf(peer.address);
      if (host && peer.listenPort > 0) {
        this.remember({ name: peer.name, fingerprint: peer.fingerprint, host, port: peer.listenPort, dialled: false, userDisconnected: false });
      }
    }
  }

  /** Whether the redial to `fingerprint` under way is still wanted (`chat disconnect` may have come meanwhile). */
  wants(fingerprint: string): boolean {
    return !this.stopped && this.outage?.dialling === true && this.target?.fingerprint === fingerprint;
  }

  /** The active session ended (PeerSlot); `recorded`: its `connected` and `disconnected` events are in the history. */
  ended(peer: PeerInfo, end: SessionEnd, recorded: boolean): void {
    if (this.stopped) return;
    const target = this.target;
    const ours = target?.fingerprint === peer.fingerprint;
    const reason = describeEnd(end);
    if (end.kind === 'disconnected' && ours) {
      this.redialling = false;
      this.remember({ ...target, userDisconnected: true });
      this.log.info(`not redialling ${quote(peer.name)}: ${quote(reason)}`);
      return;
    }
    if (!this.options.enabled || !this.redialling || !target) return;
    // Another peer held the slot meanwhile: now that it has left, ours is redialled again.
    this.begin(ours ? clipPeerText(reason) : clipPeerText(`${peer.name} left; redialling ${target.name}`), recorded, undefined);
  }

  /** The outage under way, as `status` shows it; null when connected or not redialling. */
  summary(now = Date.now()): ReconnectSummary | null {
    const { outage, target } = this;
    if (!outage || !target) return null;
    return {
      name: target.name,
      fingerprint: target.fingerprint,
      address: formatAddress(target.host, target.port),
      attempt: outage.attempt,
      nextAttemptAt: outage.nextAt === undefined ? null : new Date(outage.nextAt).toISOString(),
      nextAttemptInMs: outage.nextAt === undefined ? null : Math.max(0, outage.nextAt - now),
      lastError: outage.lastError ?? null,
    };
  }

  /**
   * Starts an outage: one `reconnecting` event (when `record`), then redials from attempt 1, the
   * first after `firstDelayMs` (default: the backoff's first wait).
   */
  private begin(reason: string, record: boolean, firstDelayMs: number | undefined): void {
    const target = this.target!;
    this.end();
    const outage: Outage = { attempt: 1, timer: undefined, nextAt: undefined, dialling: false, lastError: undefined };
    this.outage = outage;
    const address = formatAddress(target.host, target.port);
    this.log.info(`reconnecting to ${quote(target.name)} at ${address}: ${quote(reason)}`);
    if (record) {
      this.options.record({
        type: 'peer', state: 'reconnecting', direction: 'out', time: new Date().toISOString(),
        from: target.name, to: this.options.name, address, fingerprint: target.fingerprint, reason,
      });
    }
    this.schedule(outage, firstDelayMs ?? this.delay(1));
  }

  private schedule(outage: Outage, delayMs: number): void {
    clearTimeout(outage.timer);
    outage.nextAt = Date.now() + delayMs;
    outage.timer = setTimeout(() => void this.attempt(outage), delayMs);
    // A redial never keeps a stopping daemon alive.
    outage.timer.unref();
  }

  private pause(outage: Outage): void {
    clearTimeout(outage.timer);
    outage.timer = undefined;
    outage.nextAt = undefined;
  }

  private async attempt(outage: Outage): Promise<void> {
    outage.timer = undefined;
    const target = this.target;
    if (this.outage !== outage || !target || this.stopped) return;
    // The user's own connect decides; when it fails, the redials go on (userConnect).
    if (this.userConnects > 0) {
      outage.nextAt = undefined;
      return;
    }
    const holder = this.options.current();
    if (holder) {
      // Connected after all (the peer dialled us), or another peer holds the slot: `adopted` ended it.
      this.end();
      return;
    }
    outage.dialling = true;
    outage.nextAt = undefined;
    const result = await this.options.dial(target);
    // Meanwhile the outage may have ended: connected, disconnected, another connect, stopping.
    // (`adopted` ends it when the redial connects.)
    if (this.outage !== outage) return;
    outage.dialling = false;
    const address = formatAddress(target.host, target.port);
    if (result.outcome === 'connected') {
      this.end();
      return;
    }
    if (result.outcome === 'refused') {
      this.end();
      this.redialling = false;
      this.log.warn(`stopped reconnecting to ${quote(target.name)} at ${address}: ${quote(result.reason)}`);
      return;
    }
    outage.lastError = result.reason;
    outage.attempt++;
    const delayMs = this.delay(outage.attempt);
    this.log.info(`redial of ${quote(target.name)} at ${address} failed: ${quote(result.reason)}; attempt ${outage.attempt} in ${Math.round(delayMs / 100) / 10} s`);
    this.schedule(outage, delayMs);
  }

  private delay(attempt: number): number {
    return reconnectDelayMs(attempt, this.options.random, this.options.backoff);
  }

  /** Ends the outage, if any: no more redials until the next drop. */
  private end(): void {
    if (this.outage) clearTimeout(this.outage.timer);
    this.outage = undefined;
  }

  /** The new target, persisted; a file that cannot be written costs only the redial after a restart. */
  private remember(target: LastPeer): void {
    this.target = target;
    try {
      this.options.save(target);
    } catch (error) {
      this.log.warn(`could not save the last peer: ${(error as Error).message}`);
    }
  }
}
