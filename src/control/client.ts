/**
 * The CLI's end of the control socket: typed requests and notifications to this profile's daemon,
 * in the documented framing (docs/control-protocol.md) over a plain `node:net` socket.
 *
 * Why not node-ipc and json-rpc-2.0 here, as in the daemon: the client is what every `chat` command
 * starts with, and those two cost more to load than the rest of `chat send` (node-ipc loads
 * `node:tls`, `node:dgram` and `node:crypto`); the client needs only a small part of them.
 */
import type { Socket } from 'node:net';
import { ControlError } from './control-error.ts';
import { MAX_CONTROL_MESSAGE_BYTES } from './limits.ts';
import { ControlMessageSplitter } from './message-splitter.ts';
import { checkControlSocket } from './socket-trust.ts';
import type { SocketPlace } from './paths.ts';
import { ErrorCode, RPC_EVENT, type ControlNotifications, type MethodName, type ParamsOf, type ResultOf } from './protocol.ts';

// getBuiltinModule, not an import: an ESM import of a built-in evaluates all its exports (docs/benchmarks.md, row 5).
const net = process.getBuiltinModule('node:net');

/** The daemon of this profile is not running (no socket, or nobody answers on it). */
export class DaemonNotRunningError extends Error {
  override name = 'DaemonNotRunningError';
  readonly socketPath: string;

  constructor(socketPath: string) {
    super(`the chat daemon is not running (no answer on ${socketPath})`);
    this.socketPath = socketPath;
  }
}

/** The daemon answered a request with a JSON-RPC error. */
export { ControlError };

/** The connection to the daemon ended while a request was waiting (the daemon stopped). */
export class DaemonGoneError extends Error {
  override name = 'DaemonGoneError';
}

/** Default wait for an answer; long operations pass their own. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** `connect`: the daemon's own dial gives up after HANDSHAKE_TIMEOUT_MS; this leaves room for its answer. */
export const CONNECT_TIMEOUT_MS = 25_000;
/**
 * `send`: the daemon answers within the `waitMs` it was given, counted from the moment the message
 * is on its disk; this is the margin for that commit and the answer.
 */
export const SEND_ANSWER_MARGIN_MS = 30_000;

/** Errors of connect(2) that mean nobody serves the socket: a daemon that is not running. */
const NOT_SERVED = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK']);

interface Pending {
  method: string;
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/** A connection to this profile's daemon: typed requests, notifications, and its end. */
export class ControlClient {
  private readonly socket: Socket;
  private readonly splitter = new ControlMessageSplitter(MAX_CONTROL_MESSAGE_BYTES);
  private readonly pending = new Map<number, Pending>();
  private readonly notificationHandlers = new Map<string, (params: never) => void>();
  private readonly closeListeners: Array<() => void> = [];
  private nextId = 1;
  private closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    // After the connect, any error (ECONNRESET, EPIPE) is the end of the connection; 'close' follows.
    socket.on('error', () => undefined);
    socket.on('close', () => this.end((method) => `the daemon closed the connection during "${method}"`));
  }

