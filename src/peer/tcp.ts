/**
 * Plain TCP under the peer link: the listening port and the outgoing dial, each failing with one
 * line that says what to do.
 */
import net, { type Server, type Socket } from 'node:net';
import { formatAddress } from './address.ts';

/** Why a dial failed (refused, unreachable, timed out): the message is the one line the user sees. */
export class DialError extends Error {
  override name = 'DialError';
}

/** Binds `server` to host:port; resolves with the port bound (for port 0, the one the system chose). */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new Error(`port ${port} on ${host} is already in use; choose another with --port, or --port 0 for any free port`));
      } else if (error.code === 'EACCES') {
        reject(new Error(`no permission to listen on ${formatAddress(host, port)}; ports below 1024 need privileges, use a higher --port`));
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
        reject(new Error(`cannot listen on ${host}: no such local address (--host)`));
      } else {
        reject(new Error(`cannot listen on ${formatAddress(host, port)}: ${error.message}`));
      }
    };
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** Opens a TCP connection to host:port within `timeoutMs`, or rejects with a DialError. */
export function dial(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new DialError(`connecting to ${formatAddress(host, port)} timed out after ${timeoutMs / 1000} s`));
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
      reject(new DialError(`cannot connect to ${formatAddress(host, port)}: ${why[error.code ?? ''] ?? error.message}`));
    });
  });
}
