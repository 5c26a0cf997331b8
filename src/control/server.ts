/** The daemon's end of the control socket: JSON-RPC 2.0 over node-ipc, bounded, checked, owner-only. */
import { unlink } from 'node:fs/promises';
import net, { type Socket } from 'node:net';
import path from 'node:path';
import { JSONRPCClient, JSONRPCErrorException, JSONRPCServer, type JSONRPCResponse } from 'json-rpc-2.0';
import { IPCModule } from 'node-ipc';
import { fitAnswer, refuseLongBatch } from './answer-bounds.ts';
import {
  CONTROL_IDLE_TIMEOUT_MS,
  CONTROL_MESSAGE_TIMEOUT_MS,
  MAX_CONTROL_CONNECTIONS,
  MAX_CONTROL_MESSAGE_BYTES,
  MAX_NOTIFICATION_BACKLOG_BYTES,
} from './limits.ts';
import { ControlError } from './control-error.ts';
import { checkParams } from './params.ts';
import type { SocketLocation } from './paths.ts';
import { ErrorCode, RPC_EVENT, type ControlNotifications, type MethodName, type ParamsOf, type ResultOf } from './protocol.ts';
import { checkSocketFile, prepareSocketDirectory } from './socket-trust.ts';

export { MAX_CONTROL_MESSAGE_BYTES } from './limits.ts';

/** Thrown by method handlers; becomes a JSON-RPC error with our code. */
export { ControlError };

/** One client of the control socket, as method handlers see it. */
export interface ControlConnection {
  readonly id: number;
  readonly closed: boolean;
  notify<N extends keyof ControlNotifications>(method: N, params: ControlNotifications[N]): void;
  onClose(listener: () => void): void;
}

/** Each handler receives its params already checked (src/control/params.ts). */
export type ControlHandlers = {
  [M in MethodName]: (params: ParamsOf<M>, connection: ControlConnection) => ResultOf<M> | Promise<ResultOf<M>>;
};

export interface ControlServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

export class ControlSocketInUseError extends Error {
  override name = 'ControlSocketInUseError';
}

/**
 * Serves JSON-RPC 2.0 on the profile's control socket: owner-only directory and socket, refuses to
 * take over a socket a live daemon answers on, removes a stale one.
 */
export async function startControlServer(
  location: SocketLocation,
  handlers: ControlHandlers,
  log: (line: string) => void,
  options: { idleTimeoutMs?: number } = {},
): Promise<ControlServer> {
  const idleTimeoutMs = options.idleTimeoutMs ?? CONTROL_IDLE_TIMEOUT_MS;
  const socketPath = location.path;
  const socketDir = path.dirname(socketPath);
  prepareSocketDirectory(location);
  await removeStaleSocket(location);

  // Expected failures (not connected, no such file) are answers, not incidents: only unexpected
  // ones are logged, by mapErrorToJSONRPCErrorResponse below.
  const rpc = new JSONRPCServer<Connection>({ errorListener: () => undefined });
  rpc.mapErrorToJSONRPCErrorResponse = (id, error: unknown) => {
    if (error instanceof ControlError || error instanceof JSONRPCErrorException) {
      return { jsonrpc: '2.0', id, error: { code: error.code, message: error.message } };
    }
    log(`control: internal error: ${(error as Error)?.stack ?? String(error)}`);
    return { jsonrpc: '2.0', id, error: { code: ErrorCode.internal, message: `internal error: ${String((error as Error)?.message ?? error)}` } };
  };
  for (const method of Object.keys(handlers) as MethodName[]) {
    const handler = handlers[method] as (params: ParamsOf<typeof method>, connection: ControlConnection) => unknown;
    rpc.addMethod(method, (params, connection) => handler(checkParams(method, params), connection));
  }

  const ipc = new IPCModule();
  Object.assign(ipc.config, {
    id: 'chatd',
    socketRoot: socketDir + path.sep,
    silent: true,
    unlink: false,
    parser: 'guarded',
    maxMessageSize: MAX_CONTROL_MESSAGE_BYTES,
    maxPendingBytes: 2 * MAX_CONTROL_MESSAGE_BYTES,
    messageTimeout: CONTROL_MESSAGE_TIMEOUT_MS,
    // One over the limit, so the newcomer is accepted and the longest idle client makes room for it.
    maxConnections: MAX_CONTROL_CONNECTIONS + 1,
    readableAll: false,
    writableAll: false,
  });

  const connections = new Map<Socket, Connection>();
  let nextId = 1;
  const connectionOf = (socket: Socket): Connection => {
    let connection = connections.get(socket);
    if (!connection) {
      connection = new Connection(nextId++, socket, ipc, log, idleTimeoutMs);
      connections.set(socket, connection);
    }
    return connection;
  };

  await new Promise<void>((resolve, reject) => {
    ipc.serve(socketPath, () => {
      const server = ipc.server;
      server.on('connect', (socket) => {
        connectionOf(socket);
        if (connections.size > MAX_CONTROL_CONNECTIONS) makeRoom(connections, socket, log);
      });
      server.on('socket.disconnected', (socket) => {
        connections.get(socket)?.markClosed();
        connections.delete(socket);
      });
      server.on(RPC_EVENT, (payload, socket) => {
        const connection = connectionOf(socket);
        const refusal = refuseLongBatch(payload);
        connection.callStarted(!refusal && isSubscribe(payload));
        if (refusal) {
          connection.send(refusal);
          connection.callEnded();
          return;
        }
        void Promise.resolve(rpc.receive(payload as Parameters<typeof rpc.receive>[0], connection)).then(
          (response) => { if (response) connection.send(fitAnswer(response)); },
          (error: unknown) => log(`control: cannot answer: ${String(error)}`),
        ).finally(() => connection.callEnded());
      });
      resolve();
    });
    ipc.server.on('error', (error) => {
      // Before 'start' this is a failed listen; afterwards one client broke the framing.
      if (!ipc.server.server || !ipc.server.server.listening) reject(error);
      else log(`control: client dropped: ${error.message}`);
    });
    // The socket takes its mode from the umask at bind time: 0600 whatever the user's umask is.
    const previousUmask = process.umask(0o177);
    try {
      ipc.server.start();
    } finally {
      process.umask(previousUmask);
    }
  });

  return {
    socketPath,
    async close() {
      for (const connection of connections.values()) connection.markClosed();
      const netServer = ipc.server.server;
      ipc.server.stop();
      if (netServer.listening) await new Promise<void>((resolve) => netServer.close(() => resolve()));
      await unlink(socketPath).catch(() => undefined);
    },
  };
}

