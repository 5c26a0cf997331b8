/**
 * Bench row 7, history that scales: a profile's history filled with N events straight through the
 * store (src/history), then `chat daemon start`, `chat tail -n 10 --no-follow`, `tail --since`
 * pages and the database's size, each against the same with a small history, in one run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ControlClient } from '../src/control/client.ts';
import { resolveProfilePaths } from '../src/control/paths.ts';
import { MAX_HISTORY_PAGE } from '../src/control/protocol.ts';
import type { NewEvent } from '../src/history/events.ts';
import { openHistory } from '../src/history/store.ts';
import { ChatHome, CLI } from '../test/helpers/chat.ts';
import { seededRandom } from '../test/helpers/random-data.ts';

/** Events written per transaction while the history is built: one fsync per this many. */
const BUILD_BATCH = 10_000;
/** Wall-time bound of one CLI process here: catches a hang, not slowness. */
const PROCESS_TIMEOUT_MS = 60_000;
const BUILD_SEED = 7;
/** The two keys the history's messages are exchanged with (any 64 hex digits). */
const PEER_FINGERPRINT = 'a'.repeat(64);
const OWN_FINGERPRINT = 'b'.repeat(64);

/** A median over runs, with min, max and every run in the order measured (as bench/run.ts's Stat). */
export interface Stat { median: number; min: number; max: number; n: number; runs: number[] }

export interface HistorySizeResult {
  events: number;
  /** Seconds to write the history through the store (not part of any ratio). */
  buildSeconds: number;
  /** history.db (with its -wal, if any, after the daemon stopped) against the events as `chat tail --json` prints them, one line each. */
  databaseBytes: number; jsonBytes: number; databaseVsJson: number;
  /** Wall time of the whole `chat daemon start` process, until it printed the ready daemon's status. */
  daemonStartMs: Stat;
  /** Wall time of the whole `chat tail -n 10 --no-follow` process. */
  tailMs: Stat;
  /** The `history` request behind it (latest 10), one round trip on an open control connection: the query without the CLI's start-up. */
  latestRpcMs: Stat;
  /** `chat --version`, run in turn with each tail: what starting the oclif CLI costs before any command runs (tail is not on the fast path). */
  cliStartMs: Stat;
  /** One `tail --since` page (`history` after a seq, MAX_HISTORY_PAGE events, on an open connection): at the start, middle and end of the history. */
  sincePageMs: { first: Stat; middle: Stat; last: Stat };
}

export interface HistoryScaleResult {
  small: HistorySizeResult;
  large: HistorySizeResult;
  /** large against small, by medians: 1 is constant time (or size per event). */
  ratios: { daemonStart: number; tail: number; latestRpc: number; sincePageMiddle: number; sincePageLast: number; databasePerEvent: number };
}

export interface HistoryScaleOptions {
  smallEvents: number;
  largeEvents: number;
  runs: number;
  log(line: string): void;
  /** The caller's list of homes: cleaned up by it, also when this throws halfway. */
  homes: ChatHome[];
  stat(values: number[]): Stat;
}

export async function measureHistoryScale(options: HistoryScaleOptions): Promise<HistoryScaleResult> {
  const small = await measureOne(options.smallEvents, options);
  const large = await measureOne(options.largeEvents, options);
  const ratio = (a: Stat, b: Stat) => a.median / b.median;
  return {
    small,
    large,
    ratios: {
      daemonStart: ratio(large.daemonStartMs, small.daemonStartMs),
      tail: ratio(large.tailMs, small.tailMs),
      latestRpc: ratio(large.latestRpcMs, small.latestRpcMs),
      sincePageMiddle: ratio(large.sincePageMs.middle, small.sincePageMs.middle),
      sincePageLast: ratio(large.sincePageMs.last, small.sincePageMs.last),
      databasePerEvent: large.databaseBytes / large.events / (small.databaseBytes / small.events),
    },
  };
}

