import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { loadOrCreateIdentity } from '../../src/identity/identity.ts';
import { KnownPeers, MAX_PINNED_PEERS } from '../../src/identity/known-peers.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-identity-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('identity', () => {
  test('created once, owner-only, and the same on every later load', async () => {
    const dir = path.join(tempDir(), 'identity');
    const created = await loadOrCreateIdentity(dir);
    assert.equal(created.created, true);
    assert.match(created.fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(created.keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(created.certFile).mode & 0o777, 0o600);
    const loaded = await loadOrCreateIdentity(dir);
    assert.equal(loaded.created, false);
    assert.equal(loaded.fingerprint, created.fingerprint);
    assert.equal(loaded.key, created.key);
  });

  test('a lost or foreign certificate is made again from the key: the fingerprint stays', async () => {
    const dir = path.join(tempDir(), 'identity');
    const first = await loadOrCreateIdentity(dir);
    unlinkSync(first.certFile);
    assert.equal((await loadOrCreateIdentity(dir)).fingerprint, first.fingerprint);
    const other = await loadOrCreateIdentity(path.join(tempDir(), 'other'));
    writeFileSync(first.certFile, other.cert, { mode: 0o600 });
    const repaired = await loadOrCreateIdentity(dir);
    assert.equal(repaired.fingerprint, first.fingerprint);
    assert.notEqual(repaired.cert, other.cert);
  });

  test('a key file that others can read is refused with the fix', async () => {
    const dir = path.join(tempDir(), 'identity');
    const { keyFile } = await loadOrCreateIdentity(dir);
    chmodSync(keyFile, 0o640);
    await assert.rejects(loadOrCreateIdentity(dir), /accessible to other users \(mode 0640\).*chmod 600/);
  });

  test('a damaged key is reported, not replaced', async () => {
    const dir = path.join(tempDir(), 'identity');
    const { keyFile } = await loadOrCreateIdentity(dir);
    writeFileSync(keyFile, 'not a key');
    await assert.rejects(loadOrCreateIdentity(dir), /cannot read the identity key/);
    assert.equal(readFileSync(keyFile, 'utf8'), 'not a key');
  });
});

describe('known peers', () => {
  const alpha = 'a'.repeat(64);
  const beta = 'b'.repeat(64);

  test('a new name is pinned, the same key is known, another key is a change', () => {
    const file = path.join(tempDir(), 'known_peers.json');
    const peers = KnownPeers.open(file);
    assert.deepEqual(peers.check('bob', alpha), { status: 'new' });
    assert.equal(peers.remember('bob', alpha, '2026-01-01T00:00:00.000Z'), 'pinned');
    assert.equal(peers.check('bob', alpha).status, 'known');
    assert.equal(peers.check('bob', beta).status, 'changed');
    assert.throws(() => peers.remember('bob', beta, '2026-01-02T00:00:00.000Z'), /pinned to another key/);
    assert.equal(peers.remember('bob', alpha, '2026-01-03T00:00:00.000Z'), 'seen');
    assert.deepEqual(peers.list(), [{ name: 'bob', fingerprint: alpha, firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-03T00:00:00.000Z' }]);
  });

  test('pins survive a reopen, owner-only; forget removes one', () => {
    const file = path.join(tempDir(), 'known_peers.json');
    const peers = KnownPeers.open(file);
    peers.remember('bob', alpha, '2026-01-01T00:00:00.000Z');
    peers.remember('carol', beta, '2026-01-02T00:00:00.000Z');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const reopened = KnownPeers.open(file);
    assert.deepEqual(reopened.list().map((peer) => peer.name), ['bob', 'carol']);
    assert.equal(reopened.forget('bob')?.fingerprint, alpha);
    assert.equal(reopened.forget('bob'), undefined);
    assert.deepEqual(KnownPeers.open(file).list().map((peer) => peer.name), ['carol']);
  });

  test(`at most MAX_PINNED_PEERS names: a new one past them is refused, pinned ones still update`, () => {
    const file = path.join(tempDir(), 'known_peers.json');
    const time = '2026-01-01T00:00:00.000Z';
    const peers = Array.from({ length: MAX_PINNED_PEERS }, (_, i) => ({
      name: `peer-${i}`, fingerprint: i.toString(16).padStart(64, '0'), firstSeen: time, lastSeen: time,
    }));
    writeFileSync(file, JSON.stringify({ version: 1, peers }), { mode: 0o600 });
    const known = KnownPeers.open(file);
    assert.equal(known.size, MAX_PINNED_PEERS);
    assert.equal(known.full, true);
    assert.throws(() => known.remember('newcomer', alpha, time), /not pinning "newcomer": 1000 names are pinned already/);
    assert.equal(known.check('newcomer', alpha).status, 'new', 'nothing was pinned');
    assert.equal(known.remember('peer-7', peers[7]!.fingerprint, '2026-01-02T00:00:00.000Z'), 'seen');
    assert.equal(known.check('peer-7', beta).status, 'changed', 'the pins stay as they were');
    known.forget('peer-0');
    assert.equal(known.full, false);
    assert.equal(known.remember('newcomer', alpha, time), 'pinned');
    assert.equal(KnownPeers.open(file).size, MAX_PINNED_PEERS);
  });

  test('a damaged file is an error, never an empty list (that would trust every key again)', () => {
    const file = path.join(tempDir(), 'known_peers.json');
    for (const text of ['{', '[]', '{"version":1,"peers":[{"name":"bob","fingerprint":"xyz","firstSeen":"","lastSeen":""}]}', '{"version":2,"peers":[]}']) {
      writeFileSync(file, text, { mode: 0o600 });
      assert.throws(() => KnownPeers.open(file), /pinned peers file .* is damaged/, text);
    }
  });
});
