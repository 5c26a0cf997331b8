import { isByeCode, type ByeCode } from './bye-codes.ts';
import { ProtocolError } from './errors.ts';
import {
  FRAME_HEADER_BYTES,
  MAX_FILE_NAME_BYTES,
  MAX_FILE_SIZE,
  MAX_FRAME_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_NAME_BYTES,
  MAX_PORT,
  MAX_REASON_BYTES,
  TRANSFER_ID_BYTES,
} from './limits.ts';
import { peerNameProblem } from './peer-name.ts';
import { UUID_PATTERN } from './uuid.ts';

/** Frame type codes (the byte after the length prefix). */
export const FrameType = {
  hello: 0x01,
  bye: 0x02,
  ping: 0x03,
  pong: 0x04,
  message: 0x10,
  messageAck: 0x11,
  fileOffer: 0x20,
  fileAccept: 0x21,
  fileDecline: 0x22,
  fileChunk: 0x23,
  fileEnd: 0x24,
  fileResult: 0x25,
  fileCancel: 0x26,
  fileCredit: 0x27,
} as const;

export type FrameTypeName = keyof typeof FrameType;

export interface HelloFrame {
  kind: 'hello';
  protocol: string;
  version: number;
  minVersion: number;
  name: string;
  /** Random per daemon run; tells two connections to the same daemon apart from two daemons. */
  instance: string;
  /** The port the sender listens on, so the receiver knows its dialable address. 0 = none. */
  listenPort: number;
}
/**
 * `code` (optional, one of BYE_CODES) says why in a form a program can act on; a BYE without one
 * (an older peer) or with a code this build does not know is read as having none.
 */
export interface ByeFrame { kind: 'bye'; reason: string; code?: ByeCode }
export interface PingFrame { kind: 'ping'; nonce: number }
export interface PongFrame { kind: 'pong'; nonce: number }
export interface MessageFrame { kind: 'message'; id: string; time: string; text: string }
export interface MessageAckFrame { kind: 'messageAck'; id: string }
export interface FileOfferFrame { kind: 'fileOffer'; id: string; name: string; size: number }
/** `offset` is where the sender starts: 0, or the bytes the receiver already holds of a transfer offered again. */
export interface FileAcceptFrame { kind: 'fileAccept'; id: string; offset: number }
/**
 * `later` (FILE_DECLINE and a failed FILE_RESULT only): the receiver keeps what it holds of the
 * file but has no room for the rest now; the sender keeps the transfer and offers it again later.
 */
export interface FileDeclineFrame { kind: 'fileDecline'; id: string; reason: string; later?: boolean }
export interface FileChunkFrame { kind: 'fileChunk'; id: string; data: Buffer }
export interface FileEndFrame { kind: 'fileEnd'; id: string; sha256: string }
export interface FileResultFrame {
  kind: 'fileResult';
  id: string;
  ok: boolean;
  /** The receiver's own hash of what it stored. */
  sha256: string;
  reason: string;
  /** With `ok: false` only: as FileDeclineFrame's `later`. */
  later?: boolean;
}
export interface FileCancelFrame { kind: 'fileCancel'; id: string; reason: string }
/** The receiver lets the sender send the transfer's bytes up to `until` (exclusive, at most its size). */
export interface FileCreditFrame { kind: 'fileCredit'; id: string; until: number }

export type Frame =
  | HelloFrame | ByeFrame | PingFrame | PongFrame
  | MessageFrame | MessageAckFrame
  | FileOfferFrame | FileAcceptFrame | FileDeclineFrame | FileChunkFrame
  | FileEndFrame | FileResultFrame | FileCancelFrame | FileCreditFrame;

const typeByCode = new Map<number, FrameTypeName>(
  Object.entries(FrameType).map(([name, code]) => [code, name as FrameTypeName]),
);