async function measureOne(events: number, options: HistoryScaleOptions): Promise<HistorySizeResult> {
  const { runs, log, stat } = options;
  const home = await ChatHome.create();
  options.homes.push(home);
  const profile = 'history';
  const paths = resolveProfilePaths({ home: home.home, profile });
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  log(`row 7: writing ${events.toLocaleString('en')} events into a history ...`);
  const built = buildHistory(paths.historyFile, events);
  const env = home.env();
  const chat = (args: string[]) => timedProcess([process.execPath, CLI, ...args, '--profile', profile], env);

  const lastFullPage = Math.max(0, events - MAX_HISTORY_PAGE);
  const daemonStartMs: number[] = [];
  const tailMs: number[] = [];
  const latestRpcMs: number[] = [];
  const cliStartMs: number[] = [];
  const first: number[] = [];
  const middle: number[] = [];
  const last: number[] = [];
  // One start, unmeasured: a profile's first start makes its identity (not what this row measures).
  chat(['daemon', 'start', '--json']);
  chat(['daemon', 'stop']);
  for (let run = 0; run < runs; run++) {
    daemonStartMs.push(chat(['daemon', 'start', '--json']));
    for (let i = 0; i < 3; i++) {
      tailMs.push(chat(['tail', '-n', '10', '--no-follow']));
      cliStartMs.push(timedProcess([process.execPath, CLI, '--version'], env));
    }
    const client = await ControlClient.connect(paths);
    try {
      const timed = async (params: { limit: number; after?: number }) => {
        const started = performance.now();
        const page = await client.request('history', params);
        const ms = performance.now() - started;
        if (page.events.length === 0) throw new Error(`history ${JSON.stringify(params)} came back empty (${events} events)`);
        return ms;
      };
      for (let i = 0; i < 3; i++) {
        latestRpcMs.push(await timed({ limit: 10 }));
        first.push(await timed({ after: 0, limit: MAX_HISTORY_PAGE }));
        // Full pages everywhere, so the sizes compare like with like: the middle is as far in as a
        // full page allows (the start, in a history of one page).
        middle.push(await timed({ after: Math.min(Math.floor(events / 2), lastFullPage), limit: MAX_HISTORY_PAGE }));
        last.push(await timed({ after: lastFullPage, limit: MAX_HISTORY_PAGE }));
      }
    } finally {
      client.close();
    }
    chat(['daemon', 'stop']);
  }
  const databaseBytes = databaseSize(paths.dir);
  return {
    events,
    buildSeconds: built.seconds,
    databaseBytes,
    jsonBytes: built.jsonBytes,
    databaseVsJson: databaseBytes / built.jsonBytes,
    daemonStartMs: stat(daemonStartMs),
    tailMs: stat(tailMs),
    latestRpcMs: stat(latestRpcMs),
    cliStartMs: stat(cliStartMs),
    sincePageMs: { first: stat(first), middle: stat(middle), last: stat(last) },
  };
}

/** Milliseconds of one whole process; throws unless it exits 0. */
function timedProcess(command: string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const result = spawnSync(command[0]!, command.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: PROCESS_TIMEOUT_MS });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command.slice(1).join(' ')} exited ${result.status}: ${result.stderr.toString()}`);
  return ms;
}

function databaseSize(dir: string): number {
  return readdirSync(dir)
    .filter((name) => name.startsWith('history.db'))
    .reduce((sum, name) => sum + statSync(path.join(dir, name)).size, 0);
}

/**
 * A history as a conversation makes one: mostly messages both ways (each outgoing one queued, then
 * delivered), a file now and then, a connect/disconnect pair every so often. Messages go through
 * the ledger, as the daemon records them, so its tables are as large as they would be.
 */
export function buildHistory(file: string, count: number): { seconds: number; jsonBytes: number } {
  const random = seededRandom(BUILD_SEED);
  const store = openHistory(file);
  const started = performance.now();
  let jsonBytes = 0;
  let written = 0;
  const start = Date.parse('2026-01-01T00:00:00Z');
  const words = ['hello', 'the', 'file', 'is', 'on', 'its', 'way', 'thanks', 'see', 'you', 'tomorrow', 'ok', 'what', 'about', 'lunch', '🙂'];
  const text = () => Array.from({ length: 1 + Math.floor(random() * 12) }, () => words[Math.floor(random() * words.length)]).join(' ');
  const uuid = () => {
    const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20)}`;
  };
  try {
    while (written < count) {
      const works: Array<() => unknown> = [];
      for (let i = 0; i < BUILD_BATCH && written < count; i++) {
        const time = new Date(start + written * 1000).toISOString();
        const kind = random();
        let work: () => { seq: number } | undefined;
        let needs = 1;
        if (kind < 0.45) {
          const event = { type: 'message', direction: 'in', time, from: 'alice', to: 'bob', id: uuid(), text: text() } as const;
          work = () => store.messages.receive(event, PEER_FINGERPRINT);
        } else if (kind < 0.9 && count - written >= 2) {
          const id = uuid();
          const event = { type: 'message', direction: 'out', time, from: 'bob', to: 'alice', id, text: text(), fingerprint: PEER_FINGERPRINT } as const;
          const delivered = { type: 'message-state', direction: 'out', time, from: 'bob', to: 'alice', id, state: 'delivered', fingerprint: PEER_FINGERPRINT } as const;
          work = () => {
            const queued = store.messages.queue(event);
            jsonBytes += lineBytes(queued);
            return store.messages.settle(delivered);
          };
          needs = 2;
        } else if (kind < 0.95 || count - written < 2) {
          const size = Math.floor(random() * 100_000_000);
          const event: NewEvent = { type: 'file', direction: 'in', time, from: 'alice', to: 'bob', id: uuid(), name: `photo-${written}.jpg`, size, sha256: 'c'.repeat(64), path: `/home/bob/Downloads/photo-${written}.jpg` };
          work = () => store.append(event);
        } else {
          const peer = { type: 'peer', direction: 'out', time, from: 'alice', to: 'bob', address: '192.0.2.7:7777', fingerprint: OWN_FINGERPRINT } as const;
          work = () => {
            jsonBytes += lineBytes(store.append({ ...peer, state: 'connected' }));
            return store.append({ ...peer, state: 'disconnected' });
          };
          needs = 2;
        }
        written += needs;
        works.push(() => {
          const stored = work();
          if (!stored) throw new Error('the bench history recorded an event twice');
          jsonBytes += lineBytes(stored);
        });
      }
      for (const outcome of store.batch(works)) if (!outcome.ok) throw outcome.error;
    }
  } finally {
    store.close();
  }
  return { seconds: (performance.now() - started) / 1000, jsonBytes };
}

