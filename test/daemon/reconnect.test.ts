// The reconnect policy in-process, with mocked timers and a scripted dial: who redials after which
// drop, when, how often, what it records and persists, and what stops it.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import type { LastPeer } from '../../src/daemon/last-peer.ts';
import type { Logger } from '../../src/daemon/logger.ts';
import { Reconnector, RESTART_REASON, type DialOutcome } from '../../src/daemon/reconnect.ts';
import { hostOf } from '../../src/peer/address.ts';
import type { NewEvent } from '../../src/history/events.ts';
import type { PeerInfo } from '../../src/peer/session.ts';
import type { SessionEnd } from '../../src/peer/session-end.ts';

const BOB_KEY = 'b0'.repeat(32);
const CAROL_KEY = 'c0'.repeat(32);

function peerInfo(name: string, fingerprint: string, direction: 'in' | 'out', address: string, listenPort = 7002): PeerInfo {
  return { name, instance: '00000000-0000-4000-8000-000000000000', version: 4, listenPort, address, direction, fingerprint };
}
const bobOut = peerInfo('bob', BOB_KEY, 'out', '127.0.0.1:7002');
const bobIn = peerInfo('bob', BOB_KEY, 'in', '127.0.0.1:51000');

interface Harness {
  reconnector: Reconnector;
  dials: LastPeer[];
  events: NewEvent[];
  saved: LastPeer[];
  logs: string[];
  /** What the next dials return (default: failed); a `connected` one also adopts the peer, as the slot would. */
  outcomes: DialOutcome[];
  holder: PeerInfo | undefined;
}

function harness(options: { enabled?: boolean; stored?: LastPeer } = {}): Harness {
  const h: Harness = { dials: [], events: [], saved: [], logs: [], outcomes: [], holder: undefined } as unknown as Harness;
  const log: Logger = {
    info: (line) => h.logs.push(line), warn: (line) => h.logs.push(line), error: (line) => h.logs.push(line), flush: () => undefined,
  };
  h.reconnector = new Reconnector({
    enabled: options.enabled ?? true,
    name: 'alice',
    dial: async (target) => {
      h.dials.push(target);
      const outcome = h.outcomes.shift() ?? { outcome: 'failed', reason: 'connection refused' };
      if (outcome.outcome === 'connected') {
        h.holder = peerInfo(target.name, target.fingerprint, 'out', `${target.host}:${target.port}`);
        h.reconnector.adopted(h.holder);
      }
      return outcome;
    },
    current: () => h.holder,
    load: () => options.stored,
    save: (peer) => h.saved.push(peer),
    record: (event) => h.events.push(event),
    log,
    random: () => 0,
  });
  return h;
}

/** Lets the scripted dial's promise settle after a timer fired it. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

async function advance(ms: number): Promise<void> {
  mock.timers.tick(ms);
  await settle();
}

/** alice's user connected to bob at 127.0.0.1:7002. */
async function connectedToBob(h: Harness): Promise<void> {
  await h.reconnector.userConnect({ host: '127.0.0.1', port: 7002 }, async () => {
    h.holder = bobOut;
    h.reconnector.adopted(bobOut);
    return { peer: { name: 'bob', address: '127.0.0.1:7002', direction: 'out', listenPort: 7002, protocolVersion: 2, fingerprint: BOB_KEY, listenAddress: '127.0.0.1:7002' }, alreadyConnected: false };
  });
}

/** Ends the held session: a drop of kind `transport` unless `end` says otherwise. */
function drop(h: Harness, peer: PeerInfo, end: string | SessionEnd, recorded = true): void {
  h.holder = undefined;
  h.reconnector.ended(peer, typeof end === 'string' ? { kind: 'transport', remote: false, detail: end } : end, recorded);
}

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