  /**
   * Connects once; rejects with DaemonNotRunningError at once when nobody serves the socket, and
   * with UntrustedSocketError, before connecting, when the socket or its folder is not ours alone.
   */
  static async connect(paths: { socket: string; socketPlace: SocketPlace }): Promise<ControlClient> {
    const socketPath = paths.socket;
    // Nothing there: do not connect at all, or someone could create it between the check and the connect.
    if (checkControlSocket({ path: socketPath, place: paths.socketPlace }) === 'absent') throw new DaemonNotRunningError(socketPath);
    const socket = net.connect(connectPath(socketPath, paths.socketPlace));
    return new Promise<ControlClient>((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException) => {
        socket.destroy();
        reject(error.code && NOT_SERVED.has(error.code) ? new DaemonNotRunningError(socketPath) : error);
      };
      socket.once('error', failed);
      socket.once('connect', () => {
        socket.off('error', failed);
        resolve(new ControlClient(socket));
      });
    });
  }

  /** One call; `timeoutMs` 0 waits as long as the connection lasts. */
  request<M extends MethodName>(
    method: M,
    params: ParamsOf<M>,
    timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ): Promise<ResultOf<M>> {
    if (this.closed) return Promise.reject(new DaemonGoneError('the connection to the daemon is closed'));
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const timer = timeoutMs > 0
        ? setTimeout(() => {
            // A late answer finds nobody waiting and is dropped.
            this.pending.delete(id);
            reject(new ControlError(ErrorCode.timeout, `the daemon did not answer "${method}" within ${timeoutMs / 1000} s`));
          }, timeoutMs)
        : undefined;
      this.pending.set(id, { method, resolve: resolve as (result: unknown) => void, reject, timer });
      this.socket.write(`${JSON.stringify({ type: RPC_EVENT, data: { jsonrpc: '2.0', id, method, params } })}\f`);
    });
  }

  /** The handler for one notification method; a second call replaces the first. */
  onNotification<N extends keyof ControlNotifications>(method: N, handler: (params: ControlNotifications[N]) => void): void {
    this.notificationHandlers.set(method, handler as (params: never) => void);
  }

  /** Called once when the daemon closes the connection (it stopped or dropped us). */
  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Ends the connection; requests still waiting reject at once (DaemonGoneError) instead of at their timeout. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.rejectPending((method) => `the control connection was closed before the daemon answered "${method}"`);
  }

  private receive(chunk: Buffer): void {
    let messages: string[];
    try {
      messages = this.splitter.push(chunk);
    } catch (error) {
      this.breakOff(`the daemon sent ${(error as Error).message}`);
      return;
    }
    for (const text of messages) {
      if (this.closed) return;
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        this.breakOff('the daemon sent a control message that is not JSON');
        return;
      }
      if (!isObject(message)) {
        this.breakOff('the daemon sent a control message that is not a JSON object');
        return;
      }
      // Other types are ignored, as the daemon ignores them (docs/control-protocol.md, *Framing*).
      if (message.type === RPC_EVENT && isObject(message.data)) this.dispatch(message.data);
    }
  }

  /** A response settles its request; a notification goes to its handler; anything else is ignored (the daemon sends nothing else). */
  private dispatch(payload: Record<string, unknown>): void {
    if (typeof payload.method === 'string') {
      if (payload.id !== undefined && payload.id !== null) return;
      this.notificationHandlers.get(payload.method)?.(payload.params as never);
      return;
    }
    if (typeof payload.id !== 'number') return;
    const waiting = this.pending.get(payload.id);
    if (!waiting) return;
    this.pending.delete(payload.id);
    clearTimeout(waiting.timer);
    if (isObject(payload.error)) {
      const { code, message } = payload.error;
      waiting.reject(new ControlError(typeof code === 'number' ? code : ErrorCode.internal, typeof message === 'string' ? message : `the daemon failed "${waiting.method}"`));
    } else {
      waiting.resolve(payload.result);
    }
  }

  /** The daemon broke the framing: nothing it sends on this connection can be read any more. */
  private breakOff(problem: string): void {
    this.socket.destroy();
    this.end((method) => `${problem} during "${method}"; the connection is closed`);
  }

  private end(during: (method: string) => string): void {
    if (this.closed) return;
    this.closed = true;
    this.rejectPending(during);
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  private rejectPending(message: (method: string) => string): void {
    for (const waiting of this.pending.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(new DaemonGoneError(message(waiting.method)));
    }
    this.pending.clear();
  }
}

/** node-ipc (the daemon) serves the name "/chat-<h>" on Windows as the pipe \\.\pipe\chat-<h>. */
function connectPath(socketPath: string, place: SocketPlace): string {
  return place === 'pipe' ? `\\\\.\\pipe\\${socketPath.replace(/^\//, '').replace(/\//g, '-')}` : socketPath;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
