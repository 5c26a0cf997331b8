/**
 * A real ChatDaemon in the test's own process, assembled as src/daemon/main.ts assembles chatd (a
 * temporary CHAT_HOME, its identity, pins, history and downloads), with a log and a history that a
 * test can wait on; `cleanup()` stops it and removes everything it made.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveProfilePaths, type ProfilePaths } from '../../src/control/paths.ts';
import { ControlClient } from '../../src/control/client.ts';
import { prepareSocketDirectory } from '../../src/control/socket-trust.ts';
import { ChatDaemon, type DaemonConfig } from '../../src/daemon/daemon.ts';
import type { Logger } from '../../src/daemon/logger.ts';
import { prepareOwnedDirectory } from '../../src/files/owner-only.ts';
import { PinnedDirectory } from '../../src/files/pinned-directory.ts';
import type { ChatEvent, NewEvent } from '../../src/history/events.ts';
import { openHistory, type HistoryStore } from '../../src/history/store.ts';
import { loadOrCreateIdentity, type Identity } from '../../src/identity/identity.ts';
import { KnownPeers } from '../../src/identity/known-peers.ts';

/** Generous bound for anything a test waits on here: catches hangs, not slowness. */
export const WAIT_MS = 15_000;
/** A bound for stop(): a daemon that does not stop fails the test instead of hanging it. */
const STOP_MS = 10_000;
/** chatd's default --max-file-size is far larger; the tests here send no files. */
const DEFAULT_MAX_FILE_SIZE = 1024 * 1024;

/** Calls waiters back whenever something was added, so that a test waits on the event, not a sleep. */
class Changes {
  private readonly waiters = new Set<() => void>();

  notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves with `probe()`'s first defined value, checked now and after each change; rejects after `ms`. */
  until<T>(probe: () => T | undefined, what: () => string, ms = WAIT_MS): Promise<T> {
    const now = probe();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${ms} ms waiting for ${what()}`));
      }, ms);
      this.waiters.add(check);
    });
  }
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  line: string;
}

/** The daemon's Logger, in memory: every line kept (no rate limit, no file), and waitable. */
export class MemoryLogger implements Logger {
  readonly lines: LogLine[] = [];
  private readonly changes = new Changes();

  info(line: string): void {
    this.add('info', line);
  }

  warn(line: string): void {
    this.add('warn', line);
  }

  error(line: string): void {
    this.add('error', line);
  }

  flush(): void {}

  /** The lines that match `pattern`, in order. */
  matching(pattern: RegExp): string[] {
    return this.lines.filter(({ line }) => pattern.test(line)).map(({ line }) => line);
  }

  /** Waits (bounded) until at least `count` lines match `pattern`; resolves with all that do. */
  waitFor(pattern: RegExp, count = 1, ms = WAIT_MS): Promise<string[]> {
    return this.changes.until(
      () => {
        const found = this.matching(pattern);
        return found.length >= count ? found : undefined;
      },
      () => `${count} log line(s) matching ${pattern} (${this.matching(pattern).length} so far); last lines:\n${this.tail()}`,
      ms,
    );
  }

  /** The last lines, for failure messages. */
  tail(n = 15): string {
    return this.lines.slice(-n).map(({ level, line }) => `  ${level} ${line}`).join('\n');
  }

  private add(level: LogLine['level'], line: string): void {
    this.lines.push({ level, line });
    this.changes.notify();
  }
}

/** The daemon's real HistoryStore, with every appended event also kept here and waitable. */
export class WatchedHistory implements HistoryStore {
  readonly events: ChatEvent[] = [];
  private readonly store: HistoryStore;
  private readonly changes = new Changes();

  constructor(store: HistoryStore) {
    this.store = store;
  }

  append(event: NewEvent): ChatEvent {
    const stored = this.store.append(event);
    this.events.push(stored);
    this.changes.notify();
    return stored;
  }

  latest(limit: number): ChatEvent[] {
    return this.store.latest(limit);
  }

  before(seq: number, limit: number): ChatEvent[] {
    return this.store.before(seq, limit);
  }

  after(seq: number, limit: number): ChatEvent[] {
    return this.store.after(seq, limit);
  }

  get messages(): HistoryStore['messages'] {
    return this.store.messages;
  }

  /** The messages table appends through the store itself: what a batch stored is read back. */
  batch(works: ReadonlyArray<() => unknown>): ReturnType<HistoryStore['batch']> {
    const from = this.events.at(-1)?.seq ?? this.store.latest(1)[0]?.seq ?? 0;
    const outcomes = this.store.batch(works);
    for (const event of this.store.after(from, Number.MAX_SAFE_INTEGER)) {
      if (event.seq > (this.events.at(-1)?.seq ?? 0)) this.events.push(event);
    }
    this.changes.notify();
    return outcomes;
  }

  close(): void {
    this.store.close();
  }

  /** Waits (bounded) for an appended event that `match` accepts, counting only those after `since` events. */
  waitFor(match: (event: ChatEvent) => boolean, what: string, options: { since?: number; ms?: number } = {}): Promise<ChatEvent> {
    const since = options.since ?? 0;
    return this.changes.until(
      () => this.events.slice(since).find(match),
      () => `a history event: ${what}; recorded: ${JSON.stringify(this.events.slice(since))}`,
      options.ms,
    );
  }
}

export interface InProcessDaemonOptions {
  /** The display name; default "daemon". Also the profile. */
  name?: string;
  /** Default: a new identity in the profile, as chatd makes on first start. */
  identity?: Identity;
  handshakeTimeoutMs?: number;
  keepalive?: DaemonConfig['keepalive'];
  maxFileSize?: number;
  /** --accept; default the daemon's (invited). */
  accept?: DaemonConfig['accept'];
}

export interface InProcessDaemon {
  readonly daemon: ChatDaemon;
  /** The peer port it listens on (127.0.0.1). */
  readonly port: number;
  readonly paths: ProfilePaths;
  readonly identity: Identity;
  readonly knownPeers: KnownPeers;
  readonly log: MemoryLogger;
  readonly history: WatchedHistory;
  /** A control client on its socket, as a `chat` command would open; closed at cleanup. */
  control(): Promise<ControlClient>;
  /** Stops the daemon (bounded), then removes its CHAT_HOME. Safe to call more than once. */
  cleanup(): Promise<void>;
}

/** Starts a ChatDaemon on 127.0.0.1, port 0, in a fresh temporary CHAT_HOME. */
export async function startInProcessDaemon(options: InProcessDaemonOptions = {}): Promise<InProcessDaemon> {
  const name = options.name ?? 'daemon';
  const home = await mkdtemp(path.join(os.tmpdir(), 'chat-inproc-'));
  const removeHome = () => rm(home, { recursive: true, force: true, maxRetries: 5 });
  let downloads: PinnedDirectory | undefined;
  let history: WatchedHistory | undefined;
  try {
    const paths = resolveProfilePaths({ home, profile: name });
    // The same directory checks as chatd, in the same order (see runDaemon).
    prepareOwnedDirectory(paths.home, 'CHAT_HOME', { ownerOnly: false });
    prepareOwnedDirectory(path.dirname(paths.dir), 'the profiles directory', { ownerOnly: false });
    prepareOwnedDirectory(paths.dir, 'the profile directory', { ownerOnly: true });
    prepareSocketDirectory({ path: paths.socket, place: paths.socketPlace });
    prepareOwnedDirectory(paths.defaultDownloads, 'the downloads directory', { ownerOnly: false });
    downloads = PinnedDirectory.open(paths.defaultDownloads, 'the downloads directory');
    const identity = options.identity ?? (await loadOrCreateIdentity(paths.identityDir));
    const knownPeers = KnownPeers.open(paths.knownPeersFile);
    history = new WatchedHistory(openHistory(paths.historyFile));
    const log = new MemoryLogger();
    const daemon = new ChatDaemon(
      {
        paths, name, host: '127.0.0.1', port: 0, downloads, version: '0.0.0-test', identity, knownPeers,
        maxFileSize: options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE,
        ...(options.keepalive ? { keepalive: options.keepalive } : {}),
        ...(options.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
        ...(options.accept ? { accept: options.accept } : {}),
      },
      history,
      log,
    );
    await daemon.start();
    const clients = new Set<ControlClient>();
    const pinned = downloads;
    let cleaned: Promise<void> | undefined;
    return {
      daemon, port: daemon.port, paths, identity, knownPeers, log, history,
      async control() {
        const client = await ControlClient.connect(paths);
        clients.add(client);
        return client;
      },
      cleanup() {
        cleaned ??= (async () => {
          for (const client of clients) client.close();
          let timer: NodeJS.Timeout | undefined;
          try {
            await Promise.race([
              daemon.stop('test over'),
              new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`the daemon did not stop within ${STOP_MS} ms`)), STOP_MS); }),
            ]);
          } finally {
            clearTimeout(timer);
            pinned.close();
            await removeHome();
          }
        })();
        return cleaned;
      },
    };
  } catch (error) {
    history?.close();
    downloads?.close();
    await removeHome();
    throw error;
  }
}