/** One line of `chat tail --json`: the event with its seq, and the newline. */
function lineBytes(event: unknown): number {
  return Buffer.byteLength(JSON.stringify(event)) + 1;
}

/** Rows 7-7c of the table, each [row, chat, baseline, ratio]: the large history, then the small one as its baseline. */
export function historyScaleRows(r: HistoryScaleResult, f: (n: number, digits?: number) => string, s: (x: Stat, digits?: number) => string): Array<[string, string, string, string]> {
  const { large, small, ratios } = r;
  const n = (x: HistorySizeResult) => `${x.events.toLocaleString('en')} events`;
  const pages = (x: HistorySizeResult) => `${n(x)}: first ${s(x.sincePageMs.first, 1)}, middle ${s(x.sincePageMs.middle, 1)}, last ${s(x.sincePageMs.last, 1)}`;
  const size = (x: HistorySizeResult) => `${n(x)}: ${f(x.databaseBytes / 1024 / 1024, 1)} MiB, ${f(x.databaseVsJson, 2)}× its JSON`;
  return [
    ['7 history: daemon start ms', `${n(large)}: ${s(large.daemonStartMs, 0)}`, `${n(small)}: ${s(small.daemonStartMs, 0)}`, `large/small ${f(ratios.daemonStart, 2)}`],
    ['7a tail -n 10 --no-follow ms', `${n(large)}: ${s(large.tailMs, 0)}; its RPC ${s(large.latestRpcMs, 2)}; chat --version ${s(large.cliStartMs, 0)}`,
      `${n(small)}: ${s(small.tailMs, 0)}; its RPC ${s(small.latestRpcMs, 2)}; chat --version ${s(small.cliStartMs, 0)}`,
      `large/small ${f(ratios.tail, 2)} (RPC ${f(ratios.latestRpc, 2)}); tail/chat --version ${f(large.tailMs.median / large.cliStartMs.median, 2)}`],
    [`7b --since page of ${MAX_HISTORY_PAGE} ms`, pages(large), pages(small), `large/small middle ${f(ratios.sincePageMiddle, 2)}, last ${f(ratios.sincePageLast, 2)}`],
    ['7c history.db size', size(large), size(small), `per event large/small ${f(ratios.databasePerEvent, 2)}`],
  ];
}

/** `node bench/history-scale.ts [--small N] [--large N] [--runs N] [--json]`: row 7 alone (after `npm run build`). */
if (import.meta.main) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({ options: { small: { type: 'string', default: '1000' }, large: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } } });
  const homes: ChatHome[] = [];
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const stat = (runs: number[]): Stat => {
    const s = sorted(runs);
    const mid = (s.length - 1) / 2;
    return { median: (s[Math.floor(mid)]! + s[Math.ceil(mid)]!) / 2, min: s[0]!, max: s.at(-1)!, n: s.length, runs };
  };
  try {
    const result = await measureHistoryScale({ smallEvents: Number(values.small), largeEvents: Number(values.large), runs: Number(values.runs), homes, stat, log: (line) => process.stderr.write(`${line}\n`) });
    const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
    const s = (x: Stat, digits = 1) => `${f(x.median, digits)} (${f(x.min, digits)}–${f(x.max, digits)})`;
    process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${historyScaleRows(result, f, s).map((row) => row.join(' | ')).join('\n')}\n`);
  } finally {
    for (const home of homes) await home.cleanup().catch(() => undefined);
  }
}
