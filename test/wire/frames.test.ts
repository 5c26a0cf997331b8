import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { BYE_CODES, isByeCode } from '../../src/wire/bye-codes.ts';
import { FrameDecoder } from '../../src/wire/decoder.ts';
import { ProtocolError } from '../../src/wire/errors.ts';
import {
  FrameType,
  bytesToUuid,
  encodeFrame,
  parseFrame,
  uuidToBytes,
  type Frame,
  type FrameTypeName,
} from '../../src/wire/frames.ts';
import {
  FRAME_HEADER_BYTES,
  MAX_FILE_NAME_BYTES,
  MAX_FRAME_BYTES,
  MAX_HELLO_FRAME_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_NAME_BYTES,
  MAX_REASON_BYTES,
  TRANSFER_ID_BYTES,
} from '../../src/wire/limits.ts';
import { frameArbitrary } from './frame-arbitraries.ts';

const ID = '3f2b8c1e-9a4d-4e6f-8b7a-0c1d2e3f4a5b';
const SHA = 'ab'.repeat(32);
const TIME = '2025-01-02T03:04:05.678Z';

/** One valid example of every frame kind, so a new kind without an example is noticed below. */
const examples: Record<FrameTypeName, Frame> = {
  hello: {
    kind: 'hello', protocol: 'chat-peer', version: 1, minVersion: 1, name: 'alice', instance: ID, listenPort: 4567,
  },
  bye: { kind: 'bye', reason: 'shutting down' },
  ping: { kind: 'ping', nonce: 42 },
  pong: { kind: 'pong', nonce: Number.MAX_SAFE_INTEGER },
  message: { kind: 'message', id: ID, time: TIME, text: 'héllo 👋\nsecond line' },
  messageAck: { kind: 'messageAck', id: ID },
  fileOffer: { kind: 'fileOffer', id: ID, name: 'report.pdf', size: 123_456 },
  fileAccept: { kind: 'fileAccept', id: ID, offset: 0 },
  fileDecline: { kind: 'fileDecline', id: ID, reason: 'busy' },
  fileChunk: { kind: 'fileChunk', id: ID, data: Buffer.from(Array.from({ length: 256 }, (_, i) => i)) },
  fileEnd: { kind: 'fileEnd', id: ID, sha256: SHA },
  fileResult: { kind: 'fileResult', id: ID, ok: true, sha256: SHA, reason: '' },
  fileCancel: { kind: 'fileCancel', id: ID, reason: 'user cancelled' },
  fileCredit: { kind: 'fileCredit', id: ID, until: 4 * 1024 * 1024 },
};

/** Decodes one complete encoded frame through a fresh decoder and insists on exactly one result. */
function decodeOne(bytes: Buffer): Frame {
  const decoder = new FrameDecoder();
  const frames = decoder.push(bytes);
  assert.equal(frames.length, 1, 'exactly one frame');
  assert.equal(decoder.bufferedBytes, 0, 'nothing left over');
  return frames[0]!;
}

/** A raw frame: length prefix + type byte + payload, no validation at all. */
function rawFrame(code: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32BE(1 + body.length, 0);
  header.writeUInt8(code, 4);
  return Buffer.concat([header, body]);
}

/** JSON payload of a frame kind, for parseFrame. */
function jsonPayload(fields: Record<string, unknown> | unknown): Buffer {
  return Buffer.from(JSON.stringify(fields), 'utf8');
}

/** Asserts that parsing `fields` as `kind` fails with a ProtocolError naming `field`. */
function assertFieldRejected(kind: FrameTypeName, fields: Record<string, unknown>, field: string): void {
  assert.throws(
    () => parseFrame(FrameType[kind], jsonPayload(fields)),
    (error: unknown) => {
      assert.ok(error instanceof ProtocolError, `expected ProtocolError, got ${String(error)}`);
      assert.match(error.message, new RegExp(`"${field}"`));
      return true;
    },
  );
}

/** The JSON fields of an example frame (everything but `kind`), ready to be broken one at a time. */
function fieldsOf(kind: Exclude<FrameTypeName, 'fileChunk'>): Record<string, unknown> {
  const { kind: _kind, ...fields } = examples[kind] as Frame & Record<string, unknown>;
  return fields;
}

