// The token bucket behind the per-connection budgets: a burst at once, then the sustained rate,
// on a clock the test moves by hand.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TokenBucket } from '../../src/peer/token-bucket.ts';

function bucket(perSecond: number, burst: number): { bucket: TokenBucket; advance(ms: number): void } {
  let now = 1000;
  return { bucket: new TokenBucket({ perSecond, burst }, () => now), advance: (ms) => { now += ms; } };
}

describe('TokenBucket', () => {
  test('a full bucket gives the burst at once, then says how long until the next token', () => {
    const { bucket: b } = bucket(200, 1000);
    for (let i = 0; i < 1000; i++) assert.equal(b.take(), 0, `token ${i}`);
    assert.equal(b.take(), 5, 'one token per 5 ms at 200/s');
  });

  test('a refused take takes nothing; tokens come back at the rate', () => {
    const { bucket: b, advance } = bucket(100, 2);
    assert.equal(b.take(), 0);
    assert.equal(b.take(), 0);
    assert.equal(b.take(), 10);
    assert.equal(b.take(), 10, 'asking again did not use up anything');
    advance(10);
    assert.equal(b.take(), 0);
    assert.ok(b.take() > 0);
  });

  test('over any long stretch the rate holds: N takes need (N - burst) / rate seconds', () => {
    const { bucket: b, advance } = bucket(200, 50);
    let taken = 0;
    let elapsed = 0;
    while (taken < 2050) {
      const wait = b.take();
      if (wait === 0) taken++;
      else {
        advance(wait);
        elapsed += wait;
      }
    }
    assert.ok(Math.abs(elapsed - 10_000) <= 10, `took ${elapsed} ms`);
  });

  test('an idle bucket fills up to the burst, no more', () => {
    const { bucket: b, advance } = bucket(1000, 3);
    advance(60_000);
    assert.equal(b.take(), 0);
    assert.equal(b.take(), 0);
    assert.equal(b.take(), 0);
    assert.ok(b.take() > 0);
  });

  test('a take may cost many tokens (bytes): all or nothing, and the wait is for the whole cost', () => {
    const { bucket: b, advance } = bucket(1000, 5000);
    assert.equal(b.take(3000), 0);
    assert.equal(b.take(3000), 1000, 'the 1000 missing tokens take 1 s');
    assert.equal(b.wait(2000), 0, 'the refused take took nothing');
    advance(1000);
    assert.equal(b.wait(3000), 0, 'waiting takes nothing either');
    assert.equal(b.take(3000), 0);
    assert.equal(b.take(1), 1);
  });

  test('a cost above the burst costs the whole burst, so it can be earned', () => {
    const { bucket: b, advance } = bucket(100, 10);
    assert.equal(b.take(50), 0);
    assert.equal(b.take(50), 100);
    advance(100);
    assert.equal(b.take(50), 0);
  });

  test('a rate that makes no sense is refused', () => {
    assert.throws(() => new TokenBucket({ perSecond: 0, burst: 1 }), RangeError);
    assert.throws(() => new TokenBucket({ perSecond: 10, burst: 0 }), RangeError);
    assert.throws(() => new TokenBucket({ perSecond: Number.NaN, burst: 1 }), RangeError);
  });
});
