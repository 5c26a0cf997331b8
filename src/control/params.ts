/**
 * The check of every control method's params, applied by the server before dispatch: a handler
 * receives exactly its ParamsOf<M>, or the caller gets `invalidParams` with what is wrong.
 */
import path from 'node:path';
import { parseFingerprint } from '../identity/fingerprint-notation.ts';
import { MAX_MESSAGE_BYTES, MAX_PORT } from '../wire/limits.ts';
import { peerNameProblem } from '../wire/peer-name.ts';
import { ControlError } from './control-error.ts';
import { ErrorCode, MAX_INVITE_MS, MAX_SEND_WAIT_MS, MAX_TRANSFER_WAIT_MS, MESSAGE_ID_PATTERN, type MethodName, type ParamsOf } from './protocol.ts';

/** Longest host name or address `connect` takes (a DNS name is at most 253 characters). */
const MAX_HOST_LENGTH = 255;

type Validators = { [M in MethodName]: (params: Record<string, unknown>) => ParamsOf<M> };

const none = (params: Record<string, unknown>): Record<string, never> => {
  only(params, []);
  return {};
};

const validators: Validators = {
  status: none,
  stop: none,
  disconnect: none,
  subscribe: none,
  identity: none,
  peers: none,
  outbox: none,
  transfers: none,
  'invite.cancel': none,
  connect(params) {
    only(params, ['host', 'port', 'fingerprint']);
    const { host, port, fingerprint } = params;
    if (typeof host !== 'string' || host.length === 0 || host.length > MAX_HOST_LENGTH) invalid('"host" must be a host name or address');
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > MAX_PORT) {
      invalid(`"port" must be an integer from 1 to ${MAX_PORT}`);
    }
    if (fingerprint === undefined) return { host, port };
    const expected = typeof fingerprint === 'string' ? parseFingerprint(fingerprint) : undefined;
    if (!expected) invalid('"fingerprint" must be 64 hex digits (SHA-256), as chat id prints it');
    return { host, port, fingerprint: expected };
  },
  send(params) {
    only(params, ['text', 'id', 'waitMs']);
    const { text, id, waitMs } = params;
    if (typeof text !== 'string' || text.length === 0) invalid('the message is empty');
    if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) invalid(`the message is longer than ${MAX_MESSAGE_BYTES} bytes`);
    const send: ParamsOf<'send'> = { text };
    if (id !== undefined) send.id = messageId(id);
    if (waitMs !== undefined) {
      if (typeof waitMs !== 'number' || !Number.isSafeInteger(waitMs) || waitMs < 0 || waitMs > MAX_SEND_WAIT_MS) {
        invalid(`"waitMs" must be an integer from 0 to ${MAX_SEND_WAIT_MS} (milliseconds)`);
      }
      send.waitMs = waitMs;
    }
    return send;
  },
  'outbox.drop'(params) {
    only(params, ['id', 'all']);
    const { id, all } = params;
    if ((id === undefined) === (all === undefined)) invalid('give "id" (one message) or "all": true, not both or neither');
    if (all !== undefined) {
      if (all !== true) invalid('"all" must be true');
      return { all };
    }
    return { id: messageId(id) };
  },
  transfer(params) {
    only(params, ['path', 'progress', 'waitMs']);
    const { path: file, progress, waitMs } = params;
    // The daemon's working directory is not the caller's: a relative path would name another file.
    if (typeof file !== 'string' || !path.isAbsolute(file)) invalid('transfer needs an absolute "path"');
    if (progress !== undefined && typeof progress !== 'boolean') invalid('"progress" must be true or false');
    const transfer: ParamsOf<'transfer'> = { path: file };
    if (progress !== undefined) transfer.progress = progress;
    if (waitMs !== undefined) {
      if (typeof waitMs !== 'number' || !Number.isSafeInteger(waitMs) || waitMs < 0 || waitMs > MAX_TRANSFER_WAIT_MS) {
        invalid(`"waitMs" must be an integer from 0 to ${MAX_TRANSFER_WAIT_MS} (milliseconds)`);
      }
      transfer.waitMs = waitMs;
    }
    return transfer;
  },
  history(params) {
    only(params, ['limit', 'after', 'before']);
    const { limit, after, before } = params;
    if (after !== undefined && before !== undefined) invalid('give "after" or "before", not both');
    const page: ParamsOf<'history'> = {};
    if (limit !== undefined) page.limit = count(limit, 'limit');
    if (after !== undefined) page.after = count(after, 'after');
    if (before !== undefined) page.before = count(before, 'before');
    return page;
  },
  'transfers.cancel'(params) {
    only(params, ['id']);
    const { id } = params;
    if (typeof id !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
      invalid('"id" must be a transfer id, as chat transfers lists it');
    }
    return { id };
  },
  'peers.forget'(params) {
    only(params, ['name']);
    const { name } = params;
    if (typeof name !== 'string' || name.length === 0) invalid('"name" must be a peer name');
    return { name };
  },
  'peers.add'(params) {
    only(params, ['name', 'fingerprint']);
    const { name, fingerprint } = params;
    if (typeof name !== 'string') invalid('"name" must be a peer name');
    const problem = peerNameProblem(name);
    if (problem) invalid(`"name" cannot be a peer name: ${problem}`);
    const parsed = typeof fingerprint === 'string' ? parseFingerprint(fingerprint) : undefined;
    if (!parsed) invalid('"fingerprint" must be 64 hex digits (SHA-256), as chat id prints it');
    return { name, fingerprint: parsed };
  },
  invite(params) {
    only(params, ['forMs']);
    const { forMs } = params;
    if (forMs === undefined) return {};
    if (typeof forMs !== 'number' || !Number.isSafeInteger(forMs) || forMs < 1 || forMs > MAX_INVITE_MS) {
      invalid(`"forMs" must be an integer from 1 to ${MAX_INVITE_MS} (milliseconds)`);
    }
    return { forMs };
  },
};

/** The params of `method` as its handler takes them; throws ControlError(invalidParams) otherwise. */
export function checkParams<M extends MethodName>(method: M, params: unknown): ParamsOf<M> {
  // JSON-RPC allows params to be omitted; by-position params (an array) name nothing here.
  if (params === undefined || params === null) params = {};
  if (typeof params !== 'object' || Array.isArray(params)) invalid(`the params of "${method}" must be an object`);
  return (validators[method] as (params: Record<string, unknown>) => ParamsOf<M>)(params as Record<string, unknown>);
}

/** A misspelt param is refused, not ignored: `{"progres": true}` would otherwise silently do nothing. */
function only(params: Record<string, unknown>, names: string[]): void {
  for (const key of Object.keys(params)) {
    if (!names.includes(key)) invalid(names.length === 0 ? `this method takes no params, got "${key}"` : `unknown param "${key}" (takes ${names.map((name) => `"${name}"`).join(', ')})`);
  }
}

/** A message id is a UUID; upper-case digits are taken, and stored as the peer protocol writes them. */
function messageId(value: unknown): string {
  const id = typeof value === 'string' ? value.toLowerCase() : undefined;
  if (id === undefined || !MESSAGE_ID_PATTERN.test(id)) invalid('"id" must be a UUID (8-4-4-4-12 hex digits)');
  return id;
}

function count(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) invalid(`"${name}" must be a non-negative integer`);
  return value;
}

function invalid(message: string): never {
  throw new ControlError(ErrorCode.invalidParams, message);
}