describe('encodeFrame / parseFrame', { timeout: 30_000 }, () => {
  test('every frame type code has an example (keeps the round-trip table complete)', () => {
    assert.deepEqual(Object.keys(examples).sort(), Object.keys(FrameType).sort());
  });

  for (const [kind, frame] of Object.entries(examples)) {
    test(`round trip of ${kind}`, () => {
      const bytes = encodeFrame(frame);
      assert.equal(bytes.readUInt32BE(0), bytes.length - 4, 'length prefix counts type byte + payload');
      assert.equal(bytes.readUInt8(4), FrameType[frame.kind], 'type byte');
      assert.deepEqual(decodeOne(bytes), frame);
    });
  }

  test('fileChunk carries the transfer id as 16 raw bytes followed by the data verbatim', () => {
    const data = Buffer.from([0x00, 0xff, 0x7b, 0x22, 0x0a, 0x0d]);
    const bytes = encodeFrame({ kind: 'fileChunk', id: ID, data });
    assert.equal(bytes.length, FRAME_HEADER_BYTES + TRANSFER_ID_BYTES + data.length);
    assert.deepEqual(bytes.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + TRANSFER_ID_BYTES), uuidToBytes(ID));
    assert.deepEqual(bytes.subarray(FRAME_HEADER_BYTES + TRANSFER_ID_BYTES), data);
  });

  test('fileChunk with no data round-trips', () => {
    assert.deepEqual(decodeOne(encodeFrame({ kind: 'fileChunk', id: ID, data: Buffer.alloc(0) })), {
      kind: 'fileChunk', id: ID, data: Buffer.alloc(0),
    });
  });

  test('fileResult with ok=false and an empty sha256 round-trips', () => {
    const frame: Frame = { kind: 'fileResult', id: ID, ok: false, sha256: '', reason: 'hash mismatch' };
    assert.deepEqual(decodeOne(encodeFrame(frame)), frame);
  });

  test('"later" on FILE_DECLINE and a failed FILE_RESULT round-trips; false reads as absent; on a success it is a violation', () => {
    for (const frame of [
      { kind: 'fileDecline', id: ID, reason: 'no room', later: true },
      { kind: 'fileResult', id: ID, ok: false, sha256: '', reason: 'disk full', later: true },
    ] satisfies Frame[]) {
      assert.deepEqual(decodeOne(encodeFrame(frame)), frame);
      const { later: _later, ...without } = frame;
      assert.deepEqual(decodeOne(encodeFrame({ ...frame, later: false })), without);
    }
    assertFieldRejected('fileDecline', { ...fieldsOf('fileDecline'), later: 'yes' }, 'later');
    assert.throws(() => decodeOne(encodeFrame({ kind: 'fileResult', id: ID, ok: true, sha256: SHA, reason: '', later: true })),
      /fileResult frame: "later" with "ok": true/);
  });

  test('random frames of every kind round-trip (property)', () => {
    fc.assert(
      fc.property(frameArbitrary, (frame) => {
        assert.deepEqual(decodeOne(encodeFrame(frame)), frame);
      }),
      { numRuns: 300 },
    );
  });

  test('encodeFrame refuses a JSON frame larger than MAX_FRAME_BYTES', () => {
    const reason = 'x'.repeat(MAX_FRAME_BYTES);
    assert.throws(() => encodeFrame({ kind: 'bye', reason }), RangeError);
  });

  test(
    'encodeFrame refuses a fileChunk larger than MAX_FRAME_BYTES (the decoder would reject it)',
    () => {
      const data = Buffer.alloc(MAX_FRAME_BYTES);
      assert.throws(() => encodeFrame({ kind: 'fileChunk', id: ID, data }), RangeError);
    },
  );
});

