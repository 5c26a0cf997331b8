/**
 * A TCP proxy between two daemons that injects real network faults on demand: cut the link (both
 * sides closed, or reset), cut it after a number of bytes, stop forwarding without closing anything
 * (a silent partition), and count the bytes that crossed in each direction.
 */
import net, { type Socket } from 'node:net';

export type Direction = 'up' | 'down';

interface Link {
  client: Socket;
  server: Socket;
}

export class FaultProxy {
  /** The port to dial instead of the target's. */
  readonly port: number;
  /** Bytes forwarded: `up` from the dialler to the target, `down` back. */
  readonly bytes: Record<Direction, number> = { up: 0, down: 0 };
  /** Connections accepted so far (each reconnection adds one). */
  connections = 0;
  private readonly server: net.Server;
  private readonly links = new Set<Link>();
  private silent = false;
  private refusing = false;
  private cutAt: number | undefined;
  private cutHow: 'fin' | 'reset' = 'fin';
  private silenceAt: number | undefined;
  private readonly connectionListeners: Array<() => void> = [];

  private constructor(server: net.Server, port: number) {
    this.server = server;
    this.port = port;
  }

  /** Listens on a free loopback port and forwards every connection to `targetPort`. */
  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = net.createServer((client) => proxy!.accept(client, targetHost, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy = new FaultProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  /** Live links through the proxy. */
  get open(): number {
    return this.links.size;
  }

  /** Resolves at the next accepted connection (bounded by `timeoutMs`). */
  nextConnection(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no connection through the proxy within ${timeoutMs} ms`)), timeoutMs);
      this.connectionListeners.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Closes every link now: `reset` sends RST to both ends, otherwise FIN. */
  cut(how: 'fin' | 'reset' = 'fin'): void {
    for (const link of this.links) {
      for (const socket of [link.client, link.server]) {
        if (how === 'reset') socket.resetAndDestroy();
        else socket.destroySoon();
      }
    }
    this.links.clear();
  }

  /** Cuts every link once `bytes` more have crossed (both directions counted), as cut(`how`) does. */
  cutAfter(bytes: number, how: 'fin' | 'reset' = 'fin'): void {
    this.cutAt = this.bytes.up + this.bytes.down + bytes;
    this.cutHow = how;
  }

  /**
   * A silent partition once `bytes` more have crossed (both directions counted): what is past them
   * is held back until heal(), as by silence().
   */
  silenceAfter(bytes: number): void {
    this.silenceAt = this.bytes.up + this.bytes.down + bytes;
  }

  /**
   * A silent partition: nothing is forwarded and nothing is closed, as when a cable is pulled or a
   * firewall drops packets. New connections are accepted and then hang too.
   */
  silence(): void {
    this.silent = true;
    for (const link of this.links) {
      link.client.pause();
      link.server.pause();
    }
  }

  /** Ends a silent partition: what was held back is forwarded. */
  heal(): void {
    this.silent = false;
    for (const link of this.links) {
      link.client.resume();
      link.server.resume();
    }
  }

  /** While refusing, new connections are closed at once (the peer's host is down). */
  refuse(refusing = true): void {
    this.refusing = refusing;
  }

  async close(): Promise<void> {
    this.cut('reset');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    this.connections++;
    const server = net.connect({ host, port });
    const link: Link = { client, server };
    this.links.add(link);
    const end = () => {
      if (!this.links.delete(link)) return;
      client.destroy();
      server.destroy();
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
    this.forward(client, server, 'up');
    this.forward(server, client, 'down');
    if (this.silent) {
      client.pause();
      server.pause();
    }
    for (const listener of this.connectionListeners.splice(0)) listener();
  }

  private forward(from: Socket, to: Socket, direction: Direction): void {
    from.on('data', (chunk: Buffer) => {
      if (this.cutAt !== undefined) {
        const room = this.cutAt - this.bytes.up - this.bytes.down;
        if (chunk.length >= room) {
          if (room > 0) to.write(chunk.subarray(0, room));
          this.bytes[direction] += Math.max(0, room);
          this.cutAt = undefined;
          this.cut(this.cutHow);
          return;
        }
      }
      if (this.silenceAt !== undefined) {
        const room = this.silenceAt - this.bytes.up - this.bytes.down;
        if (chunk.length >= room) {
          const passed = Math.max(0, room);
          if (passed > 0) to.write(chunk.subarray(0, passed));
          this.bytes[direction] += passed;
          this.silenceAt = undefined;
          this.silence();
          // The rest is read again, and forwarded, once the partition heals.
          from.unshift(chunk.subarray(passed));
          return;
        }
      }
      this.bytes[direction] += chunk.length;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!this.silent) from.resume();
        });
      }
    });
    from.on('end', () => to.end());
  }
}
