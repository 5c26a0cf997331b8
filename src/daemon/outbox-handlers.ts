/**
 * The control methods of the outbox: `send` (queue, then wait a while for the delivery),
 * `outbox` (what waits, per peer) and `outbox.drop`.
 */
import {
  DEFAULT_SEND_WAIT_MS,
  ErrorCode,
  MAX_HISTORY_RESPONSE_BYTES,
  MAX_OUTBOX_LISTED,
  type OutboxDropParams,
  type OutboxDropResult,
  type OutboxResult,
  type SendParams,
  type SendResult,
} from '../control/protocol.ts';
import { ControlError } from '../control/server.ts';
import type { Outbox } from './outbox.ts';

export async function handleSend(outbox: Outbox, { text, id, waitMs = DEFAULT_SEND_WAIT_MS }: SendParams): Promise<SendResult> {
  const to = outbox.recipient();
  // Nobody was ever connected: there is no key to address the message to.
  if (!to) throw new ControlError(ErrorCode.notConnected, 'not connected to a peer; run "chat connect PORT" first');
  const { message, created } = await outbox.queue(text, to, id);
  if (!created && message.text !== text) {
    throw new ControlError(
      ErrorCode.invalidParams,
      `message ${message.id} was sent already, with another text: a retry must send the same text; a new message needs a new id`,
    );
  }
  const state = await outbox.settled(message.id, waitMs);
  if (state === 'dropped') {
    throw new ControlError(ErrorCode.notQueued, `message ${message.id} was dropped from the outbox (chat outbox drop); if it was already on its way it may still arrive, so check the peer's history before sending it again with a new id`);
  }
  return { id: message.id, time: message.time, to: message.to, fingerprint: message.fingerprint, state };
}

export function listOutbox(outbox: Outbox): OutboxResult {
  let bytes = 0;
  let truncated = false;
  const peers = outbox.list(MAX_OUTBOX_LISTED).map(({ name, fingerprint, count, messages }) => {
    const listed = [];
    for (const { id, seq, time, text } of messages) {
      const message = { id, seq, time, text };
      bytes += Buffer.byteLength(JSON.stringify(message));
      // Like a history page: within MAX_HISTORY_RESPONSE_BYTES, and never empty.
      if (listed.length > 0 && bytes > MAX_HISTORY_RESPONSE_BYTES) break;
      listed.push(message);
    }
    if (listed.length < count) truncated = true;
    return { name, fingerprint, count, messages: listed };
  });
  return { peers, truncated };
}

export async function dropFromOutbox(outbox: Outbox, params: OutboxDropParams): Promise<OutboxDropResult> {
  if ('all' in params) return { dropped: (await outbox.drop('all')).length };
  const dropped = await outbox.drop({ id: params.id });
  if (dropped.length === 0) {
    const state = outbox.stateOf(params.id);
    throw new ControlError(
      ErrorCode.notQueued,
      state === undefined ? `no message has the id ${params.id} (chat outbox lists the queued ones)` : `message ${params.id} is not queued: it was ${state} already`,
    );
  }
  return { dropped: dropped.length };
}
