/**
 * Messages between two MessageExchanges wired together in memory: what one end sends is encoded,
 * decoded and handed to the other on the next turn of the event loop, as over a connection.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { MessageExchange } from '../../src/peer/message-exchange.ts';
import { PeerError, type ByeCode } from '../../src/peer/session-end.ts';
import { encodeFrame, parseFrame, type Frame, type MessageFrame } from '../../src/wire/frames.ts';
import { FRAME_HEADER_BYTES, MAX_MESSAGE_BYTES } from '../../src/wire/limits.ts';

interface End {
  exchange: MessageExchange;
  received: MessageFrame[];
  sent: Frame[];
  closes: Array<{ kind: ByeCode; detail: string }>;
  ended: PeerError | undefined;
}

/** One frame through the codec, as the other end would read it. */
function overTheWire(frame: Frame): Frame {
  const bytes = encodeFrame(frame);
  return parseFrame(bytes.readUInt8(4), bytes.subarray(FRAME_HEADER_BYTES));
}

function wiredPair(onMessage: (message: MessageFrame) => void | Promise<void> = () => undefined): { alice: End; bob: End } {
  const make = (handler: typeof onMessage, peer: () => End): End => {
    const end: End = { exchange: undefined!, received: [], sent: [], closes: [], ended: undefined };
    end.exchange = new MessageExchange(
      {
        send: (frame) => {
          end.sent.push(frame);
          setImmediate(() => peer().exchange.receive(overTheWire(frame) as MessageFrame));
        },
        assertOpen: () => {
          if (end.ended) throw end.ended;
        },
        close: (kind, detail) => end.closes.push({ kind, detail }),
      },
      async (message) => {
        end.received.push(message);
        await handler(message);
      },
    );
    return end;
  };
  const alice: End = make(() => undefined, () => bob);
  const bob: End = make(onMessage, () => alice);
  return { alice, bob };
}

describe('MessageExchange', () => {
  test('a message arrives whole, and send resolves with its id and time once it is acknowledged', async () => {
    const { alice, bob } = wiredPair();
    const sent = await alice.exchange.send('héllo 👋\nbob');
    assert.deepEqual(bob.received, [{ kind: 'message', id: sent.id, time: sent.time, text: 'héllo 👋\nbob' }]);
    assert.deepEqual(bob.sent, [{ kind: 'messageAck', id: sent.id }]);
    assert.ok(!Number.isNaN(Date.parse(sent.time)));
  });

  test('the acknowledgement waits until the owner has recorded the message', async () => {
    const events: string[] = [];
    let release!: () => void;
    const recorded = new Promise<void>((resolve) => { release = resolve; });
    const { alice, bob } = wiredPair(async () => {
      events.push('recording');
      await recorded;
      events.push('recorded');
    });
    const sending = alice.exchange.send('wait for it').then(() => events.push('acknowledged'));
    while (events.length === 0) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(bob.sent, [], 'no acknowledgement before the owner is done');
    release();
    await sending;
    assert.deepEqual(events, ['recording', 'recorded', 'acknowledged']);
  });

  test('a message the owner cannot record closes the connection as internal, and is not acknowledged', async () => {
    const { alice, bob } = wiredPair(() => { throw new Error('disk full'); });
    void alice.exchange.send('lost').catch(() => undefined);
    while (bob.closes.length === 0) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(bob.closes, [{ kind: 'internal', detail: 'could not record message: Error: disk full' }]);
    assert.deepEqual(bob.sent, []);
  });

  test('an acknowledgement of a message we did not send is a protocol error', () => {
    const { alice } = wiredPair();
    const id = randomUUID();
    assert.throws(() => alice.exchange.receive({ kind: 'messageAck', id }), new RegExp(`^ProtocolError: acknowledgement for unknown message ${id}$`));
  });

  test('an empty or oversized message is refused before anything is sent', async () => {
    const { alice } = wiredPair();
    await assert.rejects(alice.exchange.send(''), /^PeerError: message is empty$/);
    await assert.rejects(alice.exchange.send('€'.repeat(MAX_MESSAGE_BYTES / 3 + 1)), new RegExp(`^PeerError: message exceeds ${MAX_MESSAGE_BYTES} bytes$`));
    assert.deepEqual(alice.sent, []);
  });

  test('when the connection ends, messages waiting for their acknowledgement fail with its error, and later sends too', async () => {
    const { alice } = wiredPair(() => new Promise<void>(() => undefined));
    const waiting = alice.exchange.send('never acknowledged');
    await new Promise((resolve) => setImmediate(resolve));
    const gone = new PeerError('peer connection closed: test over');
    alice.ended = gone;
    alice.exchange.fail(gone);
    await assert.rejects(waiting, (error) => error === gone);
    await assert.rejects(alice.exchange.send('too late'), (error) => error === gone);
  });
});