describe('Reconnector', () => {
  test('the dialler redials after a drop with backoff, shows it in status, and records one event per outage', async () => {
    const h = harness();
    await connectedToBob(h);
    assert.deepEqual(h.saved.at(-1), { name: 'bob', fingerprint: BOB_KEY, host: '127.0.0.1', port: 7002, dialled: true, userDisconnected: false });
    drop(h, bobOut, 'no sign of life from the peer for 12 s (ping timeout)');
    assert.deepEqual(h.events, [{
      type: 'peer', state: 'reconnecting', direction: 'out', time: new Date(1_000_000).toISOString(),
      from: 'bob', to: 'alice', address: '127.0.0.1:7002', fingerprint: BOB_KEY, reason: 'no sign of life from the peer for 12 s (ping timeout)',
    }]);
    assert.deepEqual(h.reconnector.summary(), {
      name: 'bob', fingerprint: BOB_KEY, address: '127.0.0.1:7002', attempt: 1,
      nextAttemptAt: new Date(1_001_000).toISOString(), nextAttemptInMs: 1000, lastError: null,
    });
    // No jitter (random 0): 1, 2, 4, 8, 16 s between the redials.
    const dialledAt: number[] = [];
    for (const wait of [1000, 2000, 4000, 8000, 16_000]) {
      await advance(wait - 1);
      assert.equal(h.dials.length, dialledAt.length, `not before ${wait} ms`);
      await advance(1);
      dialledAt.push(Date.now());
    }
    assert.equal(h.dials.length, 5);
    assert.ok(h.dials.every((target) => target.fingerprint === BOB_KEY && target.port === 7002), 'always bob, with his key expected');
    const summary = h.reconnector.summary()!;
    assert.equal(summary.attempt, 6);
    assert.equal(summary.nextAttemptInMs, 32_000);
    assert.equal(summary.lastError, 'connection refused');
    h.outcomes.push({ outcome: 'connected' });
    await advance(32_000);
    assert.equal(h.dials.length, 6);
    assert.equal(h.reconnector.summary(), null, 'connected: no longer reconnecting');
    assert.equal(h.events.length, 1, 'one reconnecting event for the whole outage');
    assert.ok(h.logs.some((line) => /reconnected to "bob" \(attempt 6; we dialled\)/.test(line)), h.logs.join('\n'));
  });

  test('the wait is capped at 60 s, however long the outage', async () => {
    const h = harness();
    await connectedToBob(h);
    drop(h, bobOut, 'connection closed by peer');
    for (const wait of [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]) await advance(wait);
    assert.equal(h.dials.length, 9);
    assert.equal(h.reconnector.summary()?.nextAttemptInMs, 60_000);
  });

  test('no redial after "chat disconnect" on either side, and a restart does not redial either', async () => {
    for (const remote of [false, true]) {
      const reason = remote ? 'the peer disconnected' : 'we disconnected';
      const h = harness();
      await connectedToBob(h);
      drop(h, bobOut, { kind: 'disconnected', remote, detail: 'disconnected by user' });
      await advance(10 * 60_000);
      assert.equal(h.dials.length, 0, reason);
      assert.equal(h.events.length, 0, reason);
      assert.equal(h.saved.at(-1)?.userDisconnected, true, reason);
      const restarted = harness({ stored: h.saved.at(-1) });
      restarted.reconnector.start();
      await advance(10 * 60_000);
      assert.equal(restarted.dials.length, 0, `${reason}: after a restart`);
    }
  });

  test('a refusal (a changed key) ends the redials', async () => {
    const h = harness();
    await connectedToBob(h);
    drop(h, bobOut, 'connection closed by peer');
    h.outcomes.push({ outcome: 'failed', reason: 'connection refused' }, { outcome: 'refused', reason: 'refused 127.0.0.1:7002: identity: the key of "bob" has changed' });
    await advance(1000);
    await advance(2000);
    assert.equal(h.dials.length, 2);
    await advance(60 * 60_000);
    assert.equal(h.dials.length, 2, 'no redial loop');
    assert.equal(h.reconnector.summary(), null);
    assert.ok(h.logs.some((line) => /stopped reconnecting to "bob" .*identity/.test(line)));
  });

  test('the side that was dialled does not redial, but remembers the peer for a restart', async () => {
    const h = harness();
    h.holder = bobIn;
    h.reconnector.adopted(bobIn);
    assert.deepEqual(h.saved.at(-1), { name: 'bob', fingerprint: BOB_KEY, host: '127.0.0.1', port: 7002, dialled: false, userDisconnected: false });
    drop(h, bobIn, 'connection closed by peer');
    await advance(10 * 60_000);
    assert.equal(h.dials.length, 0);
    // Started again, it dials bob at the port his HELLO announced, at once; after that it is the dialler.
    const restarted = harness({ stored: h.saved.at(-1) });
    restarted.outcomes.push({ outcome: 'connected' });
    restarted.reconnector.start();
    assert.equal(restarted.events[0]?.type === 'peer' && restarted.events[0].reason, RESTART_REASON);
    await advance(0);
    assert.equal(restarted.dials.length, 1);
    assert.equal(restarted.saved.at(-1)?.dialled, true);
    drop(restarted, bobOut, 'connection closed by peer');
    await advance(1000);
    assert.equal(restarted.dials.length, 2, 'redials after a drop now');
  });

  test('a restart redials the last peer at once; --no-reconnect does not', async () => {
    const stored: LastPeer = { name: 'bob', fingerprint: BOB_KEY, host: 'bob.example', port: 7002, dialled: true, userDisconnected: false };
    const h = harness({ stored });
    h.reconnector.start();
    assert.equal(h.reconnector.summary()?.nextAttemptInMs, 0);
    await advance(0);
    assert.deepEqual(h.dials, [stored]);
    const off = harness({ stored, enabled: false });
    off.reconnector.start();
    await advance(10 * 60_000);
    assert.equal(off.dials.length, 0);
    assert.ok(off.logs.some((line) => /--no-reconnect/.test(line)));
    // Nor after a drop.
    await connectedToBob(off);
    drop(off, bobOut, 'connection closed by peer');
    await advance(10 * 60_000);
    assert.equal(off.dials.length, 0);
  });

  test('"chat disconnect" during an outage stops it and says whom; a redial under way is no longer wanted', async () => {
    const h = harness();
    await connectedToBob(h);
    drop(h, bobOut, 'connection closed by peer');
    let wantedDuringDial: boolean | undefined;
    h.outcomes.push({ outcome: 'failed', reason: 'slow' });
    const dial = h.reconnector['options'].dial;
    h.reconnector['options'].dial = async (target) => {
      assert.equal(h.reconnector.wants(BOB_KEY), true);
      assert.equal(h.reconnector.userDisconnect(), 'bob');
      wantedDuringDial = h.reconnector.wants(BOB_KEY);
      return dial(target);
    };
    await advance(1000);
    assert.equal(wantedDuringDial, false);
    await advance(10 * 60_000);
    assert.equal(h.dials.length, 1);
    assert.equal(h.reconnector.summary(), null);
    assert.equal(h.saved.at(-1)?.userDisconnected, true);
    assert.equal(h.reconnector.userDisconnect(), undefined, 'nothing left to stop');
  });

  test('"chat connect" to another peer replaces the target; a failed one lets the redials go on', async () => {
    const h = harness();
    await connectedToBob(h);
    drop(h, bobOut, 'connection closed by peer');
    await assert.rejects(h.reconnector.userConnect({ host: '127.0.0.1', port: 7009 }, async () => {
      await advance(5000);
      assert.equal(h.dials.length, 0, 'no redial while the user connects');
      throw new Error('cannot connect to 127.0.0.1:7009: connection refused');
    }));
    await advance(1000);
    assert.equal(h.dials.length, 1, 'bob is redialled again');
    const carol = peerInfo('carol', CAROL_KEY, 'out', '127.0.0.1:7003', 7003);
    await h.reconnector.userConnect({ host: '127.0.0.1', port: 7003 }, async () => {
      h.holder = carol;
      h.reconnector.adopted(carol);
      return { peer: { name: 'carol', address: '127.0.0.1:7003', direction: 'out', listenPort: 7003, protocolVersion: 2, fingerprint: CAROL_KEY, listenAddress: '127.0.0.1:7003' }, alreadyConnected: false };
    });
    assert.equal(h.saved.at(-1)?.name, 'carol');
    await advance(10 * 60_000);
    assert.equal(h.dials.length, 1, 'bob is not redialled any more');
    drop(h, carol, 'connection closed by peer');
    await advance(1000);
    assert.equal(h.dials.at(-1)?.name, 'carol');
  });

  test('another peer that dials in meanwhile holds the slot; once it leaves, ours is redialled', async () => {
    const h = harness();
    await connectedToBob(h);
    drop(h, bobOut, 'connection closed by peer');
    const carolIn = peerInfo('carol', CAROL_KEY, 'in', '127.0.0.1:52000', 7003);
    h.holder = carolIn;
    h.reconnector.adopted(carolIn);
    await advance(10 * 60_000);
    assert.equal(h.dials.length, 0, 'no redial while carol holds the slot');
    assert.equal(h.saved.at(-1)?.name, 'bob', 'bob stays the one to redial');
    drop(h, carolIn, 'peer left: disconnected by user');
    await advance(1000);
    assert.equal(h.dials.at(-1)?.name, 'bob');
  });

  test('an outage of a connection the budget did not record is not recorded either, and is still redialled', async () => {
    const h = harness();
    await connectedToBob(h);
    drop(h, bobOut, 'connection closed by peer', false);
    await advance(1000);
    assert.equal(h.events.length, 0);
    assert.equal(h.dials.length, 1);
  });

  test('stop cancels every redial', async () => {
    const h = harness();
    await connectedToBob(h);
    drop(h, bobOut, 'connection closed by peer');
    h.reconnector.stop();
    await advance(10 * 60_000);
    assert.equal(h.dials.length, 0);
  });
});

test('hostOf reads back what formatAddress writes', () => {
  assert.equal(hostOf('127.0.0.1:7002'), '127.0.0.1');
  assert.equal(hostOf('[::1]:7002'), '::1');
  assert.equal(hostOf('[fe80::1%eth0]:7002'), 'fe80::1%eth0');
  assert.equal(hostOf('unknown'), undefined);
  assert.equal(hostOf('a:b:7002'), undefined);
});
