// A hostile peer puts terminal escapes, carriage returns, C1 controls, bidi overrides and invisible
// characters into every field it controls (its name, message text, file name, decline, BYE,
// transfer failure and refusal reasons). Every human output that shows one (chat console, tail,
// daemon status, send, transfer, connect and their errors) is checked byte by byte: none of those
// characters reaches the terminal, each is shown as its visible escape; --json keeps the exact text.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { PEER_ALPN } from '../../src/peer/secure-transport.ts';
import type { Frame } from '../../src/wire/frames.ts';
import { ChatHome, historyOf, type RunResult } from '../helpers/chat.ts';
import { FramePeer } from '../helpers/frame-peer.ts';
import { connectTlsPeer, createTestIdentity } from '../helpers/tls-peer.ts';

/** Everything the attack uses; \r and ESC and BEL among them. At most 64 bytes fit a name. */
const HOSTILE = 'A\u001b[2J\u001b]0;pwned\u0007\u009b31m\r\u007f\u202e\u2066\u061c\u200f\u200b\ufeff\u{e0041}\u2028\u0085\u3164\u2800\u034f\ufe0fZ';
/** The same shown to a person, written out by hand. */
const ESCAPED = 'A\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\x0d\\x7f\\u202e\\u2066\\u061c\\u200f\\u200b\\ufeff\\u{e0041}\\u2028\\x85\\u3164\\u2800\\u034f\\ufe0fZ';
/** A peer name may not hold C0 controls or DEL (the wire refuses them); everything else is tried. */
const HOSTILE_NAME = 'm\u009b31m\u202e\u2066\u061c\u200b\u{e0041}\u0085\u3164\u2800y';
const ESCAPED_NAME = 'm\\x9b31m\\u202e\\u2066\\u061c\\u200b\\u{e0041}\\x85\\u3164\\u2800y';
/** What a received file named HOSTILE + ".txt" is stored as: the unsafe characters removed. */
const STORED_NAME = 'A[2J]0;pwned31mZ.txt';
/** What must never reach a terminal as itself (newline aside): Unicode's classes, not the code's regex. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Bidi_Control}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}\u2800]/u;

/** Checks every byte and every code point of what a person would see. */
function assertTerminalSafe(output: string, what: string): void {
  const bytes = Buffer.from(output, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if ((byte < 0x20 && byte !== 0x0a) || byte === 0x7f) assert.fail(`${what}: byte 0x${byte.toString(16)} at ${i} in ${JSON.stringify(output)}`);
  }
  for (const char of output) {
    if (char !== '\n' && UNSAFE.test(char)) assert.fail(`${what}: U+${char.codePointAt(0)!.toString(16)} in ${JSON.stringify(output)}`);
  }
}

function assertHumanResult(result: RunResult, what: string): void {
  assertTerminalSafe(result.stdout, `${what} stdout`);
  assertTerminalSafe(result.stderr, `${what} stderr`);
}

