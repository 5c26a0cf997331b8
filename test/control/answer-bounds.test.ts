// The bounds on one control message: batch length, and answers that would not fit one message.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JSONRPCResponse } from 'json-rpc-2.0';
import { fitAnswer, refuseLongBatch } from '../../src/control/answer-bounds.ts';
import { MAX_CONTROL_ANSWER_BYTES, MAX_CONTROL_BATCH_LENGTH } from '../../src/control/limits.ts';
import { ErrorCode } from '../../src/control/protocol.ts';

const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'status' });
const page = (id: number, bytes: number): JSONRPCResponse => ({ jsonrpc: '2.0', id, result: { text: 'x'.repeat(bytes) } });

describe('control answer bounds', () => {
  test(`a batch of up to ${MAX_CONTROL_BATCH_LENGTH} calls runs; a longer one is refused with one error`, () => {
    assert.equal(refuseLongBatch(call(1)), undefined);
    assert.equal(refuseLongBatch(Array.from({ length: MAX_CONTROL_BATCH_LENGTH }, (_, i) => call(i))), undefined);
    const refusal = refuseLongBatch(Array.from({ length: 300 }, (_, i) => call(i)));
    assert.equal(refusal?.id, null);
    assert.equal((refusal as { error: { code: number } }).error.code, -32600);
  });

  test('an answer that fits is unchanged', () => {
    const answer = [page(1, 1000), page(2, 1000)];
    assert.deepEqual(fitAnswer(answer), answer);
    assert.deepEqual(fitAnswer(page(3, 10)), page(3, 10));
  });

  test('the largest responses of a batch become answerTooLarge errors until the whole fits', () => {
    const part = Math.floor(MAX_CONTROL_ANSWER_BYTES / 10);
    // 4 + 0 + 5 + 4 + 4 tenths: without the 5, still 12 tenths; without one 4 as well, 8 fit.
    const answer = [page(1, 4 * part), page(2, 10), page(3, 5 * part), page(4, 4 * part), page(5, 4 * part)];
    const fitted = fitAnswer(answer) as JSONRPCResponse[];
    assert.deepEqual(fitted.map((response) => response.id), [1, 2, 3, 4, 5]);
    const errors = fitted.filter((response) => 'error' in response);
    assert.deepEqual(errors.map((response) => response.id).sort(), [1, 3]);
    for (const response of errors) assert.equal((response as { error: { code: number } }).error.code, ErrorCode.answerTooLarge);
    assert.ok(Buffer.byteLength(JSON.stringify(fitted)) <= MAX_CONTROL_ANSWER_BYTES);
  });

  test('a single response too large becomes one error with its id', () => {
    const fitted = fitAnswer(page(7, MAX_CONTROL_ANSWER_BYTES)) as JSONRPCResponse;
    assert.equal(fitted.id, 7);
    assert.equal((fitted as { error: { code: number } }).error.code, ErrorCode.answerTooLarge);
  });
});
