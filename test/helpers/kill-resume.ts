/**
 * Transfers cut by kill -9 of the receiver's or the sender's daemon at a chosen byte, then the
 * daemon started again, or by a reset of the link (both daemons live on): one pair of real
 * daemons (alice sends to bob through a fault proxy that counts the bytes), shared by
 * test/e2e/kill-resume.test.ts and bench/kill-resume.ts.
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ChatHome, isAlive } from './chat.ts';
import { FaultProxy } from './fault-proxy.ts';
import { sha256Of } from './random-data.ts';
import { waitFor } from './wait.ts';

/** The daemon killed, or `link`: the connection is reset and alice redials. */
export type KilledSide = 'receiver' | 'sender' | 'link';

export interface KillRun {
  side: KilledSide;
  /** Bytes (alice → proxy → bob, TLS included) that had crossed when the daemon was killed. */
  killedAt: number;
  /** Bytes that crossed beyond the file's size over the whole run: what was sent twice, plus TLS and frame overhead. */
  resent: number;
  /** From the start of the transfer until bob held the verified file. */
  ms: number;
  /** From the kill (or the reset) until then: the restart, the redial, and the re-hash of what each side held. */
  resumedMs: number;
}

export class KillResumePair {
  readonly home: ChatHome;
  private readonly proxy: FaultProxy;
  private alice: { pid: number };
  private bob: { pid: number; port: number; downloads: string };

  private constructor(home: ChatHome, proxy: FaultProxy, alice: { pid: number }, bob: { pid: number; port: number; downloads: string }) {
    this.home = home;
    this.proxy = proxy;
    this.alice = alice;
    this.bob = bob;
  }

  /** alice (who redials) connected to bob (who does not, so every byte crosses the proxy). */
  static async start(home: ChatHome): Promise<KillResumePair> {
    const alice = await home.startDaemon('alice');
    const bob = await home.startDaemon('bob', ['--no-reconnect']);
    const proxy = await FaultProxy.start(bob.port);
    const connected = await home.run(['connect', '--profile', 'alice', String(proxy.port)]);
    if (connected.code !== 0) throw new Error(`connect failed: ${connected.stderr}`);
    return new KillResumePair(home, proxy, alice, bob);
  }

  /**
   * Sends `source` (its SHA-256 `sha256`, `size` bytes); once `killAt` bytes have crossed, the
   * `side` daemon is killed with -9 and started again; resolves once bob holds the file, verified,
   * and neither side has anything of it left unfinished. The file is then removed from bob's downloads.
   */
  async run(source: string, sha256: string, size: number, side: KilledSide, killAt: number, timeoutMs: number): Promise<KillRun> {
    const { home, proxy } = this;
    const upBefore = proxy.bytes.up;
    const killPoint = proxy.bytes.up + proxy.bytes.down + killAt;
    const started = performance.now();
    // Held at the kill point so that the kill lands there, not wherever a poll happens to look.
    proxy.silenceAfter(killAt);
    const queued = await home.run(['transfer', '--profile', 'alice', '--no-wait', source]);
    if (queued.code !== 4) throw new Error(`transfer --no-wait: exit ${queued.code}: ${queued.stderr}`);
    await waitFor(() => proxy.bytes.up + proxy.bytes.down >= killPoint || existsSync(path.join(this.bob.downloads, path.basename(source))), 'the kill point', timeoutMs);
    const killedAt = proxy.bytes.up - upBefore;
    const cut = performance.now();
    if (side === 'link') {
      // Both live on: alice redials through the proxy by itself and offers the transfer again.
      proxy.cut('reset');
      proxy.heal();
    } else {
      const victim = side === 'receiver' ? this.bob : this.alice;
      process.kill(victim.pid, 'SIGKILL');
      await waitFor(() => !isAlive(victim.pid), 'the killed daemon to be gone', timeoutMs);
      proxy.heal();
      if (side === 'receiver') {
        // On the same port, so alice's redials through the proxy reach it.
        this.bob = await home.startDaemon('bob', ['--port', String(this.bob.port), '--no-reconnect']);
      } else {
        // It redials its last peer (the proxy) and offers the transfer again from transfers.json.
        this.alice = await home.startDaemon('alice');
      }
    }
    const stored = path.join(this.bob.downloads, path.basename(source));
    await waitFor(() => existsSync(stored), 'bob to hold the file', timeoutMs);
    const ms = performance.now() - started;
    const resumedMs = performance.now() - cut;
    const got = await sha256Of(stored);
    if (got !== sha256) throw new Error(`bob's file has SHA-256 ${got}, not ${sha256}`);
    await waitFor(async () => (await readdir(this.bob.downloads)).every((name) => !name.startsWith('.chat-')), "bob's partial file to go", timeoutMs);
    await waitFor(async () => JSON.parse((await home.run(['transfers', '--profile', 'alice', '--json'])).stdout).transfers.length === 0, 'alice to finish it', timeoutMs);
    // Stored once: a sender that missed the result and offers it again is answered, not sent it all again.
    const visible = (await readdir(this.bob.downloads)).filter((name) => !name.startsWith('.'));
    if (visible.length !== 1) throw new Error(`bob's downloads hold ${visible.join(', ')}: stored more than once`);
    await rm(stored);
    return { side, killedAt, resent: proxy.bytes.up - upBefore - size, ms, resumedMs };
  }

  async close(): Promise<void> {
    await this.proxy.close();
  }
}
