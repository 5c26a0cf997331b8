import { randomUUID } from 'node:crypto';
import { statfsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import net, { type Server, type Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import path from 'node:path';
import type { ChatEvent, NewEvent } from '../history/events.ts';
import type { ProfilePaths } from '../control/paths.ts';
import {
  DEFAULT_HISTORY_PAGE,
  ErrorCode,
  MAX_HISTORY_PAGE,
  MAX_HISTORY_RESPONSE_BYTES,
  type ConnectParams,
  type ConnectResult,
  type DisconnectResult,
  type ForgetPeerParams,
  type ForgetPeerResult,
  type HistoryParams,
  type HistoryResult,
  type PeerSummary,
  type SendParams,
  type SendResult,
  type StatusResult,
  type TransferParams,
  type TransferResult,
} from '../control/protocol.ts';
import { formatFingerprint } from '../identity/fingerprint-notation.ts';
import { formatByteSize } from '../text/sizes.ts';
import { ControlError, startControlServer, type ControlConnection, type ControlHandlers, type ControlServer } from '../control/server.ts';
import type { HistoryStore } from '../history/store.ts';
import type { PinnedDirectory } from '../files/pinned-directory.ts';
import type { Identity } from '../identity/identity.ts';
import type { KnownPeers } from '../identity/known-peers.ts';
import { createPeerContext, peerFingerprint, secureAccepted, secureDialled } from '../peer/secure-transport.ts';
import { clipPeerText, quote } from '../peer/log-text.ts';
import { formatAddress, PeerSession, type KeepaliveOptions, type PeerInfo } from '../peer/session.ts';
import { HANDSHAKE_TIMEOUT_MS } from '../wire/limits.ts';
import { BUSY_REFUSAL, decideAdmission, IDENTITY_REFUSAL, NEW_PEER_REFUSAL, refusalKind, type AdmissionVerdict } from './admission.ts';
import type { Logger } from './logger.ts';
import { NewPeerLimit } from './new-peer-limit.ts';
import {
  CONNECTIONS_PER_KEY_PER_MINUTE,
  CONNECTIONS_PER_MINUTE,
  PeerEventBudget,
  REFUSAL_EVENTS_PER_MINUTE,
  type SkippedPeerEvents,
} from './peer-event-budget.ts';

export interface DaemonConfig {
  paths: ProfilePaths;
  name: string;
  host: string;
  port: number;
  /** Held open since the start (see PinnedDirectory): received files go into this very directory. */
  downloads: PinnedDirectory;
  version: string;
  identity: Identity;
  knownPeers: KnownPeers;
  /** Larger file offers are declined. */
  maxFileSize: number;
  /** Default: the peer protocol's PING_INTERVAL_MS / PEER_SILENCE_LIMIT_MS. */
  keepalive?: KeepaliveOptions;
  /** TLS and HELLO of one connection, dialled or accepted. Default: HANDSHAKE_TIMEOUT_MS. */
  handshakeTimeoutMs?: number;
  /** Default: the control protocol's CONTROL_IDLE_TIMEOUT_MS. */
  controlIdleTimeoutMs?: number;
}

/**
 * Incoming connections still in their handshake at once. Past this the oldest is dropped to make
 * room: a flood of idle half-open sockets cannot lock a real peer out, because a real handshake
 * takes milliseconds while an idle socket stays oldest.
 */
const MAX_PENDING_HANDSHAKES = 32;
/** Room left on the downloads volume beyond an accepted file, for everything else on it. */
const FREE_SPACE_RESERVE_BYTES = 64 * 1024 * 1024;
/** How often a transfer reports progress to the command that started it. */
const PROGRESS_INTERVAL_MS = 100;

/**
 * chatd: one peer listener, at most one connected peer, the control socket, and the history.
 * Everything a peer sends reaches this class only through PeerSession, already validated.
 */
export class ChatDaemon {
  private readonly config: DaemonConfig;
  private readonly history: HistoryStore;
  private readonly log: Logger;
  private readonly peerContext: SecureContext;
  private readonly instance = randomUUID();
  private readonly startedAt = new Date().toISOString();
  private listener: Server | undefined;
  private control: ControlServer | undefined;
  private boundPort = 0;
  /** The peer that completed the handshake and is in use. */
  private session: PeerSession | undefined;
  private readonly handshaking = new Set<PeerSession>();
  private readonly subscribers = new Set<ControlConnection>();
  private stopping: Promise<void> | undefined;
  private readonly stopListeners: Array<() => void> = [];
  /** Connections and refusals are recorded in the history, but churn must not fill the disk. */
  private readonly peerEvents = new PeerEventBudget((skipped) => this.reportSkipped(skipped));
  /** Whether the active session's `connected` was recorded, and so its `disconnected` will be. */
  private sessionRecorded = false;
  private readonly newPeers: NewPeerLimit;
  private readonly handshakeTimeoutMs: number;

  constructor(config: DaemonConfig, history: HistoryStore, log: Logger) {
    this.config = config;
    this.history = history;
    this.log = log;
    this.peerContext = createPeerContext(config.identity);
    this.handshakeTimeoutMs = config.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    this.newPeers = new NewPeerLimit(config.knownPeers);
  }

  get port(): number {
    return this.boundPort;
  }

  /** Binds the peer port, then the control socket; resolves once both serve. */
  async start(): Promise<void> {
    this.listener = net.createServer((socket) => this.acceptPeer(socket));
    this.boundPort = await listen(this.listener, this.config.host, this.config.port);
    this.listener.on('error', (error) => this.log.error(`peer listener: ${error.message}`));
    this.control = await startControlServer(
      { path: this.config.paths.socket, place: this.config.paths.socketPlace },
      this.controlHandlers(),
      (line) => this.log.warn(line),
      { idleTimeoutMs: this.config.controlIdleTimeoutMs },
    );
    this.log.info(
      `chatd ${this.config.version} started: name "${this.config.name}", fingerprint ${formatFingerprint(this.config.identity.fingerprint)}, ` +
        `peers on ${this.config.host}:${this.boundPort} (TLS 1.3), control ${this.config.paths.socket}, downloads ${this.config.downloads.path}${this.config.downloads.raceFree ? '' : ' (checked by path: no /proc/self/fd)'}`,
    );
  }

  /** Called once the daemon has fully stopped (after `stop`). */
  onStopped(listener: () => void): void {
    this.stopListeners.push(listener);
  }

  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info(`stopping: ${reason}`);
      this.session?.close('local', 'daemon stopping');
      for (const pending of this.handshaking) pending.close('local', 'daemon stopping');
      await new Promise<void>((resolve) => (this.listener?.listening ? this.listener.close(() => resolve()) : resolve()));
      await this.control?.close();
      this.peerEvents.flush();
      this.history.close();
      this.log.info('stopped');
      for (const listener of this.stopListeners) listener();
    })();
    return this.stopping;
  }

  status(): StatusResult {
    const peer = this.session?.peer;
    return {
      pid: process.pid,
      name: this.config.name,
      fingerprint: this.config.identity.fingerprint,
      profile: this.config.paths.profile,
      host: this.config.host,
      port: this.boundPort,
      downloads: this.config.downloads.path,
      connection: peer ? 'connected' : 'disconnected',
      peer: peer ? summarize(peer) : null,
      home: this.config.paths.home,
      log: this.config.paths.logFile,
      startedAt: this.startedAt,
      version: this.config.version,
    };
  }

  private controlHandlers(): ControlHandlers {
    return {
      status: () => this.status(),
      stop: () => {
        // Answer first, then stop: the caller waits for the process to exit.
        setImmediate(() => void this.stop('stop requested over the control socket'));
        return { stopping: true as const };
      },
      connect: (params) => this.connect(params),
      disconnect: () => this.disconnect(),
      send: (params) => this.send(params),
      transfer: (params, connection) => this.transfer(params, connection),
      history: (params) => this.historyPage(params),
      subscribe: (_params, connection) => {
        this.subscribers.add(connection);
        connection.onClose(() => this.subscribers.delete(connection));
        return { subscribed: true as const };
      },
      identity: () => ({ name: this.config.name, fingerprint: this.config.identity.fingerprint }),
      peers: () => ({ peers: this.config.knownPeers.list() }),
      'peers.forget': (params) => this.forgetPeer(params),
    };
  }

  private record(event: NewEvent): void {
    const stored = this.history.append(event);
    for (const subscriber of this.subscribers) subscriber.notify('event', stored);
  }

  private acceptPeer(socket: Socket): void {
    const from = formatAddress(socket.remoteAddress, socket.remotePort);
    if (this.stopping) {
      socket.destroy();
      return;
    }
    this.makeRoomForHandshake(from);
    socket.setNoDelay(true);
    const secure = secureAccepted(socket, this.peerContext);
    this.createSession(secure, 'in', from);
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

  private createSession(
    socket: TLSSocket,
    direction: 'in' | 'out',
    address: string,
    options: { expectedFingerprint?: string; handshakeTimeoutMs?: number } = {},
  ): PeerSession {
    const { expectedFingerprint, handshakeTimeoutMs = this.handshakeTimeoutMs } = options;
    const session: PeerSession = new PeerSession({
      socket,
      direction,
      address,
      handshakeTimeoutMs,
      peerFingerprint: () => peerFingerprint(socket),
      keepalive: this.config.keepalive,
      local: { name: this.config.name, instance: this.instance, listenPort: this.boundPort },
      handlers: {
        log: (line) => this.log.info(`peer ${address}: ${line}`),
        onMessage: (message) => {
          const peer = session.peer!;
          this.record({
            type: 'message', direction: 'in', id: message.id, time: message.time,
            from: peer.name, to: this.config.name, text: message.text,
          });
        },
        acceptFile: (offer, reservedBytes) => {
          if (session !== this.session) return { decline: 'this connection is not the active one' };
          const problem = this.storageProblem(offer.size, reservedBytes);
          if (problem) {
            this.log.warn(`peer ${address}: declined ${quote(offer.name)} (${offer.size} bytes): ${problem}`);
            return { decline: problem };
          }
          this.log.info(`peer ${address}: receiving ${quote(offer.name)} (${offer.size} bytes, transfer ${offer.id})`);
          return { downloads: this.config.downloads };
        },
        onFileReceived: (file) => {
          const peer = session.peer!;
          this.log.info(`peer ${address}: stored ${quote(file.name)} in ${this.config.downloads.path} (${file.size} bytes, sha256 ${file.sha256})`);
          this.record({
            type: 'file', direction: 'in', id: file.id, time: new Date().toISOString(),
            from: peer.name, to: this.config.name,
            name: file.name, size: file.size, sha256: file.sha256, path: file.path,
          });
        },
        onClosed: (reason) => this.sessionClosed(session, reason),
        // Incoming: adopt at once, so an offer in the same read as the confirmation finds it active.
        // Outgoing: `connect` adopts once `ready` resolves, and reports the outcome.
        ...(direction === 'in' ? {
          onEstablished: (peer: PeerInfo) => {
            this.adopt(session, peer);
          },
        } : {}),
        admit: (peer) => {
          const verdict = this.admission(peer, expectedFingerprint);
          if (verdict.verdict !== 'refuse') return undefined;
          this.refused(peer, direction, verdict.reason);
          return { kind: refusalKind(verdict.kind), detail: verdict.reason };
        },
      },
    });
    this.handshaking.add(session);
    return session;
  }

  /** The admission rule for this peer now: see decideAdmission. */
  private admission(peer: PeerInfo, expectedFingerprint?: string): AdmissionVerdict {
    const current = this.session && !this.session.isClosed ? this.session.peer : undefined;
    return decideAdmission({
      candidate: peer,
      current,
      expectedFingerprint,
      ownFingerprint: this.config.identity.fingerprint,
      knownPeers: this.config.knownPeers,
      newPeers: this.newPeers,
    });
  }

  /** Logs and records a refused connection, so `chat tail` shows who knocked (events are rate-limited). */
  private refused(peer: PeerInfo, direction: 'in' | 'out', reason: string): void {
    this.log.warn(`peer ${peer.address}: refused ${quote(peer.name)} (key ${formatFingerprint(peer.fingerprint)}): ${reason}`);
    if (!this.peerEvents.refusal()) return;
    this.recordSafely({
      type: 'peer', state: 'refused', direction, time: new Date().toISOString(),
      from: peer.name, to: this.config.name, address: peer.address, fingerprint: peer.fingerprint, reason,
    });
  }

  /**
   * The listener we dialled refused our key: recorded (within the refusal budget) under the name
   * pinned to the key it proved, or the address we dialled. Only for a connection we dialled: a
   * dialler's BYE after our HELLO proves nothing about us, and any stranger can send one.
   */
  private refusedBy(target: string, fingerprint: string | undefined, theirReason: string): void {
    if (!this.peerEvents.refusal()) return;
    const from = (fingerprint && this.config.knownPeers.list().find((pin) => pin.fingerprint === fingerprint)?.name) || target;
    this.recordSafely({
      type: 'peer', state: 'refused', direction: 'out', time: new Date().toISOString(),
      from, to: this.config.name, address: target, ...(fingerprint ? { fingerprint } : {}),
      reason: `${from} refused us: ${clipPeerText(theirReason)}`,
    });
  }

  /** One line for the connection events the budget kept out of the history in the last window. */
  private reportSkipped(skipped: SkippedPeerEvents): void {
    const parts = [
      skipped.connections ? `${skipped.connections} connections of pinned keys (over ${CONNECTIONS_PER_MINUTE} a minute, ${CONNECTIONS_PER_KEY_PER_MINUTE} per key)` : '',
      skipped.refusals ? `${skipped.refusals} refused connections (over ${REFUSAL_EVENTS_PER_MINUTE} a minute)` : '',
    ].filter(Boolean);
    this.log.warn(`not recorded in the history in the last minute, churn: ${parts.join(' and ')}; the log lines above name them`);
  }

  /** Why an offered file cannot be stored: over --max-file-size, or more than the downloads volume holds. */
  private storageProblem(size: number, reservedBytes: number): string | undefined {
    if (size > this.config.maxFileSize) {
      return `the file (${formatByteSize(size)}) is larger than the receiver accepts (${formatByteSize(this.config.maxFileSize)}, chat daemon start --max-file-size)`;
    }
    let free: number;
    try {
      const volume = statfsSync(this.config.downloads.heldPath);
      free = volume.bavail * volume.bsize;
    } catch (error) {
      this.log.warn(`cannot read the free space of ${this.config.downloads.path}: ${(error as Error).message}`);
      return 'the receiver cannot check its downloads directory';
    }
    const available = Math.max(0, free - reservedBytes - FREE_SPACE_RESERVE_BYTES);
    if (size > available) {
      return `not enough free space on the receiver: the file needs ${formatByteSize(size)}, ${formatByteSize(available)} available`;
    }
    return undefined;
  }

  private forgetPeer({ name }: ForgetPeerParams): ForgetPeerResult {
    const forgotten = this.config.knownPeers.forget(name);
    if (!forgotten) throw new ControlError(ErrorCode.unknownPeer, `no pinned peer is named "${name}" (see chat peers)`);
    this.log.info(`forgot the key of ${quote(name)} (${formatFingerprint(forgotten.fingerprint)})`);
    return { forgotten };
  }

  /**
   * Makes a freshly handshaken session the active one, or closes it. The admission rule runs again
   * here, not only at HELLO: another connection may have taken the slot, or pinned the name, since.
   */
  private adopt(session: PeerSession, peer: PeerInfo, expectedFingerprint?: string): 'adopted' | 'duplicate' | 'busy' | 'refused' {
    this.handshaking.delete(session);
    const verdict = this.admission(peer, expectedFingerprint);
    if (verdict.verdict === 'refuse') {
      this.refused(peer, peer.direction, verdict.reason);
      session.close(refusalKind(verdict.kind), verdict.reason);
      return verdict.kind === 'busy' ? 'busy' : 'refused';
    }
    const previous = verdict.verdict === 'replace' ? this.session?.peer : undefined;
    if (verdict.verdict === 'duplicate') {
      this.log.info(`peer ${peer.address}: ${quote(peer.name)} connected twice; kept the connection ${this.session?.peer?.address}`);
      session.close('duplicate', 'duplicate connection');
      return 'duplicate';
    }
    const time = new Date().toISOString();
    let pin: 'pinned' | 'seen';
    try {
      pin = this.config.knownPeers.remember(peer.name, peer.fingerprint, time);
    } catch (error) {
      session.close('identity', `${IDENTITY_REFUSAL}${(error as Error).message}`);
      return 'refused';
    }
    if (pin === 'pinned') this.newPeers.pinned(peer.direction);
    const replaced = this.session;
    this.session = session;
    this.sessionRecorded = this.peerEvents.connection(peer.fingerprint, pin === 'pinned');
    // Not the active session any more, so its end records nothing: the event below says it all.
    replaced?.close('duplicate', 'duplicate connection');
    const change = previous && describeChange(previous, peer);
    this.log.info(
      `peer ${peer.address}: connected to ${quote(peer.name)} (${peer.direction}, protocol ${peer.version}, key ${formatFingerprint(peer.fingerprint)}` +
        `${pin === 'pinned' ? ', first contact: key pinned' : ''}${change ? `; ${quote(change)}` : ''})`,
    );
    if (!this.sessionRecorded) return previous ? 'duplicate' : 'adopted';
    this.record({
      type: 'peer', state: 'connected', direction: peer.direction, time,
      from: peer.name, to: this.config.name, address: peer.address, fingerprint: peer.fingerprint, firstContact: pin === 'pinned',
      ...(change ? { reason: change } : {}),
    });
    return previous ? 'duplicate' : 'adopted';
  }

  private sessionClosed(session: PeerSession, reason: string): void {
    this.handshaking.delete(session);
    if (session !== this.session) {
      if (session.peer) return;
      // A dialler that refuses us after our HELLO is only logged: anyone can send that BYE, so it
      // says nothing a history event could vouch for. (A listener we dialled that refuses us is
      // recorded by `connect`.)
      this.log.warn(`peer ${session.address}: dropped before handshake: ${quote(reason)}`);
      return;
    }
    this.session = undefined;
    const peer = session.peer!;
    this.log.info(`peer ${peer.address}: ${quote(peer.name)} disconnected: ${quote(reason)}`);
    if (!this.sessionRecorded) return;
    this.recordSafely({
      type: 'peer', state: 'disconnected', direction: peer.direction, time: new Date().toISOString(),
      from: peer.name, to: this.config.name, address: peer.address, fingerprint: peer.fingerprint, reason: clipPeerText(reason),
    });
  }

  /** For events about the connection itself: failing to record one must not break the caller. */
  private recordSafely(event: NewEvent): void {
    try {
      this.record(event);
    } catch (error) {
      this.log.warn(`could not record a ${event.type} event: ${String(error)}`);
    }
  }

  private async connect({ host, port, fingerprint }: ConnectParams): Promise<ConnectResult> {
    const current = this.session?.peer;
    // A different port cannot be the peer we have: refuse before the other daemon sees a
    // connection that would only be dropped. The same port is dialled: the handshake tells.
    if (current && port !== current.listenPort) {
      throw new ControlError(ErrorCode.busy, `already connected to ${current.name}; run "chat disconnect" first`);
    }
    const target = formatAddress(host, port);
    const socket = await dial(host, port, this.handshakeTimeoutMs);
    socket.setNoDelay(true);
    this.log.info(`peer ${target}: dialled`);
    // TLS and HELLO share one handshake timeout, as on the listening side.
    const handshakeDeadline = Date.now() + this.handshakeTimeoutMs;
    let secure: TLSSocket;
    try {
      secure = await secureDialled(socket, this.peerContext, this.handshakeTimeoutMs);
    } catch (error) {
      this.log.warn(`peer ${target}: ${reasonOf(error)}`);
      throw new ControlError(ErrorCode.connectFailed, `handshake with ${target} failed: ${reasonOf(error)}`);
    }
    const session = this.createSession(secure, 'out', target, {
      expectedFingerprint: fingerprint,
      handshakeTimeoutMs: Math.max(1, handshakeDeadline - Date.now()),
    });
    let peer: PeerInfo;
    try {
      peer = await session.ready;
    } catch (error) {
      const reason = reasonOf(error);
      const refusal = (tag: string) => reason.slice(reason.indexOf(tag));
      if (reason.includes(IDENTITY_REFUSAL)) {
        const ours = reason.includes(`closed: ${IDENTITY_REFUSAL}`);
        if (!ours) this.refusedBy(target, peerFingerprint(secure), refusal(IDENTITY_REFUSAL));
        throw new ControlError(ErrorCode.identityMismatch, ours ? `refused ${target}: ${refusal(IDENTITY_REFUSAL)}` : `${target} refused us: ${refusal(IDENTITY_REFUSAL)}`);
      }
      if (reason.includes(`closed: ${NEW_PEER_REFUSAL}`)) throw new ControlError(ErrorCode.busy, `refused ${target}: ${refusal(NEW_PEER_REFUSAL)}`);
      if (reason.includes(`closed: ${BUSY_REFUSAL}`)) {
        throw new ControlError(ErrorCode.busy, `already connected to ${this.session?.peer?.name ?? 'another peer'}; run "chat disconnect" first`);
      }
      if (reason.includes(BUSY_REFUSAL)) throw new ControlError(ErrorCode.busy, `${target} refused: ${refusal(BUSY_REFUSAL)}`);
      throw new ControlError(ErrorCode.connectFailed, `handshake with ${target} failed: ${reason}`);
    }
    const outcome = this.adopt(session, peer, fingerprint);
    if (outcome === 'refused') {
      const code = session.closeReason?.startsWith(NEW_PEER_REFUSAL) ? ErrorCode.busy : ErrorCode.identityMismatch;
      throw new ControlError(code, `refused ${target}: ${session.closeReason}`);
    }
    if (outcome === 'busy') {
      throw new ControlError(
        ErrorCode.busy,
        `already connected to ${this.session?.peer?.name ?? 'another peer'}; run "chat disconnect" first`,
      );
    }
    return { peer: summarize(this.session!.peer!), alreadyConnected: outcome === 'duplicate' };
  }

  private disconnect(): DisconnectResult {
    const session = this.session;
    if (!session) return { disconnected: false, peer: null };
    const name = session.peer!.name;
    session.close('local', 'disconnected by user');
    return { disconnected: true, peer: name };
  }

  private activeSession(): PeerSession {
    if (!this.session || this.session.isClosed) {
      throw new ControlError(ErrorCode.notConnected, 'not connected to a peer; run "chat connect PORT" first');
    }
    return this.session;
  }

  private async send({ text }: SendParams): Promise<SendResult> {
    const session = this.activeSession();
    const peerName = session.peer!.name;
    let sent;
    try {
      sent = await session.sendMessage(text);
    } catch (error) {
      throw new ControlError(ErrorCode.peerLost, `message not delivered: ${reasonOf(error)}`);
    }
    this.record({
      type: 'message', direction: 'out', id: sent.id, time: sent.time,
      from: this.config.name, to: peerName, text,
    });
    return { id: sent.id, time: sent.time, to: peerName };
  }

  private async transfer({ path: filePath, progress }: TransferParams, connection: ControlConnection): Promise<TransferResult> {
    const size = await checkReadableFile(filePath);
    const session = this.activeSession();
    const peerName = session.peer!.name;
    const name = path.basename(filePath);
    let lastReport = 0;
    const report = (bytes: number, id: string) => {
      const now = Date.now();
      if (progress !== true || connection.closed || (now - lastReport < PROGRESS_INTERVAL_MS && bytes < size)) return;
      lastReport = now;
      connection.notify('transfer.progress', { id, bytes, size });
    };
    this.log.info(`sending ${filePath} (${size} bytes) to ${quote(peerName)}`);
    let sent;
    try {
      sent = await session.sendFile(filePath, name, size, report);
    } catch (error) {
      this.log.warn(`transfer of ${filePath} failed: ${quote(reasonOf(error))}`);
      throw new ControlError(ErrorCode.transferFailed, `transfer of ${filePath} failed: ${reasonOf(error)}`);
    }
    this.log.info(`sent ${filePath} to ${quote(peerName)} (sha256 ${sent.sha256})`);
    this.record({
      type: 'file', direction: 'out', id: sent.id, time: new Date().toISOString(),
      from: this.config.name, to: peerName, name, size: sent.size, sha256: sent.sha256, path: filePath,
    });
    return { id: sent.id, name, size: sent.size, sha256: sent.sha256, to: peerName, path: filePath };
  }

  private historyPage({ limit = DEFAULT_HISTORY_PAGE, after, before }: HistoryParams): HistoryResult {
    const page = Math.min(limit, MAX_HISTORY_PAGE);
    if (after !== undefined) return capPage(this.history.after(after, page), 'oldest');
    const events = before === undefined ? this.history.latest(page) : this.history.before(before, page);
    return capPage(events, 'newest');
  }
}

