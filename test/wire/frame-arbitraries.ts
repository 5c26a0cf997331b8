/** fast-check generators of valid frames, shared by the wire tests. */
import fc from 'fast-check';
import type { Frame } from '../../src/wire/frames.ts';
import {
  MAX_FILE_NAME_BYTES,
  MAX_FILE_SIZE,
  MAX_NAME_BYTES,
  MAX_REASON_BYTES,
} from '../../src/wire/limits.ts';

/** Plain objects only: a decoded frame is always an ordinary object. */
const record = <T extends Record<string, unknown>>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }) =>
  fc.record<T>(model, { noNullPrototype: true });

const fitsIn = (maxBytes: number) => (text: string) => Buffer.byteLength(text, 'utf8') <= maxBytes;

/** Any UTF-16 code unit, lone surrogates included, or any full code point. */
const anyUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);

const anyText = (maxBytes: number, minLength = 0) =>
  fc.string({ unit: anyUnit, minLength, maxLength: 40 }).filter(fitsIn(maxBytes));

const uuid = fc.uuid();
const sha256 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('hex'));
const time = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true })
  .map((date) => date.toISOString());
/** A name HELLO accepts: not blank, within the limit, no C0 control or DEL (as src/wire/peer-name.ts). */
const peerName = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 16 })
  // eslint-disable-next-line no-control-regex
  .filter((name) => name.trim() !== '' && fitsIn(MAX_NAME_BYTES)(name) && !/[\u0000-\u001f\u007f]/.test(name));
const u16 = (min: number) => fc.integer({ min, max: 0xffff });
const size = fc.oneof(fc.nat(), fc.constant(0), fc.constant(MAX_FILE_SIZE));

export const frameArbitrary: fc.Arbitrary<Frame> = fc.oneof(
  record({
    kind: fc.constant('hello' as const),
    protocol: anyText(MAX_NAME_BYTES),
    version: u16(1),
    minVersion: u16(1),
    name: peerName,
    instance: uuid,
    listenPort: u16(0),
  }),
  record({ kind: fc.constant('bye' as const), reason: anyText(MAX_REASON_BYTES) }),
  record({ kind: fc.constant('ping' as const), nonce: fc.maxSafeNat() }),
  record({ kind: fc.constant('pong' as const), nonce: fc.maxSafeNat() }),
  record({ kind: fc.constant('message' as const), id: uuid, time, text: anyText(1024, 1) }),
  record({ kind: fc.constant('messageAck' as const), id: uuid }),
  record({ kind: fc.constant('fileOffer' as const), id: uuid, name: anyText(MAX_FILE_NAME_BYTES, 1), size }),
  record({ kind: fc.constant('fileAccept' as const), id: uuid, offset: size }),
  record({ kind: fc.constant('fileDecline' as const), id: uuid, reason: anyText(MAX_REASON_BYTES) }),
  record({
    kind: fc.constant('fileChunk' as const),
    id: uuid,
    data: fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)),
  }),
  record({ kind: fc.constant('fileEnd' as const), id: uuid, sha256 }),
  record({
    kind: fc.constant('fileResult' as const),
    id: uuid,
    ok: fc.boolean(),
    sha256: fc.oneof(sha256, fc.constant('')),
    reason: anyText(MAX_REASON_BYTES),
  }),
  record({ kind: fc.constant('fileCancel' as const), id: uuid, reason: anyText(MAX_REASON_BYTES) }),
  record({ kind: fc.constant('fileCredit' as const), id: uuid, until: size }),
);
