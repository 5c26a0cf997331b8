import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { decideAdmission, NEW_PEER_REFUSAL } from '../../src/daemon/admission.ts';
import { NEW_PINS_PER_HOUR, NewPeerLimit } from '../../src/daemon/new-peer-limit.ts';
import { KnownPeers, MAX_PINNED_PEERS } from '../../src/identity/known-peers.ts';
import type { PeerInfo } from '../../src/peer/session.ts';

const HOUR = 3_600_000;
const TIME = '2026-01-01T00:00:00.000Z';
const key = (i: number) => i.toString(16).padStart(64, '0');
const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-new-peers-'));
let files = 0;

/** Known peers holding `count` pins, peer-0 … peer-(count-1). */
function knownPeers(count: number): KnownPeers {
  const file = path.join(dir, `known_peers-${files++}.json`);
  const peers = Array.from({ length: count }, (_, i) => ({ name: `peer-${i}`, fingerprint: key(i), firstSeen: TIME, lastSeen: TIME }));
  writeFileSync(file, JSON.stringify({ version: 1, peers }), { mode: 0o600 });
  return KnownPeers.open(file);
}

function candidate(name: string, fingerprint: string, direction: 'in' | 'out' = 'in'): PeerInfo {
  return { name, instance: 'i', version: 4, listenPort: 0, address: '127.0.0.1:1', direction, fingerprint };
}

/** Consent lets every key in (--accept any): these tests are about room for names (consent.test.ts is about keys). */
const anyKey = { ownName: 'me', mode: 'any', dialled: false, inviteOpen: false } as const;

describe('room for new peer names', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test(`incoming: NEW_PINS_PER_HOUR new names an hour, then refused with the time to wait`, () => {
    const limit = new NewPeerLimit(knownPeers(0));
    for (let i = 0; i < NEW_PINS_PER_HOUR; i++) {
      assert.equal(limit.problem('in', HOUR + i), undefined);
      limit.pinned('in', HOUR + i);
    }
    assert.match(limit.problem('in', HOUR + 30 * 60_000) ?? '', /pinned 60 new names this hour, .*; try again in 30 min$/);
    assert.equal(limit.problem('out', HOUR + 30 * 60_000), undefined, 'a name the user dials is not held back by strangers');
    assert.equal(limit.problem('in', 2 * HOUR), undefined, 'the next hour starts full');
  });

  test('names the user dials are not counted', () => {
    const limit = new NewPeerLimit(knownPeers(0));
    for (let i = 0; i < 2 * NEW_PINS_PER_HOUR; i++) limit.pinned('out', HOUR + i);
    assert.equal(limit.problem('in', HOUR + 1000), undefined);
  });

  test('MAX_PINNED_PEERS pinned: no new name either way', () => {
    const limit = new NewPeerLimit(knownPeers(MAX_PINNED_PEERS));
    for (const direction of ['in', 'out'] as const) {
      assert.match(limit.problem(direction) ?? '', /has 1000 names pinned, the most it keeps; its user can make room with "chat peers forget NAME"$/);
    }
  });

  test('the admission gate: a new name past the limit is refused; a pinned name is never affected', () => {
    const known = knownPeers(MAX_PINNED_PEERS);
    const admit = (peer: PeerInfo) => decideAdmission({
      candidate: peer, current: undefined, expectedFingerprint: undefined, ownFingerprint: key(99_999), knownPeers: known, newPeers: new NewPeerLimit(known), ...anyKey,
    });
    const refused = admit(candidate('newcomer', key(5000)));
    assert.equal(refused.verdict, 'refuse');
    assert.ok(refused.verdict === 'refuse' && refused.kind === 'newPeer' && refused.reason.startsWith(NEW_PEER_REFUSAL), JSON.stringify(refused));
    assert.ok(NEW_PEER_REFUSAL.startsWith('busy: '), 'an older dialler reports it as busy');
    assert.deepEqual(admit(candidate('peer-3', key(3))), { verdict: 'accept' });
    assert.deepEqual(admit(candidate('peer-3', key(3), 'out')), { verdict: 'accept' });
    const changed = admit(candidate('peer-3', key(4)));
    assert.ok(changed.verdict === 'refuse' && changed.kind === 'identity', 'a changed key is still an identity refusal');
  });

  test('hourly budget exhausted: strangers refused, pinned names still accepted', () => {
    const known = knownPeers(3);
    const limit = new NewPeerLimit(known);
    for (let i = 0; i < NEW_PINS_PER_HOUR; i++) limit.pinned('in');
    const admit = (peer: PeerInfo) => decideAdmission({
      candidate: peer, current: undefined, expectedFingerprint: undefined, ownFingerprint: key(99_999), knownPeers: known, newPeers: limit, ...anyKey,
    });
    assert.equal(admit(candidate('stranger', key(77))).verdict, 'refuse');
    assert.deepEqual(admit(candidate('peer-1', key(1))), { verdict: 'accept' });
    assert.deepEqual(admit(candidate('stranger', key(77), 'out')), { verdict: 'accept' });
  });
});
