/**
 * Keepalive with two ends wired together in memory: each end's PING reaches the other (a sign of
 * life there) and, while the other answers, its PONG comes back. Timers and the clock are mocked,
 * so minutes of silence take no time.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { Keepalive, type KeepaliveOptions } from '../../src/peer/keepalive.ts';
import type { SessionEndKind } from '../../src/peer/session-end.ts';

const OPTIONS: KeepaliveOptions = { pingIntervalMs: 1_000, silenceLimitMs: 4_000 };

interface End {
  keepalive: Keepalive;
  pings: number[];
  closes: Array<{ kind: SessionEndKind; detail: string }>;
  /** Whether it answers the other end's pings (a PONG is any frame back). */
  answers: boolean;
  /** Whether this end has stopped reading its socket. */
  paused: boolean;
}

/** Moves the mocked clock on one interval at a time: a single large tick would show every timer the final time. */
function advance(ms: number): void {
  for (let passed = 0; passed < ms; passed += OPTIONS.pingIntervalMs) mock.timers.tick(OPTIONS.pingIntervalMs);
}

function wiredPair(): { a: End; b: End } {
  const make = (): End => ({ keepalive: undefined!, pings: [], closes: [], answers: true, paused: false });
  const a = make();
  const b = make();
  for (const [self, other] of [[a, b], [b, a]] as const) {
    self.keepalive = new Keepalive(OPTIONS, {
      send(frame) {
        self.pings.push(frame.nonce);
        if (!other.answers) return;
        other.keepalive.signOfLife();
        self.keepalive.signOfLife();
      },
      close: (kind, detail) => self.closes.push({ kind, detail }),
      paused: () => self.paused,
    });
  }
  return { a, b };
}

describe('Keepalive', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setInterval', 'Date'] }));
  afterEach(() => mock.timers.reset());

  test('two quiet ends that answer each other ping every interval or two and never time out', () => {
    const { a, b } = wiredPair();
    a.keepalive.start();
    b.keepalive.start();
    advance(10 * OPTIONS.silenceLimitMs);
    assert.deepEqual(a.closes, []);
    assert.deepEqual(b.closes, []);
    // Each ping answered is a sign of life for both, so the two share the pinging.
    assert.ok(a.pings.length + b.pings.length >= 10 * OPTIONS.silenceLimitMs / OPTIONS.pingIntervalMs / 2, `pings: ${a.pings.length} + ${b.pings.length}`);
    a.keepalive.stop();
    b.keepalive.stop();
  });

  test('an end whose peer went silent pings it, counting from 1, then ends with a timeout', () => {
    const { a, b } = wiredPair();
    b.answers = false;
    a.keepalive.start();
    advance(OPTIONS.silenceLimitMs - OPTIONS.pingIntervalMs);
    assert.deepEqual(a.closes, [], 'not before the silence limit');
    assert.deepEqual(a.pings, [1, 2, 3], 'pinged once half an interval had passed, then every interval');
    advance(OPTIONS.pingIntervalMs);
    assert.deepEqual(a.closes, [{ kind: 'timeout', detail: 'no sign of life from the peer for 4 s (ping timeout)' }]);
    a.keepalive.stop();
  });

  test('bytes from the peer count as a sign of life, not only answers to our pings', () => {
    const { a, b } = wiredPair();
    b.answers = false;
    a.keepalive.start();
    for (let i = 0; i < 10; i++) {
      mock.timers.tick(OPTIONS.pingIntervalMs * 0.6);
      a.keepalive.signOfLife();
      mock.timers.tick(OPTIONS.pingIntervalMs * 0.4);
    }
    assert.deepEqual(a.closes, []);
    assert.deepEqual(a.pings, [], 'a peer heard from within half an interval is not pinged');
    a.keepalive.stop();
  });

  test('while the end does not read, silence proves nothing: it keeps pinging and never times out', () => {
    const { a, b } = wiredPair();
    b.answers = false;
    a.paused = true;
    a.keepalive.start();
    advance(5 * OPTIONS.silenceLimitMs);
    assert.deepEqual(a.closes, []);
    assert.equal(a.pings.length, 5 * OPTIONS.silenceLimitMs / OPTIONS.pingIntervalMs, 'a ping every interval');
    a.paused = false;
    advance(OPTIONS.silenceLimitMs);
    assert.equal(a.closes.length, 1, 'reading again, the silence counts again');
    a.keepalive.stop();
  });

  test('stop() ends the watch: no more pings, no timeout', () => {
    const { a, b } = wiredPair();
    b.answers = false;
    a.keepalive.start();
    a.keepalive.stop();
    advance(10 * OPTIONS.silenceLimitMs);
    assert.deepEqual(a.pings, []);
    assert.deepEqual(a.closes, []);
  });
});
