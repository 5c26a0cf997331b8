import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FrameDecoder } from '../../src/wire/decoder.ts';
import { ProtocolError } from '../../src/wire/errors.ts';
import { FrameType, encodeFrame, type Frame } from '../../src/wire/frames.ts';
import { FRAME_HEADER_BYTES, MAX_FRAME_BYTES, MAX_HELLO_FRAME_BYTES, MAX_MESSAGE_BYTES, MAX_NAME_BYTES, MAX_REASON_BYTES } from '../../src/wire/limits.ts';
import { frameArbitrary } from './frame-arbitraries.ts';

const ID = '3f2b8c1e-9a4d-4e6f-8b7a-0c1d2e3f4a5b';

/** A 5-byte header claiming `bodyLength` bytes (type byte included) of type `code`. */
function header(bodyLength: number, code: number = FrameType.bye): Buffer {
  const bytes = Buffer.alloc(FRAME_HEADER_BYTES);
  bytes.writeUInt32BE(bodyLength, 0);
  bytes.writeUInt8(code, 4);
  return bytes;
}

/** Splits `bytes` at the given offsets (taken modulo the length, duplicates allowed). */
function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => (bytes.length === 0 ? 0 : cut % (bytes.length + 1))))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    pieces.push(bytes.subarray(start, point));
    start = point;
  }
  return pieces;
}

/** Feeds pieces one by one, checking the buffer bound after every push; returns all frames. */
function feed(decoder: FrameDecoder, pieces: Buffer[], maxFrameBytes = MAX_FRAME_BYTES): Frame[] {
  const frames: Frame[] = [];
  for (const piece of pieces) {
    frames.push(...decoder.push(piece));
    // Whatever stays buffered is an unfinished frame: at most its length prefix plus a body below the limit.
    assert.ok(decoder.bufferedBytes < 4 + maxFrameBytes, `buffered ${decoder.bufferedBytes} bytes`);
  }
  return frames;
}

const cutsArbitrary = fc.array(fc.nat(), { maxLength: 40 });

describe('FrameDecoder', { timeout: 30_000 }, () => {
  test('several frames in one chunk come out in order', () => {
    const frames: Frame[] = [
      { kind: 'ping', nonce: 1 },
      { kind: 'fileChunk', id: ID, data: Buffer.from('abc') },
      { kind: 'pong', nonce: 1 },
    ];
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(Buffer.concat(frames.map(encodeFrame))), frames);
    assert.equal(decoder.bufferedBytes, 0);
  });

  test('an empty chunk yields nothing and changes nothing', () => {
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(Buffer.alloc(0)), []);
    assert.equal(decoder.bufferedBytes, 0);
  });

  test('a partial frame stays buffered until its last byte arrives', () => {
    const bytes = encodeFrame({ kind: 'message', id: ID, time: '2025-01-01T00:00:00.000Z', text: 'hello' });
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(bytes.subarray(0, bytes.length - 1)), []);
    assert.equal(decoder.bufferedBytes, bytes.length - 1);
    const [frame] = decoder.push(bytes.subarray(bytes.length - 1));
    assert.equal(frame?.kind, 'message');
    assert.equal(decoder.bufferedBytes, 0);
  });

  test('a complete frame followed by part of the next one', () => {
    const first = encodeFrame({ kind: 'ping', nonce: 7 });
    const second = encodeFrame({ kind: 'pong', nonce: 7 });
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(Buffer.concat([first, second.subarray(0, 3)])), [{ kind: 'ping', nonce: 7 }]);
    assert.equal(decoder.bufferedBytes, 3);
    assert.deepEqual(decoder.push(second.subarray(3)), [{ kind: 'pong', nonce: 7 }]);
    assert.equal(decoder.bufferedBytes, 0);
  });

  test('one byte at a time gives the same frames as one chunk', () => {
    const frames: Frame[] = [
      { kind: 'hello', protocol: 'chat-peer', version: 1, minVersion: 1, name: 'bob', instance: ID, listenPort: 0 },
      { kind: 'fileChunk', id: ID, data: Buffer.from([0, 1, 2, 255]) },
      { kind: 'bye', reason: '' },
    ];
    const bytes = Buffer.concat(frames.map(encodeFrame));
    const decoder = new FrameDecoder();
    const out: Frame[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(...decoder.push(bytes.subarray(i, i + 1)));
    assert.deepEqual(out, frames);
  });

  test('random chunk boundaries give the same frames as one-shot decoding (property)', () => {
    fc.assert(
      fc.property(fc.array(frameArbitrary, { maxLength: 12 }), cutsArbitrary, (frames, cuts) => {
        const bytes = Buffer.concat(frames.map(encodeFrame));
        const oneShot = new FrameDecoder().push(bytes);
        assert.deepEqual(oneShot, frames);
        const decoder = new FrameDecoder();
        assert.deepEqual(feed(decoder, splitAt(bytes, cuts)), oneShot);
        assert.equal(decoder.bufferedBytes, 0);
      }),
      { numRuns: 200 },
    );
  });
});