/** Keeps the page under MAX_HISTORY_RESPONSE_BYTES, dropping from the far end; never empties it. */
function capPage(events: ChatEvent[], keep: 'oldest' | 'newest'): HistoryResult {
  const ordered = keep === 'oldest' ? events : [...events].reverse();
  let bytes = 0;
  let count = 0;
  for (const event of ordered) {
    bytes += Buffer.byteLength(JSON.stringify(event));
    if (count > 0 && bytes > MAX_HISTORY_RESPONSE_BYTES) break;
    count++;
  }
  if (count === events.length) return { events, truncated: false };
  return { events: keep === 'oldest' ? events.slice(0, count) : events.slice(events.length - count), truncated: true };
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
  };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message.replace(/^peer connection closed: /, 'connection closed: ') : String(error);
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new Error(`port ${port} on ${host} is already in use; choose another with --port, or --port 0 for any free port`));
      } else if (error.code === 'EACCES') {
        reject(new Error(`no permission to listen on ${host}:${port}; ports below 1024 need privileges, use a higher --port`));
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
        reject(new Error(`cannot listen on ${host}: no such local address (--host)`));
      } else {
        reject(new Error(`cannot listen on ${host}:${port}: ${error.message}`));
      }
    };
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function dial(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ControlError(ErrorCode.connectFailed, `connecting to ${host}:${port} timed out after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why: Record<string, string> = {
        ECONNREFUSED: 'connection refused (is the peer\'s daemon running and listening on that port?)',
        EHOSTUNREACH: 'host unreachable',
        ENETUNREACH: 'network unreachable',
        ENOTFOUND: 'unknown host',
        EAI_AGAIN: 'host name lookup failed',
        ETIMEDOUT: 'timed out',
      };
      reject(new ControlError(ErrorCode.connectFailed, `cannot connect to ${host}:${port}: ${why[error.code ?? ''] ?? error.message}`));
    });
  });
}

/** Size of a regular file this process can read, or a ControlError naming the path and the problem. */
async function checkReadableFile(filePath: string): Promise<number> {
  let info;
  try {
    info = await stat(filePath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ControlError(ErrorCode.fileUnreadable, `${filePath}: no such file`);
    if (code === 'EACCES') throw new ControlError(ErrorCode.fileUnreadable, `${filePath}: permission denied`);
    throw new ControlError(ErrorCode.fileUnreadable, `${filePath}: ${(error as Error).message}`);
  }
  if (info.isDirectory()) throw new ControlError(ErrorCode.fileUnreadable, `${filePath}: is a directory, not a file`);
  if (!info.isFile()) throw new ControlError(ErrorCode.fileUnreadable, `${filePath}: not a regular file`);
  try {
    const handle = await open(filePath, 'r');
    await handle.close();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ControlError(ErrorCode.fileUnreadable, `${filePath}: ${code === 'EACCES' ? 'permission denied' : (error as Error).message}`);
  }
  return info.size;
}
