// The server checks every method's params before its handler runs (src/control/params.ts): a
// handler gets exactly its ParamsOf<M>, anything else is invalidParams with what is wrong.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ControlError } from '../../src/control/control-error.ts';
import { checkParams } from '../../src/control/params.ts';
import { ErrorCode, MAX_INVITE_MS, MAX_MESSAGE_BYTES, MAX_SEND_WAIT_MS, type MethodName } from '../../src/control/protocol.ts';
import { MAX_PORT } from '../../src/wire/limits.ts';

const METHODS: MethodName[] = ['status', 'stop', 'connect', 'disconnect', 'send', 'transfer', 'history', 'subscribe', 'identity', 'peers', 'peers.forget', 'peers.add', 'invite', 'invite.cancel', 'outbox', 'outbox.drop', 'transfers', 'transfers.cancel'];
const ID = '5f0c8a52-8a47-4b1e-9d61-2f1c3c1b7e01';
const FINGERPRINT = 'ab'.repeat(32);

function refused(method: MethodName, params: unknown, message?: RegExp): void {
  assert.throws(
    () => checkParams(method, params),
    (error: unknown) => error instanceof ControlError && error.code === ErrorCode.invalidParams && (!message || message.test(error.message)),
    `${method} ${JSON.stringify(params)}`,
  );
}

