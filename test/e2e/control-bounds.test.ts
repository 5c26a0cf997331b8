// What one local client can make the daemon hold on its control socket: batch length, answer size,
// idle connections; and `chat send` of a text too large for a message, refused before it connects.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { MAX_CONTROL_ANSWER_BYTES, MAX_CONTROL_BATCH_LENGTH, MAX_CONTROL_CONNECTIONS } from '../../src/control/limits.ts';
import { resolveProfilePaths } from '../../src/control/paths.ts';
import { ErrorCode, MAX_HISTORY_RESPONSE_BYTES, MAX_MESSAGE_BYTES } from '../../src/control/protocol.ts';
import { ChatHome, historyOf, waitForLine } from '../helpers/chat.ts';
import { residentBytes } from '../helpers/measure.ts';

const ANSWER_WAIT_MS = 30_000;
/** Generous: catches a daemon that keeps hundreds of MiB of answers, not a few MiB of heap. */
const RSS_GROWTH_BOUND_BYTES = 128 * 1024 * 1024;

interface RpcAnswer { id?: number | string | null; result?: unknown; error?: { code: number; message: string } }

/** A control client speaking node-ipc's framing by hand, as any script could. */
class RawControlClient {
  readonly socket: net.Socket;
  readonly closed: Promise<void>;
  private buffer = '';
  private readonly messages: unknown[] = [];
  private bytesReceived = 0;

