import { randomUUID } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import net, { type Server, type Socket } from 'node:net';
import path from 'node:path';
import type { ChatEvent, NewEvent } from '../control/events.ts';
import type { ProfilePaths } from '../control/paths.ts';
import {
  ErrorCode,
  MAX_HISTORY_PAGE,
  MAX_HISTORY_RESPONSE_BYTES,
  MAX_PORT,
  type ConnectResult,
  type DisconnectResult,
  type HistoryResult,
  type PeerSummary,
  type SendResult,
  type StatusResult,
  type TransferResult,
} from '../control/protocol.ts';
import { ControlError, startControlServer, type ControlConnection, type ControlServer } from '../control/server.ts';
import type { HistoryStore } from '../history/store.ts';
import { PeerSession, type PeerInfo } from '../peer/session.ts';
import { HANDSHAKE_TIMEOUT_MS, MAX_MESSAGE_BYTES } from '../wire/limits.ts';
import type { Logger } from './logger.ts';

export interface DaemonConfig {
  paths: ProfilePaths;
  name: string;
  host: string;
  port: number;
  downloads: string;
  version: string;
}

/** Connections still in their handshake at once; more are closed at accept (half-open floods). */
const MAX_PENDING_HANDSHAKES = 32;
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

  constructor(config: DaemonConfig, history: HistoryStore, log: Logger) {
    this.config = config;
    this.history = history;
    this.log = log;
  }

  get port(): number {
    return this.boundPort;
  }

  /** Binds the peer port, then the control socket; resolves once both serve. */
  async start(): Promise<void> {
    this.listener = net.createServer((socket) => this.acceptPeer(socket));
    this.boundPort = await listen(this.listener, this.config.host, this.config.port);
    this.listener.on('error', (error) => this.log.error(`peer listener: ${error.message}`));
    this.control = await startControlServer(this.config.paths.socket, this.controlHandlers(), (line) => this.log.warn(line));
    this.log.info(
      `chatd ${this.config.version} started: name "${this.config.name}", peers on ${this.config.host}:${this.boundPort}, ` +
        `control ${this.config.paths.socket}, downloads ${this.config.downloads}`,
    );
  }

  /** Called once the daemon has fully stopped (after `stop`). */
  onStopped(listener: () => void): void {
    this.stopListeners.push(listener);
  }

  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info(`stopping: ${reason}`);
      this.session?.close('daemon stopping');
      for (const pending of this.handshaking) pending.close('daemon stopping');
      await new Promise<void>((resolve) => (this.listener?.listening ? this.listener.close(() => resolve()) : resolve()));
      await this.control?.close();
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
      profile: this.config.paths.profile,
      host: this.config.host,
      port: this.boundPort,
      downloads: this.config.downloads,
      connection: peer ? 'connected' : 'disconnected',
      peer: peer ? summarize(peer) : null,
      home: this.config.paths.home,
      log: this.config.paths.logFile,
      startedAt: this.startedAt,
      version: this.config.version,
    };
  }

  private controlHandlers() {
    return {
      status: () => this.status(),
      stop: () => {
        // Answer first, then stop: the caller waits for the process to exit.
        setImmediate(() => void this.stop('stop requested over the control socket'));
        return { stopping: true as const };
      },
      connect: (params: unknown) => this.connect(params),
      disconnect: () => this.disconnect(),
      send: (params: unknown) => this.send(params),
      transfer: (params: unknown, connection: ControlConnection) => this.transfer(params, connection),
      history: (params: unknown) => this.historyPage(params),
      subscribe: (_params: unknown, connection: ControlConnection) => {
        this.subscribers.add(connection);
        connection.onClose(() => this.subscribers.delete(connection));
        return { subscribed: true as const };
      },
    };
  }

  private record(event: NewEvent): void {
    const stored = this.history.append(event);
    for (const subscriber of this.subscribers) subscriber.notify('event', stored);
  }

  private acceptPeer(socket: Socket): void {
    const from = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.stopping) {
      socket.destroy();
      return;
    }
    if (this.handshaking.size >= MAX_PENDING_HANDSHAKES) {
      this.log.warn(`peer ${from}: refused, ${MAX_PENDING_HANDSHAKES} handshakes already pending`);
      socket.destroy();
      return;
    }
    this.log.info(`peer ${from}: incoming connection`);
    const session = this.createSession(socket, 'in');
    session.ready.then(
      (peer) => {
        const outcome = this.adopt(session, peer);
        if (outcome === 'busy') this.log.warn(`peer ${from}: refused "${peer.name}", already connected to another peer`);
      },
      () => undefined,
    );
  }

  private createSession(socket: Socket, direction: 'in' | 'out'): PeerSession {
    const address = `${socket.remoteAddress}:${socket.remotePort}`;
    const session: PeerSession = new PeerSession({
      socket,
      direction,
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
        acceptFile: (offer) => {
          if (session !== this.session) return { decline: 'this connection is not the active one' };
          this.log.info(`peer ${address}: receiving "${offer.name}" (${offer.size} bytes, transfer ${offer.id})`);
          return { downloadsDir: this.config.downloads };
        },
        onFileReceived: (file) => {
          const peer = session.peer!;
          this.log.info(`peer ${address}: stored ${file.path} (${file.size} bytes, sha256 ${file.sha256})`);
          this.record({
            type: 'file', direction: 'in', id: file.id, time: new Date().toISOString(),
            from: peer.name, to: this.config.name,
            name: file.name, size: file.size, sha256: file.sha256, path: file.path,
          });
        },
        onClosed: (reason) => this.sessionClosed(session, reason),
        admit: (peer) => {
          const current = this.session?.peer;
          if (current && !this.session!.isClosed && current.instance !== peer.instance) {
            this.log.warn(`peer ${address}: refused "${peer.name}", already connected to "${current.name}"`);
            return `busy: already connected to ${current.name}`;
          }
          return undefined;
        },
      },
    });
    this.handshaking.add(session);
    return session;
  }

  /**
   * Makes a freshly handshaken session the active one, or closes it. Two connections to the same
   * daemon (both users ran `chat connect`) keep the one dialled by the smaller instance id: both
   * ends compute the same answer, so they never close both.
   */
  private adopt(session: PeerSession, peer: PeerInfo): 'adopted' | 'duplicate' | 'busy' {
    this.handshaking.delete(session);
    const current = this.session;
    if (!current || current.isClosed) {
      this.session = session;
      this.log.info(`peer ${peer.address}: connected to "${peer.name}" (${peer.direction}, protocol ${peer.version})`);
      this.record({
        type: 'peer', state: 'connected', direction: peer.direction, time: new Date().toISOString(),
        from: peer.name, to: this.config.name, address: peer.address,
      });
      return 'adopted';
    }
    const currentPeer = current.peer!;
    if (currentPeer.instance !== peer.instance) {
      session.close(`busy: already connected to ${currentPeer.name}`);
      return 'busy';
    }
    const dialler = (info: PeerInfo) => (info.direction === 'out' ? this.instance : info.instance);
    if (dialler(peer) < dialler(currentPeer)) {
      this.session = session;
      current.close('duplicate connection');
    } else {
      session.close('duplicate connection');
    }
    return 'duplicate';
  }

  private sessionClosed(session: PeerSession, reason: string): void {
    this.handshaking.delete(session);
    if (session !== this.session) {
      if (!session.peer) this.log.warn(`peer ${session.address}: dropped before handshake: ${reason}`);
      return;
    }
    this.session = undefined;
    const peer = session.peer!;
    this.log.info(`peer ${peer.address}: "${peer.name}" disconnected: ${reason}`);
    try {
      this.record({
        type: 'peer', state: 'disconnected', direction: peer.direction, time: new Date().toISOString(),
        from: peer.name, to: this.config.name, address: peer.address, reason,
      });
    } catch (error) {
      this.log.warn(`could not record disconnect: ${String(error)}`);
    }
  }

  private async connect(params: unknown): Promise<ConnectResult> {
    const { host, port } = readConnectParams(params);
    const current = this.session?.peer;
    // A different port cannot be the peer we have: refuse before the other daemon sees a
    // connection that would only be dropped. The same port is dialled: the handshake tells.
    if (current && port !== current.listenPort) {
      throw new ControlError(ErrorCode.busy, `already connected to ${current.name}; run "chat disconnect" first`);
    }
    const socket = await dial(host, port);
    this.log.info(`peer ${host}:${port}: dialled`);
    const session = this.createSession(socket, 'out');
    let peer: PeerInfo;
    try {
      peer = await session.ready;
    } catch (error) {
      const reason = reasonOf(error);
      if (reason.includes('busy: ')) throw new ControlError(ErrorCode.busy, `${host}:${port} refused: ${reason.slice(reason.indexOf('busy: '))}`);
      throw new ControlError(ErrorCode.connectFailed, `handshake with ${host}:${port} failed: ${reason}`);
    }
    const outcome = this.adopt(session, peer);
    if (outcome === 'busy') {
      throw new ControlError(
        ErrorCode.busy,
        `already connected to ${this.session!.peer!.name}; run "chat disconnect" first`,
      );
    }
    return { peer: summarize(this.session!.peer!), alreadyConnected: outcome === 'duplicate' };
  }

  private disconnect(): DisconnectResult {
    const session = this.session;
    if (!session) return { disconnected: false, peer: null };
    const name = session.peer!.name;
    session.close('disconnected by user');
    return { disconnected: true, peer: name };
  }

  private activeSession(): PeerSession {
    if (!this.session || this.session.isClosed) {
      throw new ControlError(ErrorCode.notConnected, 'not connected to a peer; run "chat connect PORT" first');
    }
    return this.session;
  }

  private async send(params: unknown): Promise<SendResult> {
    const text = (params as { text?: unknown }).text;
    if (typeof text !== 'string' || text.length === 0) {
      throw new ControlError(ErrorCode.invalidParams, 'the message is empty');
    }
    if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) {
      throw new ControlError(ErrorCode.invalidParams, `the message is longer than ${MAX_MESSAGE_BYTES} bytes`);
    }
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

  private async transfer(params: unknown, connection: ControlConnection): Promise<TransferResult> {
    const { path: filePath, progress } = params as { path?: unknown; progress?: unknown };
    if (typeof filePath !== 'string' || !path.isAbsolute(filePath)) {
      throw new ControlError(ErrorCode.invalidParams, 'transfer needs an absolute "path"');
    }
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
    this.log.info(`sending ${filePath} (${size} bytes) to "${peerName}"`);
    let sent;
    try {
      sent = await session.sendFile(filePath, name, size, report);
    } catch (error) {
      this.log.warn(`transfer of ${filePath} failed: ${reasonOf(error)}`);
      throw new ControlError(ErrorCode.transferFailed, `transfer of ${filePath} failed: ${reasonOf(error)}`);
    }
    this.log.info(`sent ${filePath} to "${peerName}" (sha256 ${sent.sha256})`);
    this.record({
      type: 'file', direction: 'out', id: sent.id, time: new Date().toISOString(),
      from: this.config.name, to: peerName, name, size: sent.size, sha256: sent.sha256, path: filePath,
    });
    return { id: sent.id, name, size: sent.size, sha256: sent.sha256, to: peerName, path: filePath };
  }

  private historyPage(params: unknown): HistoryResult {
    const { limit = 10, after, before } = params as { limit?: unknown; after?: unknown; before?: unknown };
    const page = Math.min(readCount(limit, 'limit'), MAX_HISTORY_PAGE);
    if (after !== undefined && before !== undefined) {
      throw new ControlError(ErrorCode.invalidParams, 'give "after" or "before", not both');
    }
    if (after !== undefined) return capPage(this.history.after(readCount(after, 'after'), page), 'oldest');
    const events = before === undefined ? this.history.latest(page) : this.history.before(readCount(before, 'before'), page);
    return capPage(events, 'newest');
  }
}

function readCount(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ControlError(ErrorCode.invalidParams, `"${name}" must be a non-negative integer`);
  }
  return value;
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

function summarize(peer: PeerInfo): PeerSummary {
  return {
    name: peer.name,
    address: peer.address,
    direction: peer.direction,
    listenPort: peer.listenPort,
    protocolVersion: peer.version,
  };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message.replace(/^peer connection closed: /, 'connection closed: ') : String(error);
}

function readConnectParams(params: unknown): { host: string; port: number } {
  const { host, port } = params as { host?: unknown; port?: unknown };
  if (typeof host !== 'string' || host.length === 0 || host.length > 255) {
    throw new ControlError(ErrorCode.invalidParams, '"host" must be a host name or address');
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > MAX_PORT) {
    throw new ControlError(ErrorCode.invalidParams, `"port" must be an integer from 1 to ${MAX_PORT}`);
  }
  return { host, port };
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

function dial(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ControlError(ErrorCode.connectFailed, `connecting to ${host}:${port} timed out after ${HANDSHAKE_TIMEOUT_MS / 1000} s`));
    }, HANDSHAKE_TIMEOUT_MS);
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
