// Which refusal a session's end was, from its typed end only: what `chat connect` reports for each
// refusal, ours or theirs, depends on exactly these readings, and no text is searched for them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUSY_REFUSAL, IDENTITY_REFUSAL, NEW_PEER_REFUSAL } from '../../src/daemon/admission.ts';
import { reasonOf, refusalOf } from '../../src/daemon/close-reason.ts';
import type { SessionEnd } from '../../src/peer/session-end.ts';

const end = (kind: SessionEnd['kind'], remote: boolean, detail: string): SessionEnd => ({ kind, remote, detail });

test('reasonOf shows a session end as "connection closed: …"', () => {
  assert.equal(reasonOf(new Error('peer connection closed: timed out')), 'connection closed: timed out');
  assert.equal(reasonOf(new Error('peer left: bye')), 'peer left: bye');
  assert.equal(reasonOf('plain'), 'plain');
});

test('refusalOf tells our refusals from theirs, by kind', () => {
  const key = `${IDENTITY_REFUSAL}wrong key`;
  assert.deepEqual(refusalOf(end('identity', false, key), 'identity'), { kind: 'identity', remote: false, detail: key });
  assert.deepEqual(refusalOf(end('identity', true, key)), { kind: 'identity', remote: true, detail: key });
  const slot = `${BUSY_REFUSAL}already connected to bob`;
  assert.deepEqual(refusalOf(end('busy', false, slot), 'busy'), { kind: 'busy', remote: false, detail: slot });
  assert.deepEqual(refusalOf(end('busy', true, slot)), { kind: 'busy', remote: true, detail: slot });
});

test('a refused new name is ours to know: on the wire it is busy', () => {
  const full = `${NEW_PEER_REFUSAL}full`;
  assert.equal(refusalOf(end('busy', false, full), 'newPeer')?.kind, 'newPeer');
  // Another daemon's new-peer refusal arrives as busy, whatever our own last verdict was.
  assert.equal(refusalOf(end('busy', true, full), 'newPeer')?.kind, 'busy');
});

test('the text decides nothing: refusal words in another kind of end are no refusal', () => {
  assert.equal(refusalOf(end('peerLeft', true, `${IDENTITY_REFUSAL}wrong key`)), undefined);
  assert.equal(refusalOf(end('protocol', false, `${BUSY_REFUSAL}x`)), undefined);
  assert.equal(refusalOf(end('timeout', false, 'no handshake within 10000 ms')), undefined);
  assert.equal(refusalOf(undefined), undefined);
});
