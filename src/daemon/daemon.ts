import { randomUUID } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import net, { type Server, type Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import path from 'node:path';
import type { ChatEvent } from '../history/events.ts';
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
  type SendParams,
  type SendResult,
  type StatusResult,
  type TransferParams,
  type TransferResult,
} from '../control/protocol.ts';
import { formatFingerprint } from '../identity/fingerprint-notation.ts';
import { ControlError, startControlServer, type ControlConnection, type ControlHandlers, type ControlServer } from '../control/server.ts';
import type { HistoryStore } from '../history/store.ts';
import type { PinnedDirectory } from '../files/pinned-directory.ts';
import type { Identity } from '../identity/identity.ts';
import type { KnownPeers } from '../identity/known-peers.ts';
import { createPeerContext, peerFingerprint, secureDialled } from '../peer/secure-transport.ts';
import { quote } from '../peer/log-text.ts';
import { formatAddress, type KeepaliveOptions, type PeerInfo, type PeerSession } from '../peer/session.ts';
import { dial, DialError, listen } from '../peer/tcp.ts';
import { HANDSHAKE_TIMEOUT_MS } from '../wire/limits.ts';
import { reasonOf, refusalOf } from './close-reason.ts';
import type { Logger } from './logger.ts';
import { PeerSlot } from './peer-slot.ts';
import { Gatekeeper } from './gatekeeper.ts';
import { EventFeed } from './event-feed.ts';

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
  private readonly startedAt = new Date().toISOString();
  private listener: Server | undefined;
  private control: ControlServer | undefined;
  private boundPort = 0;
  private readonly slot: PeerSlot;
  private stopping: Promise<void> | undefined;
  private readonly stopListeners: Array<() => void> = [];
  private readonly feed: EventFeed;
  private readonly gatekeeper: Gatekeeper;
  private readonly handshakeTimeoutMs: number;

  constructor(config: DaemonConfig, history: HistoryStore, log: Logger) {
    this.config = config;
    this.history = history;
    this.feed = new EventFeed(history, log);
    this.log = log;
    this.peerContext = createPeerContext(config.identity);
    this.handshakeTimeoutMs = config.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    const { name, knownPeers, downloads, maxFileSize, keepalive } = config;
    this.gatekeeper = new Gatekeeper({ name, fingerprint: config.identity.fingerprint, knownPeers, feed: this.feed, log });
    this.slot = new PeerSlot({
      name, downloads, maxFileSize, keepalive,
      instance: randomUUID(),
      listenPort: () => this.boundPort,
      peerContext: this.peerContext,
      handshakeTimeoutMs: this.handshakeTimeoutMs,
      gatekeeper: this.gatekeeper,
      feed: this.feed,
      log,
    });
  }

  get port(): number {
    return this.boundPort;
  }

  /** Binds the peer port, then the control socket; resolves once both serve. */
  async start(): Promise<void> {
    this.listener = net.createServer((socket) => this.slot.accept(socket));
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
      this.slot.closeAll('daemon stopping');
      await new Promise<void>((resolve) => (this.listener?.listening ? this.listener.close(() => resolve()) : resolve()));
      await this.control?.close();
      this.feed.close();
      this.log.info('stopped');
      for (const listener of this.stopListeners) listener();
    })();
    return this.stopping;
  }

  status(): StatusResult {
    const peer = this.slot.summary();
    return {
      pid: process.pid,
      name: this.config.name,
      fingerprint: this.config.identity.fingerprint,
      profile: this.config.paths.profile,
      host: this.config.host,
      port: this.boundPort,
      downloads: this.config.downloads.path,
      connection: peer ? 'connected' : 'disconnected',
      peer,
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
        this.feed.subscribe(connection);
        return { subscribed: true as const };
      },
      identity: () => ({ name: this.config.name, fingerprint: this.config.identity.fingerprint }),
      peers: () => ({ peers: this.config.knownPeers.list() }),
      'peers.forget': (params) => this.forgetPeer(params),
    };
  }

  private forgetPeer({ name }: ForgetPeerParams): ForgetPeerResult {
    const forgotten = this.config.knownPeers.forget(name);
    if (!forgotten) throw new ControlError(ErrorCode.unknownPeer, `no pinned peer is named "${name}" (see chat peers)`);
    this.log.info(`forgot the key of ${quote(name)} (${formatFingerprint(forgotten.fingerprint)})`);
    return { forgotten };
  }

  private async connect({ host, port, fingerprint }: ConnectParams): Promise<ConnectResult> {
    const current = this.slot.peer;
    // A different port cannot be the peer we have: refuse before the other daemon sees a
    // connection that would only be dropped. The same port is dialled: the handshake tells.
    if (current && port !== current.listenPort) {
      throw new ControlError(ErrorCode.busy, `already connected to ${current.name}; run "chat disconnect" first`);
    }
    const target = formatAddress(host, port);
    let socket: Socket;
    try {
      socket = await dial(host, port, this.handshakeTimeoutMs);
    } catch (error) {
      throw error instanceof DialError ? new ControlError(ErrorCode.connectFailed, error.message) : error;
    }
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
    const session = this.slot.open(secure, 'out', target, {
      expectedFingerprint: fingerprint,
      handshakeTimeoutMs: Math.max(1, handshakeDeadline - Date.now()),
    });
    let peer: PeerInfo;
    try {
      peer = await session.ready;
    } catch (error) {
      const reason = reasonOf(error);
      const refusal = refusalOf(reason);
      if (refusal?.kind === 'identity') {
        if (refusal.remote) this.gatekeeper.refusedBy(target, peerFingerprint(secure), refusal.detail);
        throw new ControlError(ErrorCode.identityMismatch, refusal.remote ? `${target} refused us: ${refusal.detail}` : `refused ${target}: ${refusal.detail}`);
      }
      if (refusal?.kind === 'newPeer') throw new ControlError(ErrorCode.busy, `refused ${target}: ${refusal.detail}`);
      if (refusal?.kind === 'busy' && !refusal.remote) {
        throw new ControlError(ErrorCode.busy, `already connected to ${this.slot.peer?.name ?? 'another peer'}; run "chat disconnect" first`);
      }
      if (refusal?.kind === 'busy') throw new ControlError(ErrorCode.busy, `${target} refused: ${refusal.detail}`);
      throw new ControlError(ErrorCode.connectFailed, `handshake with ${target} failed: ${reason}`);
    }
    const outcome = this.slot.adopt(session, peer, fingerprint);
    if (outcome === 'refused') {
      const code = refusalOf(session.closeReason ?? '', true)?.kind === 'newPeer' ? ErrorCode.busy : ErrorCode.identityMismatch;
      throw new ControlError(code, `refused ${target}: ${session.closeReason}`);
    }
    if (outcome === 'busy') {
      throw new ControlError(
        ErrorCode.busy,
        `already connected to ${this.slot.peer?.name ?? 'another peer'}; run "chat disconnect" first`,
      );
    }
    return { peer: this.slot.summary()!, alreadyConnected: outcome === 'duplicate' };
  }

  private disconnect(): DisconnectResult {
    const session = this.slot.session;
    if (!session) return { disconnected: false, peer: null };
    const name = session.peer!.name;
    session.close('disconnected by user');
    return { disconnected: true, peer: name };
  }

  private activeSession(): PeerSession {
    const session = this.slot.session;
    if (!session || session.isClosed) {
      throw new ControlError(ErrorCode.notConnected, 'not connected to a peer; run "chat connect PORT" first');
    }
    return session;
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
    this.feed.record({
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
    this.feed.record({
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