const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const ISO_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Serialises one frame, header included. */
export function encodeFrame(frame: Frame): Buffer {
  const code = FrameType[frame.kind];
  if (frame.kind === 'fileChunk') return Buffer.concat([encodeFileChunkHeader(uuidToBytes(frame.id), frame.data.length), frame.data]);
  const { kind: _kind, ...fields } = frame;
  const json = Buffer.from(JSON.stringify(fields), 'utf8');
  if (json.length + 1 > MAX_FRAME_BYTES) throw new RangeError(`${frame.kind} frame exceeds ${MAX_FRAME_BYTES} bytes`);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + json.length);
  out.writeUInt32BE(1 + json.length, 0);
  out.writeUInt8(code, 4);
  json.copy(out, FRAME_HEADER_BYTES);
  return out;
}

/**
 * The FILE_CHUNK header (length prefix, type, transfer id) for `dataBytes` of file data, so that
 * a sender can write header and data as two buffers without copying the data.
 */
export function encodeFileChunkHeader(idBytes: Buffer, dataBytes: number): Buffer {
  if (idBytes.length !== TRANSFER_ID_BYTES) throw new RangeError(`a transfer id is ${TRANSFER_ID_BYTES} bytes`);
  if (1 + TRANSFER_ID_BYTES + dataBytes > MAX_FRAME_BYTES) throw new RangeError(`fileChunk frame exceeds ${MAX_FRAME_BYTES} bytes`);
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES + TRANSFER_ID_BYTES);
  header.writeUInt32BE(1 + TRANSFER_ID_BYTES + dataBytes, 0);
  header.writeUInt8(FrameType.fileChunk, 4);
  idBytes.copy(header, FRAME_HEADER_BYTES);
  return header;
}

/**
 * Turns one frame body (type byte already split off) into a validated, typed frame.
 * Throws ProtocolError for anything that is not exactly what the protocol allows.
 */
export function parseFrame(code: number, payload: Buffer): Frame {
  const kind = typeByCode.get(code);
  if (kind === undefined) throw new ProtocolError(`unknown frame type 0x${code.toString(16).padStart(2, '0')}`);
  if (kind === 'fileChunk') {
    if (payload.length < TRANSFER_ID_BYTES) throw new ProtocolError('file chunk too short for its transfer id');
    return { kind, id: bytesToUuid(payload.subarray(0, TRANSFER_ID_BYTES)), data: payload.subarray(TRANSFER_ID_BYTES) };
  }
  const body = parseJsonObject(kind, payload);
  const field = new FieldReader(kind, body);
  switch (kind) {
    case 'hello':
      return {
        kind,
        protocol: field.text('protocol', MAX_NAME_BYTES),
        version: field.integer('version', 1, 0xffff),
        minVersion: field.integer('minVersion', 1, 0xffff),
        name: field.name('name'),
        instance: field.uuid('instance'),
        listenPort: field.integer('listenPort', 0, MAX_PORT),
      };
    case 'bye': {
      const reason = field.text('reason', MAX_REASON_BYTES);
      const code = field.byeCode('code');
      return code ? { kind, reason, code } : { kind, reason };
    }
    case 'ping':
    case 'pong':
      return { kind, nonce: field.integer('nonce', 0, Number.MAX_SAFE_INTEGER) };
    case 'message':
      return { kind, id: field.uuid('id'), time: field.time('time'), text: field.text('text', MAX_MESSAGE_BYTES, 1) };
    case 'messageAck':
      return { kind, id: field.uuid('id') };
    case 'fileOffer':
      return {
        kind,
        id: field.uuid('id'),
        name: field.text('name', MAX_FILE_NAME_BYTES, 1),
        size: field.integer('size', 0, MAX_FILE_SIZE),
      };
    case 'fileAccept':
      return { kind, id: field.uuid('id'), offset: field.integer('offset', 0, MAX_FILE_SIZE) };
    case 'fileDecline': {
      const decline: FileDeclineFrame = { kind, id: field.uuid('id'), reason: field.text('reason', MAX_REASON_BYTES) };
      if (field.optionalBoolean('later')) decline.later = true;
      return decline;
    }
    case 'fileEnd':
      return { kind, id: field.uuid('id'), sha256: field.sha256('sha256') };
    case 'fileResult': {
      const result: FileResultFrame = {
        kind,
        id: field.uuid('id'),
        ok: field.boolean('ok'),
        sha256: field.sha256OrEmpty('sha256'),
        reason: field.text('reason', MAX_REASON_BYTES),
      };
      if (field.optionalBoolean('later')) {
        if (result.ok) throw new ProtocolError('fileResult frame: "later" with "ok": true');
        result.later = true;
      }
      return result;
    }
    case 'fileCancel':
      return { kind, id: field.uuid('id'), reason: field.text('reason', MAX_REASON_BYTES) };
    case 'fileCredit':
      return { kind, id: field.uuid('id'), until: field.integer('until', 0, MAX_FILE_SIZE) };
  }
}

