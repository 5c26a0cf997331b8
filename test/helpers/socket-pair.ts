/**
 * Two ends of one real loopback TCP connection, for wiring peer endpoints together in one process.
 */
import { once } from 'node:events';
import net, { type Server, type Socket } from 'node:net';

export interface SocketPair {
  /** The end that dialled (net.connect): a session on it has direction `out`. */
  client: Socket;
  /** The end the listener accepted: a session on it has direction `in`. */
  server: Socket;
  /** Destroys both sockets and waits until the listener is gone. Safe to call more than once. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (port 0), dials it once and returns both connected sockets. */
export async function createSocketPair(): Promise<SocketPair> {
  const listener: Server = net.createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const address = listener.address();
  if (address === null || typeof address === 'string') throw new Error('listener has no TCP address');

  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = net.connect(address.port, '127.0.0.1');
  const [[server]] = await Promise.all([accepted, once(client, 'connect')]);
  // One connection is all a pair needs; stop accepting more (the listener closes once both ends are gone).
  const listenerClosed = once(listener, 'close').then(() => undefined);
  listener.close();

  return {
    client,
    server,
    async close() {
      client.destroy();
      server.destroy();
      await listenerClosed;
    },
  };
}
