// node-ipc 14 ships no types (@types/node-ipc describes v9): the small surface chat uses.
declare module 'node-ipc' {
  import type { Server as NetServer, Socket } from 'node:net';

  export interface IpcConfig {
    id: string;
    socketRoot: string;
    appspace: string;
    silent: boolean;
    unlink: boolean;
    parser: 'fast' | 'guarded' | 'raw' | 'assured';
    maxMessageSize: number;
    maxPendingBytes: number;
    messageTimeout: number;
    maxConnections: number;
    maxRetries: number;
    stopRetrying: boolean;
    retry: number;
    secureSocketRoot: boolean;
    readableAll: boolean;
    writableAll: boolean;
  }

  export interface IpcServer {
    server: NetServer;
    sockets: Socket[];
    on(event: 'start', listener: (server: NetServer) => void): void;
    on(event: 'connect', listener: (socket: Socket) => void): void;
    on(event: 'socket.disconnected', listener: (socket: Socket, id: string | false) => void): void;
    on(event: 'error', listener: (error: Error & { code?: string }) => void): void;
    on(event: string, listener: (data: unknown, socket: Socket) => void): void;
    emit(socket: Socket, type: string, data: unknown): boolean;
    start(): void;
    stop(): void;
  }

  export interface IpcClient {
    socket: Socket | false;
    on(event: 'connect' | 'disconnect' | 'destroy', listener: () => void): void;
    on(event: 'error', listener: (error: Error & { code?: string }) => void): void;
    on(event: string, listener: (data: unknown) => void): void;
    emit(type: string, data: unknown): boolean;
  }

  export class IPCModule {
    config: IpcConfig;
    server: IpcServer;
    of: Record<string, IpcClient>;
    serve(path: string, callback?: () => void): void;
    connectTo(id: string, path: string, callback?: () => void): void;
    disconnect(id: string): void;
  }

  export class IPCProtocolError extends Error {
    code: string;
  }

  const singleton: IPCModule;
  export default singleton;
}