describe('control params', () => {
  test('methods without params take nothing, omitted or {}; anything else is refused', () => {
    for (const method of ['status', 'stop', 'disconnect', 'subscribe', 'identity', 'peers', 'outbox', 'invite.cancel'] as const) {
      assert.deepEqual(checkParams(method, undefined), {});
      assert.deepEqual(checkParams(method, {}), {});
      refused(method, { now: true }, /takes no params, got "now"/);
      refused(method, ['x'], /must be an object/);
      refused(method, 'x', /must be an object/);
    }
  });

  test('connect', () => {
    assert.deepEqual(checkParams('connect', { host: '127.0.0.1', port: 7001 }), { host: '127.0.0.1', port: 7001 });
    // Any notation chat id prints is accepted, and handed on normalised.
    const grouped = FINGERPRINT.match(/.{4}/g)!.join(' ').toUpperCase();
    assert.deepEqual(checkParams('connect', { host: 'h', port: MAX_PORT, fingerprint: grouped }), { host: 'h', port: MAX_PORT, fingerprint: FINGERPRINT });
    for (const port of [0, MAX_PORT + 1, 1.5, '7001', null]) refused('connect', { host: 'h', port }, /"port"/);
    for (const host of ['', 7, 'h'.repeat(256)]) refused('connect', { host, port: 1 }, /"host"/);
    for (const fingerprint of ['abc', 42, FINGERPRINT + 'a']) refused('connect', { host: 'h', port: 1, fingerprint }, /"fingerprint"/);
    refused('connect', { host: 'h', port: 1, fingerprnt: FINGERPRINT }, /unknown param "fingerprnt"/);
  });

  test('send', () => {
    assert.deepEqual(checkParams('send', { text: 'hi' }), { text: 'hi' });
    assert.deepEqual(checkParams('send', { text: '€'.repeat(MAX_MESSAGE_BYTES / 4) }), { text: '€'.repeat(MAX_MESSAGE_BYTES / 4) });
    refused('send', {}, /empty/);
    refused('send', { text: '' }, /empty/);
    refused('send', { text: 5 }, /empty/);
    refused('send', { text: 'x'.repeat(MAX_MESSAGE_BYTES + 1) }, /longer than/);
    refused('send', { text: 'hi', to: 'bob' }, /unknown param "to"/);
    // A caller's id, in any case, is handed on as the peer protocol writes it.
    assert.deepEqual(checkParams('send', { text: 'hi', id: ID.toUpperCase(), waitMs: 0 }), { text: 'hi', id: ID, waitMs: 0 });
    assert.deepEqual(checkParams('send', { text: 'hi', waitMs: MAX_SEND_WAIT_MS }), { text: 'hi', waitMs: MAX_SEND_WAIT_MS });
    for (const id of ['', 'x', 42, `${ID}0`, ID.replaceAll('-', '')]) refused('send', { text: 'hi', id }, /"id" must be a UUID/);
    for (const waitMs of [-1, 1.5, '10', MAX_SEND_WAIT_MS + 1, null]) refused('send', { text: 'hi', waitMs }, /"waitMs"/);
  });

  test('outbox.drop', () => {
    assert.deepEqual(checkParams('outbox.drop', { id: ID }), { id: ID });
    assert.deepEqual(checkParams('outbox.drop', { all: true }), { all: true });
    refused('outbox.drop', {}, /not both or neither/);
    refused('outbox.drop', { id: ID, all: true }, /not both or neither/);
    refused('outbox.drop', { all: false }, /"all" must be true/);
    refused('outbox.drop', { id: 'x' }, /"id" must be a UUID/);
    refused('outbox.drop', { ids: [ID] }, /unknown param "ids"/);
  });

  test('transfer', () => {
    assert.deepEqual(checkParams('transfer', { path: '/tmp/f' }), { path: '/tmp/f' });
    assert.deepEqual(checkParams('transfer', { path: '/tmp/f', progress: true }), { path: '/tmp/f', progress: true });
    refused('transfer', { path: 'f' }, /absolute/);
    refused('transfer', { path: '/tmp/f', progress: 'yes' }, /"progress"/);
    // A misspelt option must not silently do nothing.
    refused('transfer', { path: '/tmp/f', progres: true }, /unknown param "progres"/);
  });

  test('history', () => {
    assert.deepEqual(checkParams('history', {}), {});
    assert.deepEqual(checkParams('history', { limit: 0, after: 5 }), { limit: 0, after: 5 });
    assert.deepEqual(checkParams('history', { before: 9 }), { before: 9 });
    refused('history', { after: 1, before: 2 }, /not both/);
    for (const bad of [-1, 1.5, '3', Number.MAX_SAFE_INTEGER + 1]) {
      refused('history', { limit: bad }, /"limit"/);
      refused('history', { after: bad }, /"after"/);
      refused('history', { before: bad }, /"before"/);
    }
  });

  test('transfers.cancel', () => {
    const id = '5f0c8a52-8a47-4b1e-9d61-2f1c3c1b7e01';
    assert.deepEqual(checkParams('transfers.cancel', { id }), { id });
    refused('transfers.cancel', {}, /"id" must be a transfer id/);
    refused('transfers.cancel', { id: 'nope' }, /"id" must be a transfer id/);
    refused('transfers.cancel', { id, all: true }, /unknown param "all"/);
  });

  test('peers.forget', () => {
    assert.deepEqual(checkParams('peers.forget', { name: 'bob' }), { name: 'bob' });
    refused('peers.forget', {}, /"name"/);
    refused('peers.forget', { name: '' }, /"name"/);
  });

  test('peers.add', () => {
    const key = 'ab'.repeat(32);
    assert.deepEqual(checkParams('peers.add', { name: 'bob', fingerprint: `SHA256:${key.toUpperCase()}` }), { name: 'bob', fingerprint: key });
    refused('peers.add', { name: 'bob' }, /"fingerprint" must be 64 hex digits/);
    refused('peers.add', { name: ' ', fingerprint: key }, /"name" cannot be a peer name: the name is empty/);
    refused('peers.add', { name: 'a\nb', fingerprint: key }, /control characters/);
    refused('peers.add', { name: 'bob', fingerprint: key, first: true }, /unknown param "first"/);
  });

  test('invite', () => {
    assert.deepEqual(checkParams('invite', {}), {});
    assert.deepEqual(checkParams('invite', { forMs: 60_000 }), { forMs: 60_000 });
    assert.deepEqual(checkParams('invite', { forMs: MAX_INVITE_MS }), { forMs: MAX_INVITE_MS });
    for (const forMs of [0, -1, 1.5, MAX_INVITE_MS + 1, '600000']) refused('invite', { forMs }, /"forMs" must be an integer from 1 to 86400000/);
  });

  test('any JSON value as params: a typed result or invalidParams, never another error', () => {
    fc.assert(
      fc.property(fc.constantFrom(...METHODS), fc.jsonValue(), (method, params) => {
        try {
          checkParams(method, params);
        } catch (error) {
          assert.ok(error instanceof ControlError && error.code === ErrorCode.invalidParams, String(error));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
