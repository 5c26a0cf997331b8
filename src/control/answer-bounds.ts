/**
 * Keeps what one control message can cost within the control limits: a batch longer than
 * MAX_CONTROL_BATCH_LENGTH is refused with one error, and an answer larger than
 * MAX_CONTROL_ANSWER_BYTES is replaced by `answerTooLarge` errors, so a client always gets an answer.
 */
import type { JSONRPCResponse } from 'json-rpc-2.0';
import { MAX_CONTROL_ANSWER_BYTES, MAX_CONTROL_BATCH_LENGTH } from './limits.ts';
import { ErrorCode } from './protocol.ts';

/** JSON-RPC's own code for a request that is not a valid one. */
const INVALID_REQUEST = -32600;

/** The error answer for a batch with more than MAX_CONTROL_BATCH_LENGTH calls, or undefined when it may run. */
export function refuseLongBatch(payload: unknown): JSONRPCResponse | undefined {
  if (!Array.isArray(payload) || payload.length <= MAX_CONTROL_BATCH_LENGTH) return undefined;
  return {
    jsonrpc: '2.0',
    id: null,
    error: {
      code: INVALID_REQUEST,
      message: `a batch holds at most ${MAX_CONTROL_BATCH_LENGTH} calls (MAX_CONTROL_BATCH_LENGTH); this one has ${payload.length}, and none of them ran`,
    },
  };
}

/**
 * The answer as it may be sent: unchanged when it fits MAX_CONTROL_ANSWER_BYTES; otherwise the
 * largest responses (of a batch) are replaced by `answerTooLarge` errors until the rest fits.
 */
export function fitAnswer(answer: JSONRPCResponse | JSONRPCResponse[]): JSONRPCResponse | JSONRPCResponse[] {
  const responses = Array.isArray(answer) ? [...answer] : [answer];
  const sizes = responses.map((response) => Buffer.byteLength(JSON.stringify(response)));
  // The array's brackets and commas.
  let total = sizes.reduce((sum, size) => sum + size, 0) + responses.length + 1;
  const bySize = sizes.map((size, index) => ({ size, index })).sort((a, b) => b.size - a.size);
  for (const { size, index } of bySize) {
    if (total <= MAX_CONTROL_ANSWER_BYTES) break;
    const replacement = tooLarge(responses[index]!.id, size);
    responses[index] = replacement;
    total += Buffer.byteLength(JSON.stringify(replacement)) - size;
  }
  return Array.isArray(answer) ? responses : responses[0]!;
}

function tooLarge(id: JSONRPCResponse['id'], size: number): JSONRPCResponse {
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: ErrorCode.answerTooLarge,
      message: `the answer would be ${size} bytes, more than one control message carries (MAX_CONTROL_ANSWER_BYTES, ${MAX_CONTROL_ANSWER_BYTES}); ask for less in one message (fewer calls in a batch, a smaller history limit)`,
    },
  };
}