describe('message text limit', { timeout: 30_000 }, () => {
  test('a text of exactly MAX_MESSAGE_BYTES in 4-byte characters passes', () => {
    const text = '😀'.repeat(MAX_MESSAGE_BYTES / 4);
    assert.equal(Buffer.byteLength(text), MAX_MESSAGE_BYTES);
    const frame: Frame = { kind: 'message', id: ID, time: TIME, text };
    assert.deepEqual(decodeOne(encodeFrame(frame)), frame);
  });

  test('a text of exactly MAX_MESSAGE_BYTES mixing 3-byte and 1-byte characters passes', () => {
    const text = '€'.repeat(Math.floor(MAX_MESSAGE_BYTES / 3)) + 'a'.repeat(MAX_MESSAGE_BYTES % 3);
    assert.equal(Buffer.byteLength(text), MAX_MESSAGE_BYTES);
    const frame: Frame = { kind: 'message', id: ID, time: TIME, text };
    assert.deepEqual(decodeOne(encodeFrame(frame)), frame);
  });

  test('one byte more than MAX_MESSAGE_BYTES is rejected', () => {
    const text = '€'.repeat(Math.floor(MAX_MESSAGE_BYTES / 3)) + 'a'.repeat((MAX_MESSAGE_BYTES % 3) + 1);
    assert.equal(Buffer.byteLength(text), MAX_MESSAGE_BYTES + 1);
    assert.throws(() => decodeOne(encodeFrame({ kind: 'message', id: ID, time: TIME, text })), ProtocolError);
  });

  test('a maximal text of control characters (worst JSON escaping) still fits in one frame', () => {
    const text = '\u0001'.repeat(MAX_MESSAGE_BYTES);
    const frame: Frame = { kind: 'message', id: ID, time: TIME, text };
    const bytes = encodeFrame(frame);
    assert.ok(bytes.length - 4 <= MAX_FRAME_BYTES);
    assert.deepEqual(decodeOne(bytes), frame);
  });
});