describe('FrameDecoder limits', { timeout: 30_000 }, () => {
  test('a length prefix above MAX_FRAME_BYTES is rejected as soon as the header is in', () => {
    const bytes = header(MAX_FRAME_BYTES + 1);
    const decoder = new FrameDecoder();
    for (let i = 0; i < FRAME_HEADER_BYTES - 1; i++) {
      assert.deepEqual(decoder.push(bytes.subarray(i, i + 1)), []);
    }
    assert.equal(decoder.bufferedBytes, FRAME_HEADER_BYTES - 1);
    assert.throws(() => decoder.push(bytes.subarray(FRAME_HEADER_BYTES - 1)), ProtocolError);
    assert.ok(decoder.bufferedBytes <= FRAME_HEADER_BYTES, `buffered ${decoder.bufferedBytes} bytes`);
  });

  test('the largest possible length prefix is rejected, not waited for', () => {
    const decoder = new FrameDecoder();
    assert.throws(() => decoder.push(header(0xffffffff)), ProtocolError);
    assert.ok(decoder.bufferedBytes <= FRAME_HEADER_BYTES);
  });

  test('a length prefix of exactly MAX_FRAME_BYTES is accepted and waits for its body', () => {
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(Buffer.concat([header(MAX_FRAME_BYTES, FrameType.fileChunk), Buffer.alloc(100)])), []);
    assert.equal(decoder.bufferedBytes, FRAME_HEADER_BYTES + 100);
  });

  test('a frame of exactly MAX_FRAME_BYTES decodes', () => {
    const data = Buffer.alloc(MAX_FRAME_BYTES - 1 - 16, 0xab);
    const bytes = encodeFrame({ kind: 'fileChunk', id: ID, data });
    assert.equal(bytes.readUInt32BE(0), MAX_FRAME_BYTES);
    const [frame] = new FrameDecoder().push(bytes);
    assert.ok(frame?.kind === 'fileChunk');
    assert.equal(frame.data.length, data.length);
  });

  test('a custom limit is honoured', () => {
    const decoder = new FrameDecoder(64);
    assert.deepEqual(decoder.push(encodeFrame({ kind: 'ping', nonce: 1 })), [{ kind: 'ping', nonce: 1 }]);
    assert.throws(() => decoder.push(header(65)), ProtocolError);
  });

  test('a zero-length body is rejected', () => {
    assert.throws(() => new FrameDecoder().push(header(0)), ProtocolError);
    // ...also when it follows a good frame in the same chunk.
    assert.throws(() => new FrameDecoder().push(Buffer.concat([encodeFrame({ kind: 'ping', nonce: 1 }), header(0)])), ProtocolError);
  });

  test('an unknown type byte is rejected', () => {
    assert.throws(() => new FrameDecoder().push(Buffer.concat([header(3, 0x7f), Buffer.from('{}')])), ProtocolError);
    assert.throws(() => new FrameDecoder().push(Buffer.concat([header(3, 0x00), Buffer.from('{}')])), ProtocolError);
  });

  test('random garbage only ever raises ProtocolError and stays within the limit (property)', () => {
    const maxFrames = [MAX_FRAME_BYTES, 256, 16];
    const pureGarbage = fc.uint8Array({ maxLength: 4096 }).map((bytes) => Buffer.from(bytes));
    // Random bytes behind small, believable length prefixes, so bodies are buffered and parsed, not just refused.
    const plausibleGarbage = fc
      .array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 300 })), { maxLength: 8 })
      .map((segments) => Buffer.concat(segments.map(([length, code, bytes]) => Buffer.concat([header(length, code), bytes]))));
    fc.assert(
      fc.property(
        fc.constantFrom(...maxFrames),
        fc.oneof(pureGarbage, plausibleGarbage),
        cutsArbitrary,
        (maxFrameBytes, garbage, cuts) => {
          const decoder = new FrameDecoder(maxFrameBytes);
          try {
            feed(decoder, splitAt(garbage, cuts), maxFrameBytes);
          } catch (error) {
            if (!(error instanceof ProtocolError)) throw error;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('well-framed garbage of every type only raises ProtocolError; what it accepts re-encodes the same (property)', () => {
    const codes = Object.values(FrameType);
    const jsonText = fc.oneof(
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.dictionary(
        fc.constantFrom('id', 'text', 'time', 'name', 'size', 'offset', 'nonce', 'reason', 'ok', 'sha256', 'version', 'minVersion', 'instance', 'protocol', 'listenPort'),
        fc.oneof(fc.jsonValue(), fc.uuid(), fc.constant('2025-01-01T00:00:00Z'), fc.constant('a'.repeat(64))),
      ).map((value) => JSON.stringify(value)),
      fc.string(),
    );
    const payload = fc.oneof(jsonText.map((text) => Buffer.from(text, 'utf8')), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)));
    const anyCode = fc.oneof(fc.constantFrom(...codes), fc.integer({ min: 0, max: 255 }));
    // A valid JSON frame with one field replaced by any JSON value (or removed): reaches every validator.
    const oneFieldBroken = fc
      .tuple(frameArbitrary.filter((frame) => frame.kind !== 'fileChunk'), fc.nat(), fc.option(fc.jsonValue()))
      .map(([frame, which, value]): [number, Buffer] => {
        const { kind, ...fields } = frame as Frame & Record<string, unknown>;
        const keys = Object.keys(fields);
        const key = keys[which % keys.length]!;
        if (value === null) delete fields[key];
        else fields[key] = value;
        return [FrameType[kind], Buffer.from(JSON.stringify(fields), 'utf8')];
      });
    const codeAndBody = fc.oneof(fc.tuple(anyCode, payload), oneFieldBroken);
    fc.assert(
      fc.property(codeAndBody, cutsArbitrary, ([code, body], cuts) => {
        const bytes = Buffer.concat([header(1 + body.length, code), body]);
        const decoder = new FrameDecoder();
        let frames: Frame[];
        try {
          frames = feed(decoder, splitAt(bytes, cuts));
        } catch (error) {
          if (error instanceof ProtocolError) return;
          throw error;
        }
        assert.equal(frames.length, 1);
        assert.deepEqual(new FrameDecoder().push(encodeFrame(frames[0]!)), frames);
      }),
      { numRuns: 300 },
    );
  });
});

