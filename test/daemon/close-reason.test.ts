// The one place that reads failure kinds from a session's close reason: what `chat connect`
// reports for each refusal, ours or theirs, depends on exactly these readings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUSY_REFUSAL, IDENTITY_REFUSAL, NEW_PEER_REFUSAL } from '../../src/daemon/admission.ts';
import { reasonOf, refusalOf } from '../../src/daemon/close-reason.ts';

test('reasonOf shows a session end as "connection closed: …"', () => {
  assert.equal(reasonOf(new Error('peer connection closed: timed out')), 'connection closed: timed out');
  assert.equal(reasonOf(new Error('peer left: bye')), 'peer left: bye');
  assert.equal(reasonOf('plain'), 'plain');
});

test('refusalOf tells our refusals from theirs, by kind', () => {
  const ours = (reason: string) => `connection closed: ${reason}`;
  const theirs = (reason: string) => `connection closed: peer left: ${reason}`;
  assert.deepEqual(refusalOf(ours(`${IDENTITY_REFUSAL}wrong key`)), { kind: 'identity', remote: false, detail: `${IDENTITY_REFUSAL}wrong key` });
  assert.deepEqual(refusalOf(theirs(`${IDENTITY_REFUSAL}wrong key`)), { kind: 'identity', remote: true, detail: `${IDENTITY_REFUSAL}wrong key` });
  assert.deepEqual(refusalOf(ours(`${NEW_PEER_REFUSAL}full`)), { kind: 'newPeer', remote: false, detail: `${NEW_PEER_REFUSAL}full` });
  // Another daemon's new-peer refusal is a kind of busy, as an older dialler reads it.
  assert.deepEqual(refusalOf(theirs(`${NEW_PEER_REFUSAL}full`)), { kind: 'busy', remote: true, detail: `${NEW_PEER_REFUSAL}full` });
  assert.deepEqual(refusalOf(ours(`${BUSY_REFUSAL}already connected to bob`)), { kind: 'busy', remote: false, detail: `${BUSY_REFUSAL}already connected to bob` });
  assert.deepEqual(refusalOf(theirs(`${BUSY_REFUSAL}already connected to bob`)), { kind: 'busy', remote: true, detail: `${BUSY_REFUSAL}already connected to bob` });
  assert.equal(refusalOf(ours('handshake timed out')), undefined);
});

test('refusalOf at adoption reads our own close reason: a new-peer refusal, or else one of the key', () => {
  assert.equal(refusalOf(`${NEW_PEER_REFUSAL}full`, true)?.kind, 'newPeer');
  assert.equal(refusalOf(`${IDENTITY_REFUSAL}cannot save the pins`, true)?.kind, 'identity');
  assert.equal(refusalOf(`peer left: ${NEW_PEER_REFUSAL}full`, true)?.kind, 'identity');
});