describe('parseFrame rejects what the protocol does not allow', { timeout: 30_000 }, () => {
  test('the unmodified examples parse (so each rejection below is caused by its one change)', () => {
    for (const [kind, frame] of Object.entries(examples)) {
      if (frame.kind === 'fileChunk') continue;
      const code = FrameType[kind as FrameTypeName];
      assert.deepEqual(parseFrame(code, jsonPayload(fieldsOf(frame.kind))), frame);
    }
  });

  test('unknown type byte', () => {
    const known = new Set<number>(Object.values(FrameType));
    for (let code = 0; code < 256; code++) {
      if (known.has(code)) continue;
      assert.throws(() => parseFrame(code, jsonPayload({})), ProtocolError, `type 0x${code.toString(16)}`);
      assert.throws(() => new FrameDecoder().push(rawFrame(code, '{}')), ProtocolError);
    }
  });

  test('invalid JSON', () => {
    for (const payload of ['', '{', '{"reason": "x"', 'not json', '\u0000', '{"reason":"x"}garbage', "{'reason':'x'}"]) {
      assert.throws(() => parseFrame(FrameType.bye, Buffer.from(payload)), ProtocolError, JSON.stringify(payload));
    }
    assert.throws(() => parseFrame(FrameType.bye, Buffer.from([0xff, 0xfe, 0x00])), ProtocolError);
  });

  test('JSON that is not an object (array, null, string, number)', () => {
    for (const value of [[], [fieldsOf('bye')], null, 'bye', 7, true]) {
      assert.throws(
        () => parseFrame(FrameType.bye, jsonPayload(value)),
        (error: unknown) => error instanceof ProtocolError && /not a JSON object/.test(error.message),
        JSON.stringify(value),
      );
    }
  });

  test('missing fields', () => {
    assertFieldRejected('message', { id: ID, time: TIME }, 'text');
    assertFieldRejected('hello', { ...fieldsOf('hello'), instance: undefined }, 'instance');
    assertFieldRejected('fileEnd', { id: ID }, 'sha256');
  });

  test('non-UUID ids', () => {
    for (const id of [ID.toUpperCase(), ID.replaceAll('-', ''), `${ID}0`, ID.slice(1), 'g'.repeat(8) + ID.slice(8), '', 123, null]) {
      assertFieldRejected('messageAck', { id }, 'id');
      assertFieldRejected('fileOffer', { ...fieldsOf('fileOffer'), id }, 'id');
    }
    assertFieldRejected('hello', { ...fieldsOf('hello'), instance: 'not-a-uuid' }, 'instance');
  });

  test('non-hex or wrong-length sha256', () => {
    for (const sha256 of [SHA.toUpperCase(), SHA.slice(1), `${SHA}0`, 'g'.repeat(64), '', 0, null]) {
      assertFieldRejected('fileEnd', { id: ID, sha256 }, 'sha256');
    }
    assertFieldRejected('fileResult', { ...fieldsOf('fileResult'), sha256: 'z'.repeat(64) }, 'sha256');
  });

  test('wrong types', () => {
    assertFieldRejected('message', { ...fieldsOf('message'), text: 42 }, 'text');
    assertFieldRejected('message', { ...fieldsOf('message'), text: ['hi'] }, 'text');
    assertFieldRejected('message', { ...fieldsOf('message'), time: 1_700_000_000_000 }, 'time');
    assertFieldRejected('fileOffer', { ...fieldsOf('fileOffer'), size: '5' }, 'size');
    assertFieldRejected('fileOffer', { ...fieldsOf('fileOffer'), size: 1.5 }, 'size');
    assertFieldRejected('fileResult', { ...fieldsOf('fileResult'), ok: 'true' }, 'ok');
    assertFieldRejected('fileResult', { ...fieldsOf('fileResult'), ok: 1 }, 'ok');
    assertFieldRejected('ping', { nonce: '1' }, 'nonce');
    assertFieldRejected('ping', { nonce: 2 ** 53 }, 'nonce');
    assertFieldRejected('bye', { reason: null }, 'reason');
    assertFieldRejected('hello', { ...fieldsOf('hello'), version: '1' }, 'version');
  });

  test('empty message text', () => {
    assertFieldRejected('message', { ...fieldsOf('message'), text: '' }, 'text');
  });

  test('too-long texts', () => {
    assertFieldRejected('message', { ...fieldsOf('message'), text: 'a'.repeat(MAX_MESSAGE_BYTES + 1) }, 'text');
    assertFieldRejected('bye', { reason: 'é'.repeat(MAX_REASON_BYTES / 2) + 'x' }, 'reason');
    assertFieldRejected('fileOffer', { ...fieldsOf('fileOffer'), name: 'n'.repeat(MAX_FILE_NAME_BYTES + 1) }, 'name');
    assertFieldRejected('hello', { ...fieldsOf('hello'), name: 'n'.repeat(MAX_NAME_BYTES + 1) }, 'name');
    assertFieldRejected('hello', { ...fieldsOf('hello'), protocol: 'p'.repeat(MAX_NAME_BYTES + 1) }, 'protocol');
    // The limits are inclusive.
    assert.doesNotThrow(() => parseFrame(FrameType.bye, jsonPayload({ reason: 'é'.repeat(MAX_REASON_BYTES / 2) })));
  });

  test('empty file name in an offer', () => {
    assertFieldRejected('fileOffer', { ...fieldsOf('fileOffer'), name: '' }, 'name');
  });

  test('peer name with control characters, or empty', () => {
    for (const name of ['al\u0000ice', 'al\u001bice', 'alice\n', '\tbob', 'del\u007f', '', '   ']) {
      assertFieldRejected('hello', { ...fieldsOf('hello'), name }, 'name');
    }
    assert.doesNotThrow(() => parseFrame(FrameType.hello, jsonPayload({ ...fieldsOf('hello'), name: 'Zoë 🦊' })));
  });

  test('version, minVersion and listenPort out of range', () => {
    for (const version of [0, -1, 0x10000]) {
      assertFieldRejected('hello', { ...fieldsOf('hello'), version }, 'version');
      assertFieldRejected('hello', { ...fieldsOf('hello'), minVersion: version }, 'minVersion');
    }
    assertFieldRejected('hello', { ...fieldsOf('hello'), listenPort: 65536 }, 'listenPort');
    assertFieldRejected('hello', { ...fieldsOf('hello'), listenPort: -1 }, 'listenPort');
    assert.doesNotThrow(() => parseFrame(FrameType.hello, jsonPayload({ ...fieldsOf('hello'), version: 0xffff, listenPort: 0 })));
  });

  test('negative size, offset and nonce', () => {
    assertFieldRejected('fileOffer', { ...fieldsOf('fileOffer'), size: -1 }, 'size');
    assertFieldRejected('fileAccept', { id: ID, offset: -1 }, 'offset');
    assertFieldRejected('pong', { nonce: -1 }, 'nonce');
  });

  test('message time that is not a date', () => {
    for (const time of ['', 'yesterday', '2025-13-45T99:99:99Z', 'x'.repeat(65)]) {
      assertFieldRejected('message', { ...fieldsOf('message'), time }, 'time');
    }
  });

  test(
    'message time that Date.parse accepts but is not ISO 8601',
    () => {
      for (const time of ['1', 'hello 2', 'Jan 1 2020']) {
        assertFieldRejected('message', { ...fieldsOf('message'), time }, 'time');
      }
    },
  );

  test('empty sha256 is only accepted by fileResult', () => {
    assert.equal((parseFrame(FrameType.fileResult, jsonPayload({ ...fieldsOf('fileResult'), sha256: '' })) as { sha256: string }).sha256, '');
    assertFieldRejected('fileEnd', { id: ID, sha256: '' }, 'sha256');
  });

  test('fileChunk shorter than its transfer id', () => {
    for (let length = 0; length < TRANSFER_ID_BYTES; length++) {
      assert.throws(() => parseFrame(FrameType.fileChunk, Buffer.alloc(length)), ProtocolError);
    }
    assert.doesNotThrow(() => parseFrame(FrameType.fileChunk, Buffer.alloc(TRANSFER_ID_BYTES)));
  });
});

