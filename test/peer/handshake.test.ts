/**
 * The handshake with two ends wired together in memory: each end's frames are encoded, queued,
 * and decoded on the other end with the handshake's own frame limit, as the session would do.
 * Timers are mocked where the deadline matters.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, mock, test } from 'node:test';
import { Handshake, handshakeFrames, type HandshakeOptions, type PeerInfo } from '../../src/peer/handshake.ts';
import type { SessionEndKind } from '../../src/peer/session-end.ts';
import { FrameDecoder } from '../../src/wire/decoder.ts';
import { ProtocolError } from '../../src/wire/errors.ts';
import { encodeFrame, type Frame, type HelloFrame } from '../../src/wire/frames.ts';
import { MAX_FRAME_BYTES, MAX_HELLO_FRAME_BYTES, MIN_PROTOCOL_VERSION, PROTOCOL_NAME, PROTOCOL_VERSION } from '../../src/wire/limits.ts';

const ALICE_KEY = 'a1'.repeat(32);
const BOB_KEY = 'b2'.repeat(32);

class End {
  readonly handshake: Handshake;
  readonly instance = randomUUID();
  readonly inbox: Buffer[] = [];
  readonly sent: Frame[] = [];
  readonly closes: Array<{ kind: SessionEndKind; detail: string }> = [];
  readonly completed: PeerInfo[] = [];
  readonly violations: ProtocolError[] = [];
  /** Where its frames go; none for an end driven by hand. */
  other: End | undefined;
  private readonly decoder: FrameDecoder;

  constructor(direction: 'in' | 'out', name: string, peerKey: string | undefined, options: Partial<HandshakeOptions> = {}) {
    this.decoder = new FrameDecoder(MAX_FRAME_BYTES, handshakeFrames(direction));
    this.handshake = new Handshake({
      direction,
      address: `${name}'s view of the other end`,
      local: { name, instance: this.instance, listenPort: direction === 'in' ? 4002 : 4001 },
      peerFingerprint: () => peerKey,
      link: {
        send: (frame) => this.transmit(frame),
        close: (kind, detail) => this.closes.push({ kind, detail }),
      },
      onComplete: (peer) => this.completed.push(peer),
      ...options,
    });
  }

  /** Hands this end what has arrived; a PING the handshake leaves to the session is answered. True if anything arrived. */
  deliver(): boolean {
    const bytes = this.inbox.splice(0);
    for (const chunk of bytes) {
      for (const frame of this.decoder.push(chunk)) {
        try {
          if (!this.handshake.receive(frame) && frame.kind === 'ping') this.transmit({ kind: 'pong', nonce: frame.nonce });
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw error;
          this.violations.push(error);
        }
      }
    }
    return bytes.length > 0;
  }

  private transmit(frame: Frame): void {
    this.sent.push(frame);
    this.other?.inbox.push(encodeFrame(frame));
  }
}

function wiredPair(alice: Partial<HandshakeOptions> = {}, bob: Partial<HandshakeOptions> = {}): { dialler: End; listener: End } {
  const dialler = new End('out', 'alice', BOB_KEY, alice);
  const listener = new End('in', 'bob', ALICE_KEY, bob);
  dialler.other = listener;
  listener.other = dialler;
  dialler.handshake.start();
  listener.handshake.start();
  return { dialler, listener };
}

/** Delivers what each end has sent until nothing more is in flight. */
function settle(...ends: End[]): void {
  while (ends.map((end) => end.deliver()).some(Boolean));
}

function stop(...ends: End[]): void {
  for (const end of ends) end.handshake.fail(new Error('test over'));
}

function hello(overrides: Partial<HelloFrame> = {}): HelloFrame {
  return {
    kind: 'hello', protocol: PROTOCOL_NAME, version: PROTOCOL_VERSION, minVersion: MIN_PROTOCOL_VERSION,
    name: 'mallory', instance: randomUUID(), listenPort: 0, ...overrides,
  };
}

