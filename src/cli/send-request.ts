/**
 * What `chat send` does past composing its text, shared by the oclif command and the fast path so
 * that both behave the same: its --timeout and --id values, the request, and the line each answer prints.
 */
import { SEND_ANSWER_MARGIN_MS, type ControlClient } from '../control/client.ts';
import { DEFAULT_SEND_WAIT_MS, MAX_SEND_WAIT_MS, MESSAGE_ID_PATTERN, type SendParams, type SendResult } from '../control/protocol.ts';
import { human, paint, type HumanText } from './output.ts';

export const DEFAULT_TIMEOUT_SECONDS = DEFAULT_SEND_WAIT_MS / 1000;
export const MAX_TIMEOUT_SECONDS = MAX_SEND_WAIT_MS / 1000;

/** --timeout SECONDS in milliseconds: a number from 0 to MAX_TIMEOUT_SECONDS, decimals allowed; undefined for anything else. */
export function parseTimeoutSeconds(text: string): number | undefined {
  if (!/^\d{1,7}(\.\d{1,3})?$/.test(text)) return undefined;
  const ms = Math.round(Number(text) * 1000);
  return ms <= MAX_SEND_WAIT_MS ? ms : undefined;
}

export const TIMEOUT_PROBLEM = `expected seconds from 0 to ${MAX_TIMEOUT_SECONDS} (decimals allowed)`;

/** --id UUID as the peer protocol writes it (lower case); undefined when it is not a UUID. */
export function parseMessageId(text: string): string | undefined {
  const id = text.toLowerCase();
  return MESSAGE_ID_PATTERN.test(id) ? id : undefined;
}

export const ID_PROBLEM = 'expected a UUID (8-4-4-4-12 hex digits), e.g. from uuidgen';

/** Queues the message and waits up to `waitMs` for the peer's acknowledgement. */
export function requestSend(client: ControlClient, params: SendParams): Promise<SendResult> {
  return client.request('send', params, (params.waitMs ?? DEFAULT_SEND_WAIT_MS) + SEND_ANSWER_MARGIN_MS);
}

/** What `chat send` prints for a person; exit code 4 goes with `queued`. */
export function sendOutcomeLine(result: SendResult): HumanText {
  // An answer without `state` comes from a daemon that answered only once delivered.
  return result.state === 'queued'
    ? human`${paint('notice', 'queued')} for ${paint('name', result.to)}, not delivered yet: it will be sent when ${result.to} is reachable (chat outbox)`
    : human`${paint('good', 'delivered')} to ${paint('name', result.to)}`;
}