describe('FrameDecoder before the handshake is complete', { timeout: 30_000 }, () => {
  const HANDSHAKE = { count: 2, maxFrameBytes: MAX_HELLO_FRAME_BYTES };
  const handshakeDecoder = () => new FrameDecoder(MAX_FRAME_BYTES, HANDSHAKE);

  /** Every byte of `text` spelled as `\u00XX`: the longest JSON a string of that many bytes can take. */
  const escapedEveryByte = (bytes: number) => '\\u0061'.repeat(bytes);

  test('the largest valid HELLO fits MAX_HELLO_FRAME_BYTES, with room to spare, and decodes', () => {
    const json = `{"protocol":"${escapedEveryByte(MAX_NAME_BYTES)}","version":65535,"minVersion":65535,`
      + `"name":"${escapedEveryByte(MAX_NAME_BYTES)}","instance":"${ID}","listenPort":65535}`;
    const body = Buffer.from(json, 'utf8');
    const largest = 1 + body.length;
    assert.ok(largest <= MAX_HELLO_FRAME_BYTES - 1000, `largest HELLO ${largest} bytes, limit ${MAX_HELLO_FRAME_BYTES}`);
    const [frame] = handshakeDecoder().push(Buffer.concat([header(largest, FrameType.hello), body]));
    assert.ok(frame?.kind === 'hello');
    assert.equal(frame.name, 'a'.repeat(MAX_NAME_BYTES));
    assert.equal(frame.protocol, 'a'.repeat(MAX_NAME_BYTES));
  });

  test('so does the largest valid BYE, which may come in place of a HELLO', () => {
    const body = Buffer.from(`{"reason":"${escapedEveryByte(MAX_REASON_BYTES)}"}`, 'utf8');
    assert.ok(1 + body.length <= MAX_HELLO_FRAME_BYTES - 1000, `largest BYE ${1 + body.length} bytes, limit ${MAX_HELLO_FRAME_BYTES}`);
    const [frame] = handshakeDecoder().push(Buffer.concat([header(1 + body.length, FrameType.bye), body]));
    assert.ok(frame?.kind === 'bye');
    assert.equal(frame.reason, 'a'.repeat(MAX_REASON_BYTES));
  });

  test('a first frame announcing more than MAX_HELLO_FRAME_BYTES is refused as soon as its header is in', () => {
    const decoder = handshakeDecoder();
    const bytes = header(MAX_HELLO_FRAME_BYTES + 1, FrameType.hello);
    assert.deepEqual(decoder.push(bytes.subarray(0, FRAME_HEADER_BYTES - 1)), []);
    assert.throws(() => decoder.push(bytes.subarray(FRAME_HEADER_BYTES - 1)), (error: unknown) =>
      error instanceof ProtocolError && error.message === `frame of ${MAX_HELLO_FRAME_BYTES + 1} bytes before the handshake is complete exceeds the ${MAX_HELLO_FRAME_BYTES}-byte limit for a handshake frame`);
    assert.ok(decoder.bufferedBytes <= FRAME_HEADER_BYTES);
    // Exactly the limit waits for its body, as any frame does.
    const atLimit = handshakeDecoder();
    assert.deepEqual(atLimit.push(Buffer.concat([header(MAX_HELLO_FRAME_BYTES, FrameType.hello), Buffer.alloc(100)])), []);
  });

  test('every handshake frame has the small limit; the frames after them the normal one, in the same chunk too', () => {
    const hello = encodeFrame({ kind: 'hello', protocol: 'chat-peer', version: 2, minVersion: 2, name: 'bob', instance: ID, listenPort: 0 });
    const confirmation = encodeFrame({ kind: 'ping', nonce: 0 });
    assert.throws(() => handshakeDecoder().push(Buffer.concat([hello, header(MAX_HELLO_FRAME_BYTES + 1, FrameType.ping)])), ProtocolError);
    const big = encodeFrame({ kind: 'message', id: ID, time: '2025-01-01T00:00:00.000Z', text: 'x'.repeat(MAX_MESSAGE_BYTES) });
    const decoder = handshakeDecoder();
    const frames = decoder.push(Buffer.concat([hello, confirmation, big]));
    assert.deepEqual(frames.map((frame) => frame.kind), ['hello', 'ping', 'message']);
    assert.equal(decoder.frameLimit, MAX_FRAME_BYTES);
  });

  test('whatever a stranger sends, it never has more than one handshake frame buffered before its handshake frames are in (property)', () => {
    // Small, believable segments and ones that announce up to a full frame: what a pending handshake may cost.
    const segment = fc.tuple(
      fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: MAX_FRAME_BYTES })),
      fc.constantFrom(...Object.values(FrameType)),
      fc.uint8Array({ maxLength: 3000 }),
    );
    const stream = fc
      .tuple(fc.array(frameArbitrary, { maxLength: 3 }), fc.array(segment, { maxLength: 6 }))
      .map(([frames, segments]) => Buffer.concat([
        ...frames.map(encodeFrame),
        ...segments.map(([length, code, bytes]) => Buffer.concat([header(length, code), bytes])),
      ]));
    fc.assert(
      fc.property(stream, cutsArbitrary, (bytes, cuts) => {
        const decoder = handshakeDecoder();
        let decoded = 0;
        try {
          for (const piece of splitAt(bytes, cuts)) {
            decoded += decoder.push(piece).length;
            if (decoded < HANDSHAKE.count) {
              assert.ok(decoder.bufferedBytes < 4 + MAX_HELLO_FRAME_BYTES, `buffered ${decoder.bufferedBytes} bytes after ${decoded} frames`);
            }
          }
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw error;
        }
      }),
      { numRuns: 300 },
    );
  });

  test('frames that fit come out the same, whatever the chunk boundaries (property)', () => {
    const small = frameArbitrary.filter((frame) => encodeFrame(frame).length - 4 <= MAX_HELLO_FRAME_BYTES);
    fc.assert(
      fc.property(fc.array(small, { minLength: 2, maxLength: 2 }), fc.array(frameArbitrary, { maxLength: 8 }), cutsArbitrary, (first, rest, cuts) => {
        const frames = [...first, ...rest];
        const decoder = handshakeDecoder();
        assert.deepEqual(feed(decoder, splitAt(Buffer.concat(frames.map(encodeFrame)), cuts)), frames);
        assert.equal(decoder.bufferedBytes, 0);
      }),
      { numRuns: 200 },
    );
  });
});