/** Over MAX_CONTROL_CONNECTIONS: closes the client idle the longest, or the newcomer when none is idle. */
function makeRoom(connections: Map<Socket, Connection>, newcomer: Socket, log: (line: string) => void): void {
  let oldest: Connection | undefined;
  for (const [socket, connection] of connections) {
    if (socket === newcomer || connection.idleSince === undefined) continue;
    if (!oldest || connection.idleSince < oldest.idleSince!) oldest = connection;
  }
  if (oldest) {
    log(`control: ${MAX_CONTROL_CONNECTIONS} clients connected; closed client ${oldest.id}, idle the longest`);
    oldest.drop();
  } else {
    log(`control: ${MAX_CONTROL_CONNECTIONS} clients connected, all busy or subscribed; refused a new one`);
    newcomer.destroy();
  }
}

/** A `subscribe` call (alone or in a batch) makes the connection a follower, exempt from the idle timeout. */
function isSubscribe(payload: unknown): boolean {
  const calls = Array.isArray(payload) ? payload : [payload];
  return calls.some((call) => typeof call === 'object' && call !== null && (call as { method?: unknown }).method === 'subscribe');
}

class Connection implements ControlConnection {
  readonly id: number;
  /** When it last became idle (no call in progress, not subscribed); undefined while it is not idle. */
  idleSince: number | undefined = Date.now();
  private readonly socket: Socket;
  private readonly ipc: IPCModule;
  private readonly notifier: JSONRPCClient;
  private readonly log: (line: string) => void;
  private readonly closeListeners: Array<() => void> = [];
  private isClosed = false;
  private callsInProgress = 0;
  private subscribed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly idleTimeoutMs: number;

  constructor(id: number, socket: Socket, ipc: IPCModule, log: (line: string) => void, idleTimeoutMs: number) {
    this.id = id;
    this.socket = socket;
    this.ipc = ipc;
    this.log = log;
    this.idleTimeoutMs = idleTimeoutMs;
    this.notifier = new JSONRPCClient((payload) => this.send(payload));
    this.startIdleTimer();
  }

  callStarted(subscribes: boolean): void {
    this.callsInProgress++;
    if (subscribes) this.subscribed = true;
    this.idleSince = undefined;
    clearTimeout(this.idleTimer);
  }

  callEnded(): void {
    this.callsInProgress--;
    if (this.callsInProgress === 0 && !this.subscribed && !this.isClosed) {
      this.idleSince = Date.now();
      this.startIdleTimer();
    }
  }

  /** Closes the connection from our side (idle too long, or room needed for a new client). */
  drop(): void {
    this.socket.destroy();
    this.markClosed();
  }

  private startIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.log(`control: client ${this.id} sent no request for ${this.idleTimeoutMs / 1000} s; closed`);
      this.drop();
    }, this.idleTimeoutMs);
    this.idleTimer.unref();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  send(payload: JSONRPCResponse | object): void {
    if (this.isClosed || this.socket.destroyed) return;
    try {
      this.ipc.server.emit(this.socket, RPC_EVENT, payload);
    } catch (error) {
      // node-ipc refuses a message over the size limit, or a client that stopped reading (it is
      // being disconnected). Either way the client will not get this answer: say so in the log.
      this.log(`control: could not send to client ${this.id}: ${(error as Error).message}`);
    }
  }

  notify<N extends keyof ControlNotifications>(method: N, params: ControlNotifications[N]): void {
    if (this.isClosed) return;
    // A client that does not read (a stopped `chat tail`) must not make us hold its notifications:
    // it is closed, and resumes from the history once it reads again.
    const backlog = this.socket.writableLength;
    if (backlog > MAX_NOTIFICATION_BACKLOG_BYTES) {
      this.log(`control: client ${this.id} left ${backlog} bytes unread, over the ${MAX_NOTIFICATION_BACKLOG_BYTES}-byte notification backlog; closed`);
      this.drop();
      return;
    }
    this.notifier.notify(method, params as unknown as Record<string, unknown>);
  }

  onClose(listener: () => void): void {
    if (this.isClosed) listener();
    else this.closeListeners.push(listener);
  }

  markClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.idleSince = undefined;
    clearTimeout(this.idleTimer);
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

/**
 * A socket file nobody answers on is left over from a daemon that died: remove it. One that is not
 * ours is refused without probing it: whoever serves it learns nothing from us.
 */
async function removeStaleSocket(location: SocketLocation): Promise<void> {
  if (process.platform === 'win32') return;
  const socketPath = location.path;
  if (checkSocketFile(location) === 'absent') return;
  const answered = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    probe.once('error', () => resolve(false));
  });
  if (answered) throw new ControlSocketInUseError(`another daemon is serving ${socketPath}`);
  await unlink(socketPath);
}