describe('uuidToBytes / bytesToUuid', { timeout: 30_000 }, () => {
  test('known value', () => {
    const bytes = uuidToBytes(ID);
    assert.equal(bytes.length, TRANSFER_ID_BYTES);
    assert.equal(bytes.toString('hex'), ID.replaceAll('-', ''));
    assert.equal(bytesToUuid(bytes), ID);
  });

  test('round trip (property)', () => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        assert.equal(bytesToUuid(uuidToBytes(id)), id);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (raw) => {
        const bytes = Buffer.from(raw);
        assert.deepEqual(uuidToBytes(bytesToUuid(bytes)), bytes);
      }),
      { numRuns: 200 },
    );
  });

  test('uuidToBytes refuses anything but a lower-case UUID', () => {
    for (const bad of [ID.toUpperCase(), ID.replaceAll('-', ''), '', `${ID} `, 'x'.repeat(36)]) {
      assert.throws(() => uuidToBytes(bad), RangeError, JSON.stringify(bad));
    }
  });
});

describe('the BYE code', { timeout: 30_000 }, () => {
  const bye = (fields: Record<string, unknown>) => parseFrame(FrameType.bye, jsonPayload(fields));

  for (const code of BYE_CODES) {
    test(`a BYE with code ${code} round-trips, the code after the reason`, () => {
      const frame: Frame = { kind: 'bye', reason: 'why', code };
      const bytes = encodeFrame(frame);
      assert.equal(bytes.subarray(FRAME_HEADER_BYTES).toString('utf8'), `{"reason":"why","code":"${code}"}`);
      assert.deepEqual(decodeOne(bytes), frame);
    });
  }

  test('a BYE without a code (an older peer) has none, not even an undefined one', () => {
    const frame = bye({ reason: 'see you' });
    assert.deepEqual(frame, { kind: 'bye', reason: 'see you' });
    assert.equal(Object.hasOwn(frame, 'code'), false);
  });

  test('a string that names no code of ours (a later version\'s, or a kind no BYE names) is read as no code', () => {
    for (const code of ['reboot', '', 'Busy', 'busy ', 'transport', 'peerLeft', 'x'.repeat(5000)]) {
      assert.deepEqual(bye({ reason: 'r', code }), { kind: 'bye', reason: 'r' }, JSON.stringify(code));
    }
  });

  test('a code that is not a string is a violation', () => {
    for (const code of [null, 7, true, {}, ['busy']]) {
      assertFieldRejected('bye', { reason: 'r', code }, 'code');
      assert.throws(() => bye({ reason: 'r', code }), /^ProtocolError: bye frame: field "code" must be a string$/);
    }
  });

  test('the reason is checked first and still required', () => {
    assertFieldRejected('bye', { code: 'busy' }, 'reason');
  });

  test('any string code parses: kept if it is one of BYE_CODES, dropped otherwise (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...BYE_CODES), fc.string()), (code) => {
        const frame = bye({ reason: '', code });
        assert.equal(frame.kind === 'bye' && frame.code, isByeCode(code) ? code : undefined);
      }),
      { numRuns: 300 },
    );
  });

  test('the largest BYE with the longest code still fits the handshake frame limit, and decodes there', () => {
    const longest = [...BYE_CODES].sort((a, b) => b.length - a.length)[0]!;
    const body = Buffer.from(`{"reason":"${'\\u0061'.repeat(MAX_REASON_BYTES)}","code":"${longest}"}`, 'utf8');
    assert.ok(1 + body.length <= MAX_HELLO_FRAME_BYTES - 1000, `largest BYE ${1 + body.length} bytes, limit ${MAX_HELLO_FRAME_BYTES}`);
    const decoder = new FrameDecoder(MAX_FRAME_BYTES, { count: 1, maxFrameBytes: MAX_HELLO_FRAME_BYTES });
    const [frame] = decoder.push(rawFrame(FrameType.bye, body));
    assert.deepEqual(frame, { kind: 'bye', reason: 'a'.repeat(MAX_REASON_BYTES), code: longest });
  });
});
