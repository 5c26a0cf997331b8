// The redial backoff: doubles from 1 s to the 60 s cap, jitter only ever shortens a wait, and
// every wait stays within [base, cap] whatever the attempt number or the random source.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  RECONNECT_BASE_DELAY_MS,
  RECONNECT_JITTER,
  RECONNECT_MAX_DELAY_MS,
  reconnectDelayMs,
} from '../../src/daemon/reconnect-backoff.ts';

const noJitter = () => 0;
/** Just below 1: the most jitter Math.random can give. */
const mostJitter = () => 1 - Number.EPSILON;

describe('reconnectDelayMs', () => {
  test('without jitter: 1, 2, 4, 8, 16, 32 s, then the 60 s cap for ever', () => {
    const waits = Array.from({ length: 10 }, (_, index) => reconnectDelayMs(index + 1, noJitter));
    assert.deepEqual(waits, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
    assert.equal(RECONNECT_BASE_DELAY_MS, 1000);
    assert.equal(RECONNECT_MAX_DELAY_MS, 60_000);
  });

  test('jitter takes up to RECONNECT_JITTER of the nominal wait off, never below the base', () => {
    assert.equal(RECONNECT_JITTER, 0.5);
    // The first wait is the base: there is nothing below it to take.
    assert.equal(reconnectDelayMs(1, mostJitter), 1000);
    assert.equal(reconnectDelayMs(2, mostJitter), 1000);
    assert.equal(reconnectDelayMs(5, mostJitter), 8000);
    assert.equal(reconnectDelayMs(5, () => 0.5), 12_000);
    assert.equal(reconnectDelayMs(100, mostJitter), 30_000);
  });

  test('every wait is within [base, cap] and within the jitter range of its nominal wait', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let attempt = 1; attempt <= 200; attempt++) {
      const nominal = reconnectDelayMs(attempt, noJitter);
      for (let draw = 0; draw < 50; draw++) {
        const wait = reconnectDelayMs(attempt, random);
        assert.ok(wait >= RECONNECT_BASE_DELAY_MS && wait <= RECONNECT_MAX_DELAY_MS, `attempt ${attempt}: ${wait}`);
        assert.ok(wait <= nominal && wait >= Math.max(RECONNECT_BASE_DELAY_MS, nominal * (1 - RECONNECT_JITTER)) - 1, `attempt ${attempt}: ${wait} of ${nominal}`);
      }
    }
  });

  test('odd inputs stay in bounds: attempt 0, a huge attempt, a random source out of [0, 1)', () => {
    assert.equal(reconnectDelayMs(0, noJitter), 1000);
    assert.equal(reconnectDelayMs(Number.MAX_SAFE_INTEGER, noJitter), 60_000);
    assert.equal(reconnectDelayMs(3, () => 7), 2000);
    assert.equal(reconnectDelayMs(3, () => -3), 4000);
  });

  test('other limits are honoured the same way', () => {
    const limits = { baseMs: 100, maxMs: 400 };
    assert.deepEqual([1, 2, 3, 4, 9].map((attempt) => reconnectDelayMs(attempt, noJitter, limits)), [100, 200, 400, 400, 400]);
  });
});