/** Console output kept from the start, raw, so no line is missed between two waits. */
function transcript(child: ReturnType<ChatHome['spawn']>) {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  return {
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    async waitFor(text: string, timeoutMs = 20_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!stdout.includes(text)) {
        if (Date.now() > deadline) throw new Error(`console never printed ${JSON.stringify(text)}; got:\n${stdout}\nstderr:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

type TransferMode = 'decline' | 'fail' | 'ok';

/**
 * Answers a connected daemon like a peer would, with hostile text wherever the protocol lets it:
 * pongs, acknowledges messages, and declines, fails or completes the files it is offered.
 */
function respond(peer: FramePeer, state: { transferMode: TransferMode }): void {
  const hashes = new Map<string, ReturnType<typeof createHash>>();
  let handled = 0;
  const timer = setInterval(() => {
    while (handled < peer.frames.length) {
      const frame: Frame = peer.frames[handled++]!;
      if (frame.kind === 'ping' && frame.nonce !== 0) peer.send({ kind: 'pong', nonce: frame.nonce });
      if (frame.kind === 'message') peer.send({ kind: 'messageAck', id: frame.id });
      if (frame.kind === 'fileOffer') {
        if (state.transferMode === 'decline') peer.send({ kind: 'fileDecline', id: frame.id, reason: HOSTILE });
        else {
          hashes.set(frame.id, createHash('sha256'));
          peer.send({ kind: 'fileAccept', id: frame.id, offset: 0 });
          peer.send({ kind: 'fileCredit', id: frame.id, until: frame.size });
        }
      }
      if (frame.kind === 'fileChunk') hashes.get(frame.id)?.update(frame.data);
      if (frame.kind === 'fileEnd') {
        const sha256 = hashes.get(frame.id)!.digest('hex');
        peer.send(state.transferMode === 'ok'
          ? { kind: 'fileResult', id: frame.id, ok: true, sha256, reason: '' }
          : { kind: 'fileResult', id: frame.id, ok: false, sha256: '', reason: HOSTILE });
      }
    }
  }, 5);
  peer.socket.once('close', () => clearInterval(timer));
}

/** A BYE (with the code a refusing chatd sends), or a HELLO under a name. */
type ListenerAnswer = { bye: string; code?: 'identity' | 'busy' } | { hello: string };

/** A TLS listener with mallory's key: answers each daemon that dials it as `answer()` says. */
async function listenHostile(identity: { key: string; cert: string }, answer: () => ListenerAnswer, onPeer: (peer: FramePeer) => void) {
  const server = tls.createServer({
    key: identity.key, cert: identity.cert, minVersion: 'TLSv1.3', requestCert: true, rejectUnauthorized: false, ALPNProtocols: [PEER_ALPN],
  });
  server.on('secureConnection', (socket) => {
    const peer = new FramePeer(socket);
    peer.autoConfirm = false;
    void peer.waitFor('hello').then(() => {
      const what = answer();
      if ('bye' in what) {
        peer.send({ kind: 'bye', reason: what.bye, ...(what.code ? { code: what.code } : {}) });
        socket.end();
        return;
      }
      peer.hello({ name: what.hello });
      onPeer(peer);
    }, () => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

describe('hostile text from a peer, through every field and every output', { timeout: 240_000 }, () => {
  let home: ChatHome;
  let bob: { port: number; downloads: string; name: string };
  let mallory: Awaited<ReturnType<typeof createTestIdentity>>;
  let impostor: Awaited<ReturnType<typeof createTestIdentity>>;

  before(async () => {
    home = await ChatHome.create();
    bob = await home.startDaemon('bob');
    mallory = await createTestIdentity();
    impostor = await createTestIdentity();
  });
  after(async () => {
    await home.cleanup();
    await mallory.remove();
    await impostor.remove();
  });

  test('console, tail, status, send, transfer and connect show it escaped; --json keeps it exact', async () => {
    const file = path.join(home.dir, 'notes.txt');
    await writeFile(file, 'some notes\n');
    const consoleProcess = home.spawn(['console', '--profile', 'bob'], { cwd: home.dir });
    const screen = transcript(consoleProcess);
    const type = (line: string) => consoleProcess.stdin!.write(`${line}\n`);
    await screen.waitFor('* not connected.');

    // 1. A dialler with a hostile name refuses bob's key with a hostile reason: only logged (any
    // stranger can send that BYE), so nothing of it reaches the history or the console.
    const refuser = await connectTlsPeer(bob.port, mallory);
    refuser.autoConfirm = false;
    refuser.hello({ name: HOSTILE_NAME });
    await refuser.waitFor('hello');
    refuser.send({ kind: 'bye', reason: `identity: ${HOSTILE}`, code: 'identity' });
    await refuser.waitClosed();
    assert.deepEqual(await historyOf(home, 'bob'), []);

    // 2. A listener that refuses bob's dial with hostile reasons: busy, identity, anything else.
    let answer: ListenerAnswer = { bye: `busy: ${HOSTILE}` };
    const state = { transferMode: 'decline' as TransferMode };
    let connected: FramePeer | undefined;
    const listener = await listenHostile(mallory, () => answer, (peer) => {
      connected = peer;
      respond(peer, state);
    });
    const target = `127.0.0.1:${listener.port}`;
    try {
      const refusals: Array<[ListenerAnswer, string]> = [
        [{ bye: `busy: ${HOSTILE}`, code: 'busy' }, `chat: ${target} refused: busy: ${ESCAPED}\n`],
        [{ bye: `identity: ${HOSTILE}`, code: 'identity' }, `chat: ${target} refused us: identity: ${ESCAPED}\n`],
        [{ bye: HOSTILE }, `chat: handshake with ${target} failed: connection closed: peer left: ${ESCAPED}\n`],
      ];
      for (const [given, expected] of refusals) {
        answer = given;
        const result = await home.run(['connect', '--profile', 'bob', String(listener.port)]);
        assert.equal(result.code, 1, result.stderr);
        assert.equal(result.stderr, expected);
        assertHumanResult(result, `connect refused with ${JSON.stringify(given)}`);
        type(`/connect ${listener.port}`);
        await screen.waitFor(expected);
        // A listener we dialled that refuses our key is recorded, under the address we dialled.
        if ('bye' in given && given.bye.startsWith('identity: ')) await screen.waitFor(`* refused ${target} (${target}): ${target} refused us: identity: ${ESCAPED}\n`);
      }

      // 3. The listener accepts under the hostile name: connect, console, status, send, peers.
      answer = { hello: HOSTILE_NAME };
      const connect = await home.run(['connect', '--profile', 'bob', String(listener.port)]);
      assert.equal(connect.code, 0, connect.stderr);
      assert.match(connect.stdout, new RegExp(`^connected to ${escapeRegExp(ESCAPED_NAME)} \\(127\\.0\\.0\\.1:${listener.port}\\)\nfingerprint [0-9a-f ]+\n$`));
      assertHumanResult(connect, 'connect');
      await screen.waitFor(`* connected to ${ESCAPED_NAME} (127.0.0.1:${listener.port}; first contact, key pinned: fingerprint `);

      for (const env of [{}, { CHAT_NO_FAST_PATH: '1' }]) {
        const status = await home.run(['daemon', 'status', '--profile', 'bob'], { env });
        assert.equal(status.code, 0, status.stderr);
        assert.match(status.stdout, new RegExp(`\npeer        ${escapeRegExp(ESCAPED_NAME)} \\(127\\.0\\.0\\.1:${listener.port}, we dialled\\)\n`));
        assertHumanResult(status, 'daemon status');
        const statusJson = await home.run(['daemon', 'status', '--profile', 'bob', '--json'], { env });
        assertHumanResult(statusJson, 'daemon status --json');
        const json = JSON.parse(statusJson.stdout);
        assert.equal(json.peer.name, HOSTILE_NAME, '--json keeps the exact name, its unsafe characters as \\uXXXX');

        const send = await home.run(['send', '--profile', 'bob', 'hello there'], { env });
        assert.equal(send.code, 0, send.stderr);
        assert.equal(send.stdout, `delivered to ${ESCAPED_NAME}\n`);
        assertHumanResult(send, 'send');
      }
      const peers = await home.run(['peers', '--profile', 'bob']);
      assert.match(peers.stdout, new RegExp(`^${escapeRegExp(ESCAPED_NAME)}\n`));
      assertHumanResult(peers, 'peers');

      // 4. A hostile message (two lines) and a hostile file name.
      assert.ok(connected, 'the listener has the connection');
      const peer = connected;
      peer.send({ kind: 'message', id: randomUUID(), time: new Date().toISOString(), text: `${HOSTILE}\nsecond ${HOSTILE}` });
      await peer.waitFor('messageAck');
      await screen.waitFor(`${ESCAPED_NAME}: ${ESCAPED}\n`);
      await screen.waitFor(`\n${' '.repeat(23 + ESCAPED_NAME.length)}second ${ESCAPED}\n`);
      const fileId = randomUUID();
      const content = Buffer.from('from mallory\n');
      peer.send({ kind: 'fileOffer', id: fileId, name: `${HOSTILE}.txt`, size: content.length });
      await peer.waitFor('fileAccept', (frame) => frame.id === fileId);
      peer.send({ kind: 'fileChunk', id: fileId, data: content });
      peer.send({ kind: 'fileEnd', id: fileId, sha256: createHash('sha256').update(content).digest('hex') });
      await peer.waitFor('fileResult', (frame) => frame.id === fileId && frame.ok);
      assert.ok((await readdir(bob.downloads)).includes(STORED_NAME), 'stored without the unsafe characters');
      await screen.waitFor(`${ESCAPED_NAME} sent you ${STORED_NAME} (`);

      // 5. bob sends files: declined with a hostile reason, failed with one, completed.
      const declined = `chat: transfer of ${file} failed: peer declined the file: ${ESCAPED}\n`;
      const failed = `chat: transfer of ${file} failed: peer could not store the file: ${ESCAPED}\n`;
      for (const [mode, expected] of [['decline', declined], ['fail', failed]] as const) {
        state.transferMode = mode;
        const transfer = await home.run(['transfer', '--profile', 'bob', file]);
        assert.equal(transfer.code, 1);
        assert.equal(transfer.stderr, expected);
        assertHumanResult(transfer, `transfer ${mode}`);
        const json = await home.run(['transfer', '--profile', 'bob', file, '--json']);
        assertHumanResult(json, `transfer ${mode} --json`);
        assert.ok(JSON.parse(json.stdout).error.message.endsWith(HOSTILE), '--json keeps the exact reason');
        type(`transfer ${file}`);
        await screen.waitFor(expected);
      }
      state.transferMode = 'ok';
      const sent = await home.run(['transfer', '--profile', 'bob', file]);
      assert.equal(sent.code, 0, sent.stderr);
      assert.match(sent.stdout, new RegExp(`^sent notes\\.txt \\(11 B, 11 bytes\\) to ${escapeRegExp(ESCAPED_NAME)}\nsha256 [0-9a-f]{64}\n$`));
      assertHumanResult(sent, 'transfer ok');

      // 6. The peer leaves with a hostile BYE reason.
      peer.send({ kind: 'bye', reason: HOSTILE });
      await screen.waitFor(`* ${ESCAPED_NAME} disconnected (peer left: ${ESCAPED})\n`);

      // 7. Another key under the pinned hostile name, as listener and as dialler: refused by bob.
      answer = { hello: HOSTILE_NAME };
      const impostorListener = await listenHostile(impostor, () => answer, () => undefined);
      try {
        const refused = await home.run(['connect', '--profile', 'bob', String(impostorListener.port)]);
        assert.equal(refused.code, 1);
        assert.ok(refused.stderr.startsWith(`chat: refused 127.0.0.1:${impostorListener.port}: identity: the key of "${ESCAPED_NAME}" has changed`), refused.stderr);
        assertHumanResult(refused, 'connect refused by bob');
      } finally {
        impostorListener.server.close();
      }
      const dialler = await connectTlsPeer(bob.port, impostor);
      dialler.hello({ name: HOSTILE_NAME });
      await dialler.waitClosed();
      await screen.waitFor(`* refused ${ESCAPED_NAME} (`);
    } finally {
      listener.server.close();
    }

    consoleProcess.stdin!.end('/quit\n');
    const [code] = await once(consoleProcess, 'exit');
    assert.equal(code, 0, '/quit leaves with 0, failed lines or not');
    assertTerminalSafe(screen.stdout, 'console stdout');
    assertTerminalSafe(screen.stderr, 'console stderr');

    // tail shows all of it escaped; --json keeps every field exactly.
    const tail = await home.run(['tail', '--profile', 'bob', '--no-follow', '-n', '100']);
    assert.equal(tail.code, 0, tail.stderr);
    assertHumanResult(tail, 'tail');
    for (const expected of [
      `${target} refused us: identity: ${ESCAPED}`,
      `${ESCAPED_NAME}: ${ESCAPED}\n`,
      `${ESCAPED_NAME} sent you ${STORED_NAME} (`,
      `* ${ESCAPED_NAME} disconnected (peer left: ${ESCAPED})`,
      `identity: the key of "${ESCAPED_NAME}" has changed`,
    ]) assert.ok(tail.stdout.includes(expected), `tail shows ${expected}`);
    // --json and NDJSON carry the exact text too, but as JSON escapes: none of it raw on a terminal.
    for (const env of [{}, { CHAT_NO_FAST_PATH: '1' }]) {
      const tailJson = await home.run(['tail', '--profile', 'bob', '--no-follow', '-n', '100', '--json'], { env });
      assert.equal(tailJson.code, 0, tailJson.stderr);
      assertHumanResult(tailJson, 'tail --json');
      const lines = tailJson.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
      assert.ok(lines.some((event) => event.type === 'message' && event.text === `${HOSTILE}\nsecond ${HOSTILE}` && event.from === HOSTILE_NAME), 'tail --json keeps the exact text');
    }
    const peers = await home.run(['peers', '--profile', 'bob', '--json']);
    assert.equal(peers.code, 0, peers.stderr);
    assertHumanResult(peers, 'peers --json');
    assert.ok(JSON.stringify(JSON.parse(peers.stdout)).includes(JSON.stringify(HOSTILE_NAME).slice(1, -1)), 'peers --json keeps the exact name');
    const events = await historyOf(home, 'bob');
    assert.ok(events.some((event) => event.type === 'message' && event.text === `${HOSTILE}\nsecond ${HOSTILE}` && event.from === HOSTILE_NAME));
    assert.ok(events.some((event) => event.state === 'disconnected' && event.reason === `peer left: ${HOSTILE}`));
    assert.ok(events.some((event) => event.state === 'refused' && event.reason === `${target} refused us: identity: ${HOSTILE}`));
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