function parseJsonObject(kind: string, payload: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new ProtocolError(`${kind} frame is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(`${kind} frame is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Reads typed fields out of an untrusted JSON object; the first bad field ends the connection. */
class FieldReader {
  private readonly kind: string;
  private readonly body: Record<string, unknown>;

  constructor(kind: string, body: Record<string, unknown>) {
    this.kind = kind;
    this.body = body;
  }

  private fail(key: string, problem: string): never {
    throw new ProtocolError(`${this.kind} frame: field "${key}" ${problem}`);
  }

  text(key: string, maxBytes: number, minLength = 0): string {
    const value = this.body[key];
    if (typeof value !== 'string') this.fail(key, 'must be a string');
    if (value.length < minLength) this.fail(key, 'must not be empty');
    if (Buffer.byteLength(value, 'utf8') > maxBytes) this.fail(key, `exceeds ${maxBytes} bytes`);
    return value;
  }

  name(key: string): string {
    const value = this.text(key, MAX_NAME_BYTES, 1);
    const problem = peerNameProblem(value);
    if (problem) this.fail(key, problem.replace(/^the name /, ''));
    return value;
  }

  integer(key: string, min: number, max: number): number {
    const value = this.body[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) this.fail(key, 'must be an integer');
    if (value < min || value > max) this.fail(key, `must be between ${min} and ${max}`);
    return value;
  }

  boolean(key: string): boolean {
    const value = this.body[key];
    if (typeof value !== 'boolean') this.fail(key, 'must be a boolean');
    return value;
  }

  /** An optional boolean: absent is false. */
  optionalBoolean(key: string): boolean {
    return this.body[key] === undefined ? false : this.boolean(key);
  }

  uuid(key: string): string {
    const value = this.body[key];
    if (typeof value !== 'string' || !UUID_PATTERN.test(value)) this.fail(key, 'must be a lower-case UUID');
    return value;
  }

  sha256(key: string): string {
    const value = this.body[key];
    if (typeof value !== 'string' || !SHA256_PATTERN.test(value)) this.fail(key, 'must be a lower-case hex SHA-256');
    return value;
  }

  /**
   * An optional BYE code: absent, or a string that names no code of ours (a later version's), is
   * none; anything but a string is a violation, as for any field of the wrong type.
   */
  byeCode(key: string): ByeCode | undefined {
    const value = this.body[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') this.fail(key, 'must be a string');
    return isByeCode(value) ? value : undefined;
  }

  sha256OrEmpty(key: string): string {
    return this.body[key] === '' ? '' : this.sha256(key);
  }

  time(key: string): string {
    const value = this.text(key, 64, 1);
    if (!ISO_TIME_PATTERN.test(value) || Number.isNaN(Date.parse(value))) this.fail(key, 'must be an ISO 8601 time');
    return value;
  }
}

export function uuidToBytes(id: string): Buffer {
  if (!UUID_PATTERN.test(id)) throw new RangeError(`not a lower-case UUID: ${id}`);
  return Buffer.from(id.replaceAll('-', ''), 'hex');
}

export function bytesToUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
