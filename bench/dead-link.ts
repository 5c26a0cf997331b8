/**
 * How long a daemon takes to notice a dead link and to get it back: pairs of real daemons, each
 * pair connected through a fault proxy, which first stops forwarding without closing anything (a
 * pulled cable, a firewall that drops packets), then forwards again, then resets the link.
 *
 *   node bench/dead-link.ts [--pairs N] [--json]
 *
 * The pairs run at once (they are idle but for their pings), each silenced at a random moment of
 * its keepalive cycle. Times come from the events' own timestamps in each history.
 */
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ChatHome } from '../test/helpers/chat.ts';
import { FaultProxy } from '../test/helpers/fault-proxy.ts';

/** One pair must be done long before this: a hang is reported, not waited out. */
const PAIR_TIMEOUT_MS = 120_000;

interface Sample {
  /** From silence() to each side's ping timeout. */
  silentDialler: number;
  silentListener: number;
  /** From heal() to the dialler's new `connected`. */
  healed: number;
  /** From cut('reset') to the dialler's `disconnected`, and to its new `connected`. */
  resetNoticed: number;
  resetReconnected: number;
}

type Event = { seq: number; state?: string; time: string };

function eventsOf(home: ChatHome, profile: string): Event[] {
  const db = new DatabaseSync(path.join(home.profileDir(profile), 'history.db'), { readOnly: true });
  try {
    return (db.prepare('SELECT seq, body FROM events ORDER BY seq').all() as Array<{ seq: number; body: string }>)
      .map((row) => ({ seq: row.seq, ...(JSON.parse(row.body) as { state?: string; time: string }) }));
  } finally {
    db.close();
  }
}

/** The time (ms since the epoch) of the first `state` event after `afterSeq`, waiting for it. */
async function timeOf(home: ChatHome, profile: string, state: string, afterSeq: number): Promise<{ at: number; seq: number }> {
  for (;;) {
    const event = eventsOf(home, profile).find((candidate) => candidate.seq > afterSeq && candidate.state === state);
    if (event) return { at: Date.parse(event.time), seq: event.seq };
    await delay(20);
  }
}

const lastSeq = (home: ChatHome, profile: string) => eventsOf(home, profile).at(-1)?.seq ?? 0;

async function measurePair(): Promise<Sample> {
  const home = await ChatHome.create();
  let proxy: FaultProxy | undefined;
  try {
    await home.startDaemon('alice');
    const bob = await home.startDaemon('bob');
    proxy = await FaultProxy.start(bob.port);
    const connected = await home.run(['connect', '--profile', 'alice', String(proxy.port)]);
    if (connected.code !== 0) throw new Error(`connect failed: ${connected.stderr}`);
    // Anywhere in the 3 s keepalive cycle (and past the first pings).
    await delay(3_000 + Math.random() * 3_000);
    const before = { alice: lastSeq(home, 'alice'), bob: lastSeq(home, 'bob') };
    const silencedAt = Date.now();
    proxy.silence();
    const dialler = await timeOf(home, 'alice', 'disconnected', before.alice);
    const listener = await timeOf(home, 'bob', 'disconnected', before.bob);
    const healedAt = Date.now();
    proxy.heal();
    const back = await timeOf(home, 'alice', 'connected', dialler.seq);
    await delay(1_000);
    const resetAt = Date.now();
    proxy.cut('reset');
    const reset = await timeOf(home, 'alice', 'disconnected', back.seq);
    const again = await timeOf(home, 'alice', 'connected', reset.seq);
    return {
      silentDialler: dialler.at - silencedAt,
      silentListener: listener.at - silencedAt,
      healed: back.at - healedAt,
      resetNoticed: reset.at - resetAt,
      resetReconnected: again.at - resetAt,
    };
  } finally {
    await proxy?.close();
    await home.cleanup();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`a pair took over ${ms / 1000} s`)), ms); }),
  ]);
}

const { values } = parseArgs({ options: { pairs: { type: 'string', default: '6' }, json: { type: 'boolean' } } });
const pairs = Math.max(1, Number(values.pairs) || 6);
const samples = await Promise.all(Array.from({ length: pairs }, () => withTimeout(measurePair(), PAIR_TIMEOUT_MS)));
if (values.json) {
  process.stdout.write(`${JSON.stringify(samples)}\n`);
} else {
  const column = (key: keyof Sample) => samples.map((sample) => sample[key]).sort((a, b) => a - b);
  const range = (key: keyof Sample) => {
    const sorted = column(key);
    return `${(sorted[0]! / 1000).toFixed(1)}–${(sorted.at(-1)! / 1000).toFixed(1)} s (median ${(sorted[Math.floor(sorted.length / 2)]! / 1000).toFixed(1)})`;
  };
  process.stdout.write(
    `${pairs} pairs\n` +
    `silent drop noticed, dialler:   ${range('silentDialler')}\n` +
    `silent drop noticed, listener:  ${range('silentListener')}\n` +
    `redialled after it healed:      ${range('healed')}\n` +
    `reset noticed:                  ${range('resetNoticed')}\n` +
    `redialled after a reset:        ${range('resetReconnected')}\n`,
  );
}
