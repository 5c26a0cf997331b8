/** FrameInbox alone: bytes in, frames out in order, and the first violation stops the delivery. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FrameInbox, frameRates } from '../../src/peer/frame-inbox.ts';
import { ProtocolError } from '../../src/wire/errors.ts';
import { encodeFrame, FrameType, type Frame } from '../../src/wire/frames.ts';
import { FILE_CHUNK_BYTES, FRAME_HEADER_BYTES, MAX_HELLO_FRAME_BYTES, MESSAGE_BURST, MESSAGES_PER_SECOND, SMALL_CHUNK_BYTES } from '../../src/wire/limits.ts';

function inbox(deliver: (frame: Frame) => void = () => undefined, rates = frameRates()) {
  const delivered: Frame[] = [];
  const violations: unknown[] = [];
  let open = true;
  const box = new FrameInbox({
    rates,
    handshake: { count: 1, maxFrameBytes: MAX_HELLO_FRAME_BYTES },
    deliver: (frame) => {
      delivered.push(frame);
      deliver(frame);
    },
    violation: (error) => {
      violations.push(error);
      open = false;
    },
    isOpen: () => open,
    hold: () => undefined,
    release: () => undefined,
  });
  return { box, delivered, violations, close: () => { open = false; } };
}

const ping = (nonce: number): Frame => ({ kind: 'ping', nonce });

describe('FrameInbox', () => {
  test('frames split across reads arrive whole and in order', () => {
    const { box, delivered } = inbox();
    const bytes = Buffer.concat([1, 2, 3].map((nonce) => encodeFrame(ping(nonce))));
    for (let at = 0; at < bytes.length; at += 7) box.push(bytes.subarray(at, at + 7));
    assert.deepEqual(delivered, [ping(1), ping(2), ping(3)]);
  });

  test('the first frame has the handshake limit: a longer one is a violation, and none of its read is delivered', () => {
    const { box, delivered, violations } = inbox();
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUInt32BE(MAX_HELLO_FRAME_BYTES + 1, 0);
    header.writeUInt8(FrameType.hello, 4);
    box.push(header);
    assert.equal(violations.length, 1);
    assert.ok(violations[0] instanceof ProtocolError);
    assert.match((violations[0] as Error).message, /before the handshake is complete exceeds the 7182-byte limit/);
    assert.deepEqual(delivered, []);
  });

  test('a frame whose handling throws is a violation, and the frames after it are not handled', () => {
    const { box, delivered, violations } = inbox((frame) => {
      if (frame.kind === 'ping' && frame.nonce === 2) throw new ProtocolError('not this one');
    });
    box.push(Buffer.concat([1, 2, 3].map((nonce) => encodeFrame(ping(nonce)))));
    assert.deepEqual(delivered, [ping(1), ping(2)]);
    assert.deepEqual(violations.map((error) => (error as Error).message), ['not this one']);
  });

  test('nothing is handled once the connection is gone', () => {
    const { box, delivered, close } = inbox();
    close();
    box.push(encodeFrame(ping(1)));
    assert.deepEqual(delivered, []);
  });

  test('full file chunks cost no frame budget; a chunk under SMALL_CHUNK_BYTES costs one, like a PING', () => {
    const { box, delivered, violations } = inbox(undefined, frameRates({ frames: { perSecond: 0.001, burst: 4 } }));
    box.push(encodeFrame(ping(1))); // the handshake's frame (it takes one token)
    const id = Buffer.alloc(16, 7).toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
    const chunk = (bytes: number): Frame => ({ kind: 'fileChunk', id, data: Buffer.alloc(bytes, 1) });
    // 100 full chunks and one just long enough: none is held back.
    box.push(Buffer.concat([...Array.from({ length: 100 }, () => encodeFrame(chunk(FILE_CHUNK_BYTES))), encodeFrame(chunk(SMALL_CHUNK_BYTES))]));
    assert.deepEqual(violations, []);
    assert.equal(delivered.length, 102);
    // Tiny ones take the budget: three pass (the burst), the fourth waits for a token, as would a PING.
    box.push(Buffer.concat([1, 1, 1, 1, 1].map((bytes) => encodeFrame(chunk(bytes)))));
    assert.equal(delivered.length, 105);
    box.push(encodeFrame(ping(9)));
    assert.equal(delivered.length, 105, 'what comes after waits behind them, in order');
    box.close();
  });

  test('frameRates keeps what it is given and fills in the protocol limits', () => {
    const rates = frameRates({ frames: { perSecond: 1, burst: 2 } });
    assert.deepEqual(rates.frames, { perSecond: 1, burst: 2 });
    assert.deepEqual(rates.messages, { perSecond: MESSAGES_PER_SECOND, burst: MESSAGE_BURST });
  });
});