  constructor(socketPath: string) {
    this.socket = net.connect(socketPath);
    this.socket.setEncoding('utf8');
    this.socket.on('error', () => undefined);
    this.socket.on('data', (chunk: string) => {
      this.bytesReceived += Buffer.byteLength(chunk);
      this.buffer += chunk;
      let end;
      while ((end = this.buffer.indexOf('\f')) !== -1) {
        this.messages.push((JSON.parse(this.buffer.slice(0, end)) as { data: unknown }).data);
        this.buffer = this.buffer.slice(end + 1);
      }
    });
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  async connected(): Promise<this> {
    if (!this.socket.connecting) return this;
    await new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    return this;
  }

  send(payload: unknown): void {
    this.socket.write(`${JSON.stringify({ type: 'rpc', data: payload })}\f`);
  }

  /** The next message from the daemon (bounded wait); fails if the daemon closes the connection first. */
  async next(ms = ANSWER_WAIT_MS): Promise<{ message: unknown; bytes: number }> {
    const deadline = Date.now() + ms;
    while (this.messages.length === 0) {
      if (this.socket.destroyed) throw new Error('the daemon closed the connection without an answer');
      if (Date.now() > deadline) throw new Error(`no answer within ${ms} ms (${this.bytesReceived} bytes received)`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return { message: this.messages.shift(), bytes: this.bytesReceived };
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The idle timeout of the daemon in the idle-client test (the real CONTROL_IDLE_TIMEOUT_MS is 30 s). */
const IDLE_MS = 2_000;

describe('control socket bounds', { timeout: 240_000 }, () => {
  let home: ChatHome;
  let bob: { port: number; pid: number };
  let socketPath: string;

  before(async () => {
    home = await ChatHome.create();
    await home.startDaemon('alice');
    bob = await home.startDaemon('bob');
    socketPath = resolveProfilePaths({ home: home.dir, profile: 'bob' }).socket;
    const connected = await home.run(['connect', '--profile', 'alice', String(bob.port)]);
    assert.equal(connected.code, 0, connected.stderr);
    // More than one history page of events: every `history` answer is a full 1 MiB page.
    const big = 'x'.repeat(MAX_MESSAGE_BYTES - 1024);
    for (let i = 0; i * big.length < 1.5 * MAX_HISTORY_RESPONSE_BYTES; i++) {
      const sent = await home.run(['send', '--profile', 'alice'], { input: big });
      assert.equal(sent.code, 0, sent.stderr);
    }
  });
  after(async () => {
    await home.cleanup();
  });

  test('params are checked before a method runs: misspelt, extra or mistyped params are invalidParams, and nothing happens', async () => {
    const client = await new RawControlClient(socketPath).connected();
    try {
      const calls: Array<[string, unknown, RegExp]> = [
        // Before the check, `stop` ignored its params and stopped the daemon.
        ['stop', { now: true }, /takes no params, got "now"/],
        ['stop', ['now'], /must be an object/],
        ['transfer', { path: '/etc/hostname', progres: true }, /unknown param "progres"/],
        ['send', { text: 'hi', to: 'mallory' }, /unknown param "to"/],
        ['history', { limit: '5' }, /"limit" must be a non-negative integer/],
      ];
      for (const [i, [method, params, message]] of calls.entries()) {
        client.send({ jsonrpc: '2.0', id: i, method, params });
        const answer = (await client.next()).message as RpcAnswer;
        assert.equal(answer.id, i);
        assert.equal(answer.error?.code, ErrorCode.invalidParams, `${method} ${JSON.stringify(params)}: ${JSON.stringify(answer)}`);
        assert.match(answer.error!.message, message);
      }
      client.send({ jsonrpc: '2.0', id: 'after', method: 'status' });
      const status = (await client.next()).message as RpcAnswer;
      assert.equal((status.result as { pid: number }).pid, bob.pid, 'the daemon is still running');
      assert.ok(!(await historyOf(home, 'bob')).some((event) => (event as { text?: string }).text === 'hi' && (event as { direction?: string }).direction === 'out'), 'the refused send sent nothing');
    } finally {
      client.close();
    }
  });

  test('a batch of 300 history calls gets one error answer, runs none of them, and costs no memory', async (t) => {
    const client = await new RawControlClient(socketPath).connected();
    try {
      client.send({ jsonrpc: '2.0', id: 0, method: 'history', params: { limit: 1000 } });
      const single = (await client.next()).message as RpcAnswer;
      assert.ok(Array.isArray((single.result as { events: unknown[] }).events), 'a single page is answered');
      const before = residentBytes(bob.pid);
      client.send(Array.from({ length: 300 }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, method: 'history', params: { limit: 1000 } })));
      const answer = (await client.next()).message as RpcAnswer;
      assert.equal(answer.id, null);
      assert.equal(answer.error?.code, -32600);
      assert.match(answer.error!.message, new RegExp(`at most ${MAX_CONTROL_BATCH_LENGTH} calls.*has 300`));
      const growth = residentBytes(bob.pid) - before;
      t.diagnostic(`daemon RSS ${before} -> ${before + growth} bytes`);
      assert.ok(growth < RSS_GROWTH_BOUND_BYTES, `RSS grew by ${growth} bytes`);
      // The connection is still usable.
      client.send({ jsonrpc: '2.0', id: 'after', method: 'status' });
      assert.equal(((await client.next()).message as RpcAnswer).id, 'after');
    } finally {
      client.close();
    }
  });

  test(`a batch of ${MAX_CONTROL_BATCH_LENGTH} history pages, too large as one answer: the big ones become errors, every id is answered`, async (t) => {
    const client = await new RawControlClient(socketPath).connected();
    try {
      const before = residentBytes(bob.pid);
      const ids = Array.from({ length: MAX_CONTROL_BATCH_LENGTH }, (_, i) => i + 1);
      client.send(ids.map((id) => ({ jsonrpc: '2.0', id, method: 'history', params: { limit: 1000 } })));
      const { message, bytes } = await client.next();
      t.diagnostic(`batch answer of ${bytes} bytes`);
      assert.ok(Array.isArray(message), 'a batch answer');
      const answers = message as RpcAnswer[];
      assert.deepEqual(answers.map((answer) => answer.id).sort((a, b) => Number(a) - Number(b)), ids);
      const tooLarge = answers.filter((answer) => answer.error?.code === ErrorCode.answerTooLarge);
      const pages = answers.filter((answer) => answer.result !== undefined);
      assert.ok(tooLarge.length > 0 && pages.length > 0, `${tooLarge.length} errors, ${pages.length} pages`);
      assert.match(tooLarge[0]!.error!.message, /MAX_CONTROL_ANSWER_BYTES.*ask for less/);
      assert.ok(bytes <= MAX_CONTROL_ANSWER_BYTES + 1024, `answer of ${bytes} bytes`);
      const growth = residentBytes(bob.pid) - before;
      t.diagnostic(`daemon RSS ${before} -> ${before + growth} bytes`);
      assert.ok(growth < RSS_GROWTH_BOUND_BYTES, `RSS grew by ${growth} bytes`);
    } finally {
      client.close();
    }
  });

  test(`${MAX_CONTROL_CONNECTIONS + 6} idle control clients: chat daemon status still answers, a following tail keeps following`, async () => {
    const marker = `before flood ${Date.now()}`;
    assert.equal((await home.run(['send', '--profile', 'alice', marker])).code, 0);
    const tail = home.spawn(['tail', '--profile', 'bob', '--json', '-n', '1']);
    const idle: RawControlClient[] = [];
    try {
      // tail subscribes before it reads the backlog: once the marker is shown, it follows.
      await waitForLine<{ text?: string }>(tail, (event) => event.text === marker);
      for (let i = 0; i < MAX_CONTROL_CONNECTIONS + 6; i++) idle.push(new RawControlClient(socketPath));
      await Promise.all(idle.map((client) => client.connected().catch(() => client)));
      for (const env of [{}, { CHAT_NO_FAST_PATH: '1' }]) {
        const started = Date.now();
        const status = await home.run(['daemon', 'status', '--profile', 'bob', '--json'], { env, timeoutMs: 20_000 });
        assert.equal(status.code, 0, status.stderr);
        assert.equal(JSON.parse(status.stdout).running, true);
        assert.ok(Date.now() - started < 15_000, `status took ${Date.now() - started} ms`);
      }
      const after = `after flood ${Date.now()}`;
      // Listening before the send: once tail's output flows, a line nobody listens for is lost.
      const shown = waitForLine<{ text?: string }>(tail, (event) => event.text === after);
      assert.equal((await home.run(['send', '--profile', 'alice', after])).code, 0);
      await shown;
      assert.equal(tail.exitCode, null, 'the subscribed tail was not closed');
    } finally {
      for (const client of idle) client.close();
      tail.kill();
    }
  });

  test('an idle client is closed after the idle timeout; a subscribed one is not', async () => {
    // Its own daemon with a short idle timeout (the real one is CONTROL_IDLE_TIMEOUT_MS, 30 s).
    await home.startDaemon('carol', [], { CHATD_TEST_CONTROL_IDLE_TIMEOUT_MS: String(IDLE_MS) });
    const carolSocket = resolveProfilePaths({ home: home.dir, profile: 'carol' }).socket;
    const idle = await new RawControlClient(carolSocket).connected();
    const subscribed = await new RawControlClient(carolSocket).connected();
    let later: RawControlClient | undefined;
    try {
      subscribed.send({ jsonrpc: '2.0', id: 1, method: 'subscribe' });
      assert.equal(((await subscribed.next()).message as RpcAnswer).id, 1);
      // Connected after the subscribed client's last word: once the daemon closes it for idling,
      // the subscribed one has been quiet longer than the idle timeout too.
      later = await new RawControlClient(carolSocket).connected();
      const started = Date.now();
      const closedIn = (client: RawControlClient, what: string) => Promise.race([
        client.closed,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} was not closed`)), IDLE_MS + 20_000).unref()),
      ]);
      await closedIn(idle, 'the idle client');
      const waited = Date.now() - started;
      assert.ok(waited >= IDLE_MS - 500, `closed after ${waited} ms`);
      await closedIn(later, 'the later idle client');
      assert.equal(subscribed.socket.destroyed, false, 'the subscribed client is still connected');
      subscribed.send({ jsonrpc: '2.0', id: 2, method: 'status' });
      assert.equal(((await subscribed.next()).message as RpcAnswer).id, 2);
    } finally {
      idle.close();
      later?.close();
      subscribed.close();
    }
  });

  test('chat send of 5 MB of text exits 2 before connecting, naming the limit and chat transfer', async () => {
    const before = (await historyOf(home, 'alice')).length;
    const text = 'y'.repeat(5 * 1000 * 1000);
    for (const env of [{}, { CHAT_NO_FAST_PATH: '1' }]) {
      for (const profile of ['alice', 'nobody']) {
        const result = await home.run(['send', '--profile', profile], { input: text, env });
        assert.equal(result.code, 2, `${profile}: ${result.stderr}`);
        assert.match(result.stderr, /^chat: the message on standard input is more than a message holds \(256 KiB, MAX_MESSAGE_BYTES = 262144 bytes\): send large text as a file with chat transfer FILE\n/);
      }
      const words = Array.from({ length: 300 }, () => 'z'.repeat(999));
      const args = await home.run(['send', '--profile', 'alice', ...words], { env });
      assert.equal(args.code, 2, args.stderr);
      assert.match(args.stderr, /^chat: the message is [\d.]+ KiB \(299999 bytes\), more than a message holds \(256 KiB/);
    }
    assert.equal((await historyOf(home, 'alice')).length, before, 'nothing was sent');
  });
});
