import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CONNECTIONS_PER_KEY_PER_MINUTE,
  CONNECTIONS_PER_MINUTE,
  PeerEventBudget,
  REFUSAL_EVENTS_PER_MINUTE,
  type SkippedPeerEvents,
} from '../../src/daemon/peer-event-budget.ts';

const MINUTE = 60_000;
const key = (i: number) => i.toString(16).padStart(64, '0');

function budget(): { events: PeerEventBudget; reports: SkippedPeerEvents[] } {
  const reports: SkippedPeerEvents[] = [];
  return { events: new PeerEventBudget((skipped) => reports.push(skipped)), reports };
}

describe('the budget of connection events', () => {
  test(`refusals: REFUSAL_EVENTS_PER_MINUTE a minute, then counted; one report for the window`, () => {
    const { events, reports } = budget();
    const recorded = Array.from({ length: REFUSAL_EVENTS_PER_MINUTE + 12 }, (_, i) => events.refusal(MINUTE + i));
    assert.equal(recorded.filter(Boolean).length, REFUSAL_EVENTS_PER_MINUTE);
    assert.deepEqual(reports, [], 'nothing is reported before the window ends');
    assert.equal(events.refusal(2 * MINUTE), true, 'the next window starts full');
    assert.deepEqual(reports, [{ connections: 0, refusals: 12 }]);
    events.flush();
    assert.equal(reports.length, 1, 'a window without skipped events reports nothing');
  });

  test('one key reconnecting in a loop gets CONNECTIONS_PER_KEY_PER_MINUTE; another key still gets through', () => {
    const { events, reports } = budget();
    const looping = Array.from({ length: 50 }, (_, i) => events.connection(key(1), false, MINUTE + i));
    assert.equal(looping.filter(Boolean).length, CONNECTIONS_PER_KEY_PER_MINUTE);
    assert.deepEqual(looping.slice(0, CONNECTIONS_PER_KEY_PER_MINUTE), Array(CONNECTIONS_PER_KEY_PER_MINUTE).fill(true), 'the first ones');
    assert.equal(events.connection(key(2), false, MINUTE + 100), true, 'the real peer is still recorded');
    events.flush();
    assert.deepEqual(reports, [{ connections: 50 - CONNECTIONS_PER_KEY_PER_MINUTE, refusals: 0 }]);
  });

  test('many pinned keys: CONNECTIONS_PER_MINUTE in all', () => {
    const { events } = budget();
    let recorded = 0;
    for (let i = 0; i < 10 * CONNECTIONS_PER_MINUTE; i++) if (events.connection(key(i % 40), false, MINUTE + i)) recorded++;
    assert.equal(recorded, CONNECTIONS_PER_MINUTE);
    assert.equal(events.connection(key(0), false, 2 * MINUTE + 1), true, 'until the window ends');
  });

  test('first contacts are always recorded (the pins bound them) and use none of the budget', () => {
    const { events } = budget();
    for (let i = 0; i < 500; i++) assert.equal(events.connection(key(1000 + i), true, MINUTE + i), true);
    let recorded = 0;
    for (let i = 0; i < 100; i++) if (events.connection(key(i), false, MINUTE + 600 + i)) recorded++;
    assert.equal(recorded, CONNECTIONS_PER_MINUTE);
  });

  test('refusals and connections are separate: a refusal flood hides no connection', () => {
    const { events, reports } = budget();
    for (let i = 0; i < 1000; i++) events.refusal(MINUTE + i);
    assert.equal(events.connection(key(1), false, MINUTE + 1001), true);
    events.flush();
    assert.deepEqual(reports, [{ connections: 0, refusals: 1000 - REFUSAL_EVENTS_PER_MINUTE }]);
  });
});
