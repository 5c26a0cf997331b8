/** The CLI's end of the control socket: typed requests and notifications to this profile's daemon. */
import {
  createJSONRPCErrorResponse,
  JSONRPCClient,
  JSONRPCErrorException,
  JSONRPCServer,
  JSONRPCServerAndClient,
} from 'json-rpc-2.0';
import { IPCModule } from 'node-ipc';
import { ControlError } from './control-error.ts';
import { checkControlSocket } from './socket-trust.ts';
import type { SocketPlace } from './paths.ts';
import { ErrorCode, RPC_EVENT, type ControlNotifications, type MethodName, type ParamsOf, type ResultOf } from './protocol.ts';

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

const CLIENT_ID = 'chatd';
/** Default wait for an answer; long operations pass their own. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** `connect`: the daemon's own dial gives up after HANDSHAKE_TIMEOUT_MS; this leaves room for its answer. */
export const CONNECT_TIMEOUT_MS = 25_000;
/**
 * `send`: the daemon answers within the `waitMs` it was given, counted from the moment the message
 * is on its disk; this is the margin for that commit and the answer.
 */
export const SEND_ANSWER_MARGIN_MS = 30_000;

/** A connection to this profile's daemon: typed requests, notifications, and its end. */
export class ControlClient {
  private readonly ipc: IPCModule;
  private readonly rpc: JSONRPCServerAndClient;
  private readonly closeListeners: Array<() => void> = [];
  private closed = false;
  /** close() was called: requests still waiting end at once, and say so. */
  private closedHere = false;

  private constructor(ipc: IPCModule) {
    this.ipc = ipc;
    this.rpc = new JSONRPCServerAndClient(
      new JSONRPCServer(),
      new JSONRPCClient((payload) => {
        if (this.closed) throw new DaemonGoneError('the connection to the daemon is closed');
        this.ipc.of[CLIENT_ID]!.emit(RPC_EVENT, payload);
      }),
    );
  }

  /**
   * Connects once; rejects with DaemonNotRunningError at once when nobody serves the socket, and
   * with UntrustedSocketError, before connecting, when the socket or its folder is not ours alone.
   */
  static async connect(paths: { socket: string; socketPlace: SocketPlace }): Promise<ControlClient> {
    const socketPath = paths.socket;
    // Nothing there: do not connect at all, or someone could create it between the check and the connect.
    if (checkControlSocket({ path: socketPath, place: paths.socketPlace }) === 'absent') throw new DaemonNotRunningError(socketPath);
    const ipc = new IPCModule();
    Object.assign(ipc.config, { silent: true, maxRetries: 0, stopRetrying: true, parser: 'fast' });
    const client = new ControlClient(ipc);
    return new Promise<ControlClient>((resolve, reject) => {
      let settled = false;
      ipc.connectTo(CLIENT_ID, socketPath, () => {
        const connection = ipc.of[CLIENT_ID]!;
        connection.on('connect', () => {
          settled = true;
          resolve(client);
        });
        connection.on('error', (error) => {
          if (!settled) {
            settled = true;
            client.dispose();
            reject(error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'ENOTSOCK'
              ? new DaemonNotRunningError(socketPath)
              : error);
          }
        });
        connection.on('disconnect', () => client.handleDisconnect());
        connection.on(RPC_EVENT, (payload) => {
          void client.rpc.receiveAndSend(payload, undefined, undefined);
        });
      });
    });
  }

  async request<M extends MethodName>(
    method: M,
    params: ParamsOf<M>,
    timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ): Promise<ResultOf<M>> {
    try {
      const requester = timeoutMs > 0
        ? this.rpc.client.timeout(timeoutMs, (id) =>
            createJSONRPCErrorResponse(id, ErrorCode.timeout, `the daemon did not answer "${method}" within ${timeoutMs / 1000} s`))
        : this.rpc.client;
      return (await requester.request(method, params as Record<string, unknown>)) as ResultOf<M>;
    } catch (error) {
      if (!(error instanceof JSONRPCErrorException)) throw error;
      // json-rpc-2.0 reports a dropped connection as code 0.
      if (error.code === 0) {
        throw new DaemonGoneError(this.closedHere
          ? `the control connection was closed before the daemon answered "${method}"`
          : `the daemon closed the connection during "${method}"`);
      }
      throw new ControlError(error.code, error.message);
    }
  }

  onNotification<N extends keyof ControlNotifications>(method: N, handler: (params: ControlNotifications[N]) => void): void {
    this.rpc.addMethod(method, (params) => {
      handler(params as unknown as ControlNotifications[N]);
    });
  }

  /** Called once when the daemon closes the connection (it stopped or dropped us). */
  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Ends the connection; requests still waiting reject at once (DaemonGoneError) instead of at their timeout. */
  close(): void {
    if (this.closed) return;
    this.closedHere = true;
    this.dispose();
    this.rpc.rejectAllPendingRequests('closed');
  }

  private handleDisconnect(): void {
    if (this.closed) return;
    this.dispose();
    this.rpc.rejectAllPendingRequests('the daemon closed the control connection');
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  private dispose(): void {
    this.closed = true;
    this.ipc.disconnect(CLIENT_ID);
  }
}