describe('Handshake', () => {
  afterEach(() => mock.timers.reset());

  test('the dialler greets, the listener answers, the dialler confirms with PING 0: both learn the other', async () => {
    const { dialler, listener } = wiredPair();
    assert.equal(listener.sent.length, 0, 'the listener waits for the dialler');
    assert.deepEqual(dialler.sent.map((frame) => frame.kind), ['hello']);
    listener.deliver();
    assert.deepEqual(listener.sent.map((frame) => frame.kind), ['hello'], 'answered with its own HELLO');
    assert.equal(listener.handshake.peer, undefined, 'not connected before the confirmation');
    assert.equal(listener.handshake.claimedPeer?.name, 'alice');
    dialler.deliver();
    assert.deepEqual(dialler.sent.at(-1), { kind: 'ping', nonce: 0 });
    assert.equal(dialler.completed.length, 1, 'the dialler is connected once it confirms');
    listener.deliver();
    assert.equal(listener.completed.length, 1, 'the listener is connected by the confirmation');
    assert.deepEqual(listener.sent.at(-1), { kind: 'pong', nonce: 0 }, 'the confirmation is answered as any PING');

    assert.deepEqual(await dialler.handshake.ready, {
      name: 'bob', instance: listener.instance, version: PROTOCOL_VERSION, listenPort: 4002,
      address: "alice's view of the other end", direction: 'out', fingerprint: BOB_KEY,
    });
    assert.deepEqual(await listener.handshake.ready, {
      name: 'alice', instance: dialler.instance, version: PROTOCOL_VERSION, listenPort: 4001,
      address: "bob's view of the other end", direction: 'in', fingerprint: ALICE_KEY,
    });
    assert.deepEqual(listener.handshake.peer, listener.completed[0]);
    assert.deepEqual([...dialler.closes, ...listener.closes, ...dialler.violations, ...listener.violations], []);
    stop(dialler, listener);
  });

  test('onComplete runs before ready resolves', async () => {
    const order: string[] = [];
    const { dialler, listener } = wiredPair({ onComplete: () => order.push('onComplete') });
    void dialler.handshake.ready.then(() => order.push('ready'));
    settle(dialler, listener);
    await dialler.handshake.ready;
    assert.deepEqual(order, ['onComplete', 'ready']);
    stop(dialler, listener);
  });

  test('a listener that refuses answers with nothing but the close, of the refusal\'s kind', () => {
    const { dialler, listener } = wiredPair({}, { admit: () => ({ kind: 'busy', detail: 'busy: already connected to carol' }) });
    settle(dialler, listener);
    assert.deepEqual(listener.closes, [{ kind: 'busy', detail: 'busy: already connected to carol' }]);
    assert.deepEqual(listener.sent, [], 'no HELLO');
    assert.equal(listener.completed.length + dialler.completed.length, 0);
    stop(dialler, listener);
  });

  test('a refusal given as a bare string is of kind local', () => {
    const { dialler, listener } = wiredPair({}, { admit: () => 'not now' });
    settle(dialler, listener);
    assert.deepEqual(listener.closes, [{ kind: 'local', detail: 'not now' }]);
    stop(dialler, listener);
  });

  test('a dialler that refuses the listener closes instead of confirming; the listener only has a claim', () => {
    const { dialler, listener } = wiredPair({ admit: (peer) => ({ kind: 'identity', detail: `identity: not ${peer.name}'s key` }) });
    settle(dialler, listener);
    assert.deepEqual(dialler.closes, [{ kind: 'identity', detail: "identity: not bob's key" }]);
    assert.equal(dialler.sent.some((frame) => frame.kind === 'ping'), false, 'no confirmation');
    assert.equal(listener.handshake.peer, undefined);
    assert.equal(listener.handshake.claimedPeer?.name, 'alice');
    stop(dialler, listener);
  });

  const refusedHellos: Array<[string, (listener: End) => HelloFrame, string]> = [
    ['another protocol', () => hello({ protocol: 'other' }), 'not a chat peer (protocol "other")'],
    ['only an older version', () => hello({ version: 1, minVersion: 1 }),
      `no common protocol version (we speak ${MIN_PROTOCOL_VERSION}-${PROTOCOL_VERSION}, peer 1-1): the peer runs an older chat; it must be upgraded`],
    ['version 2, which does not resume transfers', () => hello({ version: 2, minVersion: 2 }),
      'no common protocol version (we speak 4-4, peer 2-2): the peer runs an older chat; it must be upgraded'],
    ['version 3, which sends file data without credit', () => hello({ version: 3, minVersion: 3 }),
      'no common protocol version (we speak 4-4, peer 3-3): the peer runs an older chat; it must be upgraded'],
    ['only a newer version', () => hello({ version: 99, minVersion: 99 }),
      `no common protocol version (we speak ${MIN_PROTOCOL_VERSION}-${PROTOCOL_VERSION}, peer 99-99): this chat is older than the peer; upgrade it`],
    ['our own instance', (listener) => hello({ instance: listener.instance }), 'connected to ourselves'],
  ];
  for (const [what, make, message] of refusedHellos) {
    test(`a HELLO of ${what} is a protocol error`, () => {
      const listener = new End('in', 'bob', ALICE_KEY);
      assert.throws(() => listener.handshake.receive(make(listener)), (error) => error instanceof ProtocolError && error.message === message);
      assert.deepEqual(listener.sent, []);
      stop(listener);
    });
  }

  test('a HELLO before the transport authenticated the peer is a protocol error', () => {
    const listener = new End('in', 'bob', undefined);
    assert.throws(() => listener.handshake.receive(hello()), /^ProtocolError: hello before the peer was authenticated$/);
    stop(listener);
  });

  test('a newer peer that still speaks our version settles on ours', async () => {
    const listener = new End('in', 'bob', ALICE_KEY);
    listener.handshake.receive(hello({ version: 7 }));
    listener.handshake.receive({ kind: 'ping', nonce: 0 });
    assert.equal((await listener.handshake.ready).version, PROTOCOL_VERSION);
    stop(listener);
  });

  test('only HELLO first, and only PING 0 after the listener\'s answer', () => {
    const listener = new End('in', 'bob', ALICE_KEY);
    assert.throws(() => listener.handshake.receive({ kind: 'ping', nonce: 0 }), /^ProtocolError: expected hello, got ping$/);
    listener.handshake.receive(hello());
    assert.throws(() => listener.handshake.receive({ kind: 'ping', nonce: 1 }),
      /^ProtocolError: expected the dialler's confirmation \(ping 0\), got ping$/);
    assert.throws(() => listener.handshake.receive(hello()), /got hello$/);
    assert.equal(listener.handshake.peer, undefined);
    stop(listener);
  });

  test('the frames before it is complete: one for the dialler, two for the listener, at most MAX_HELLO_FRAME_BYTES each', () => {
    assert.deepEqual(handshakeFrames('out'), { count: 1, maxFrameBytes: MAX_HELLO_FRAME_BYTES });
    assert.deepEqual(handshakeFrames('in'), { count: 2, maxFrameBytes: MAX_HELLO_FRAME_BYTES });
  });

  test('no handshake within the deadline closes with kind timeout; a complete one stops the deadline', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const slow = new End('in', 'bob', ALICE_KEY, { timeoutMs: 300 });
    mock.timers.tick(299);
    assert.deepEqual(slow.closes, []);
    mock.timers.tick(1);
    assert.deepEqual(slow.closes, [{ kind: 'timeout', detail: 'no handshake within 300 ms' }]);
    stop(slow);

    const { dialler, listener } = wiredPair({ timeoutMs: 300 }, { timeoutMs: 300 });
    settle(dialler, listener);
    mock.timers.tick(1_000);
    assert.deepEqual([...dialler.closes, ...listener.closes], []);
  });

  test('fail() stops the deadline and rejects ready', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const end = new End('out', 'alice', BOB_KEY, { timeoutMs: 300 });
    end.handshake.fail(new Error('peer connection closed: gone'));
    await assert.rejects(end.handshake.ready, /gone/);
    mock.timers.tick(1_000);
    assert.deepEqual(end.closes, []);
  });
});
