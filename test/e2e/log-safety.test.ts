// What a hostile peer can do to chatd.log of a real daemon: no forged lines, no raw control bytes,
// no more than a clip of any string it chose, and no more disk than the rotation cap.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { MAX_LOGGED_PEER_TEXT_BYTES } from '../../src/peer/log-text.ts';
import { ChatHome, isAlive } from '../helpers/chat.ts';
import type { FramePeer } from '../helpers/frame-peer.ts';
import { sizeOf } from '../helpers/measure.ts';
import { connectTlsPeer, identityForSuite } from '../helpers/tls-peer.ts';

/** A line of chatd.log as the logger writes it. */
const LOG_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info|warn|error) /;
/** The start of the line a hostile string tries to forge. */
const FORGED = '2026-01-01T00:00:00.000Z info peer 127.0.0.1:1: connected to "alice" (in, protocol 2, first contact: key pinned)';
/** Newline, carriage return, ESC (a terminal sequence), BEL, NUL, DEL, a C1 control, a line separator, RLO. */
const CONTROLS = '\n\r\u001b[2J\u001b]0;owned\u0007\u0000\u007f\u0085\u2028\u202e';
// Raw in the file, any of these would break a line or reach a terminal.
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/;

/** The longest run of `char` in `text`. */
function longestRun(text: string, char: string): number {
  let longest = 0;
  for (const run of text.match(new RegExp(`${char}+`, 'g')) ?? []) longest = Math.max(longest, run.length);
  return longest;
}

/** How long the daemon may keep a garbage connection open: its handshake deadline, and then some. */
const CHURN_CLOSE_WITHIN_MS = 20_000;

/** Opens plain TCP connections that say garbage and are dropped before any handshake. */
function churn(port: number, count: number): Promise<void[]> {
  return Promise.all(Array.from({ length: count }, () => new Promise<void>((resolve, reject) => {
    const garbage = randomBytes(64);
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.end(garbage));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the daemon kept a garbage connection open for ${CHURN_CLOSE_WITHIN_MS} ms (it sent ${garbage.toString('hex')})`));
    }, CHURN_CLOSE_WITHIN_MS);
    socket.on('error', () => undefined);
    // Read what the daemon answers (a TLS alert, for garbage that looks like a record header):
    // unread, it would hold back 'end' and 'close', and the test would blame the daemon.
    socket.resume();
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  })));
}

describe('chatd.log against a hostile peer', { timeout: 180_000 }, () => {
  const home = ChatHome.forSuite();
  const mallory = identityForSuite();

  async function connected(port: number): Promise<FramePeer> {
    const peer = await connectTlsPeer(port, mallory);
    peer.hello();
    await peer.waitFor('hello');
    return peer;
  }

  test('names, file names and reasons with control characters, a forged line and 30 KB: one line per event, escaped, clipped', async () => {
    const bob = await home.startDaemon('bob', ['--max-file-size', '1M']);
    const logFile = path.join(home.profileDir('bob'), 'chatd.log');

    // Before the handshake: a BYE as the first frame, and a HELLO whose protocol tag is hostile.
    const early = await connectTlsPeer(bob.port, mallory);
    early.send({ kind: 'bye', reason: `${CONTROLS}${FORGED}${'R'.repeat(800)}` });
    await early.waitClosed();
    const tagged = await connectTlsPeer(bob.port, mallory);
    tagged.hello({ protocol: `x${CONTROLS}${'P'.repeat(30)}` });
    await tagged.waitClosed();
    const named = await connectTlsPeer(bob.port, mallory);
    named.hello({ name: `mal\n${FORGED}`.slice(0, 60) });
    await named.waitClosed();

    const peer = await connected(bob.port);
    const hostileName = `${CONTROLS}${FORGED}${CONTROLS}${'A'.repeat(30_000)}.txt`;
    // Declined (over --max-file-size), accepted then cancelled, and stored.
    const declined = randomUUID();
    peer.send({ kind: 'fileOffer', id: declined, name: hostileName, size: 2 ** 40 });
    await peer.waitFor('fileDecline', (frame) => frame.id === declined);
    const cancelled = randomUUID();
    peer.send({ kind: 'fileOffer', id: cancelled, name: hostileName, size: 10 });
    await peer.waitFor('fileAccept', (frame) => frame.id === cancelled);
    peer.send({ kind: 'fileCancel', id: cancelled, reason: `${CONTROLS}${FORGED}${'C'.repeat(800)}` });
    const stored = randomUUID();
    const data = Buffer.from('0123456789');
    peer.send({ kind: 'fileOffer', id: stored, name: hostileName, size: data.length });
    await peer.waitFor('fileAccept', (frame) => frame.id === stored);
    peer.send({ kind: 'fileChunk', id: stored, data });
    peer.send({ kind: 'fileEnd', id: stored, sha256: createHash('sha256').update(data).digest('hex') });
    await peer.waitFor('fileResult', (frame) => frame.id === stored && frame.ok);
    peer.send({ kind: 'bye', reason: `${CONTROLS}${FORGED}${'B'.repeat(800)}` });
    await peer.waitClosed();

    // The daemon logs the goodbye before it closes; wait (bounded) until the disconnect is there.
    const deadline = Date.now() + 15_000;
    while (!readFileSync(logFile, 'utf8').includes('disconnected') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(isAlive(bob.pid));

    const text = readFileSync(logFile, 'utf8');
    assert.ok(text.includes('disconnected'), 'the disconnect was logged');
    assert.ok(text.endsWith('\n'));
    const lines = text.slice(0, -1).split('\n');
    for (const line of lines) assert.match(line, LOG_LINE, `every line is one event of the logger: ${line.slice(0, 200)}`);
    assert.equal(lines.filter((line) => line.startsWith('2026-01-01T00:00:00.000Z')).length, 0, 'no forged line');
    const raw = RAW_CONTROL.exec(text);
    assert.equal(raw, null, `a raw control character U+${raw?.[0].charCodeAt(0).toString(16).padStart(4, '0')} in the log`);
    // Each string reached the log (so the checks below mean something), and no more than its clip.
    for (const char of ['A', 'R', 'C', 'B']) {
      const run = longestRun(text, char);
      assert.ok(run >= 10, `the ${char} string was logged (${run})`);
      assert.ok(run <= MAX_LOGGED_PEER_TEXT_BYTES, `at most the clip of the ${char} string is in the log: ${run} bytes`);
    }
    const quoted = text.match(/"(?:[^"\\\n]|\\.)*"/g) ?? [];
    assert.ok(quoted.length > 10);
    for (const string of quoted) {
      const bytes = Buffer.byteLength(JSON.parse(string) as string);
      assert.ok(bytes <= MAX_LOGGED_PEER_TEXT_BYTES, `a quoted string of ${bytes} bytes: ${string.slice(0, 100)}`);
    }
    assert.ok(lines.some((line) => /declined ".*"… \(30\d\d\d bytes, clipped\)/.test(line)), 'the declined offer is logged with its clip marker');
    assert.ok(lines.some((line) => line.includes('said goodbye: "\\n\\r\\u001b[2J')), 'the goodbye reason is there, escaped');
    assert.ok(Buffer.byteLength(text) < 64 * 1024, `the whole log is ${Buffer.byteLength(text)} bytes`);
  });

  test('a flood of declined offers with long names and of connection churn keeps the log files under the cap', async (t) => {
    const cap = 8 * 1024;
    // CHATD_TEST_LOG_MAX_BYTES: a test-only cap, so that rotation shows without writing 10 MiB.
    const { port } = await home.startDaemon('carol', ['--max-file-size', '1M'], { CHATD_TEST_LOG_MAX_BYTES: String(cap) });
    const logFile = path.join(home.profileDir('carol'), 'chatd.log');
    const files = [logFile, `${logFile}.1`, `${logFile}.2`];
    const longName = `${CONTROLS}${'L'.repeat(30_000)}`;

    let waves = 0;
    let offers = 0;
    const deadline = Date.now() + 60_000;
    // Flood until the log has rotated twice (chatd.log.2 exists), or the bound breaks, or time is up.
    while (!existsSync(`${logFile}.2`) && files.every((file) => sizeOf(file) <= cap) && Date.now() < deadline) {
      waves++;
      const peer = await connected(port);
      let last = '';
      for (let n = 0; n < 200; n++) {
        last = randomUUID();
        peer.send({ kind: 'fileOffer', id: last, name: longName, size: 2 ** 40 });
      }
      offers += 200;
      const id = last;
      await Promise.race([peer.waitFor('fileDecline', (frame) => frame.id === id, 30_000), peer.closed]);
      peer.close();
      await churn(port, 20);
    }
    // The count of suppressed lines is written at the end of their one-second window: wait for it
    // (bounded) rather than read the files while that window may still be open.
    const summary = /… \d+ similar lines suppressed, like: peer 127\.0\.0\.1:\d+: declined/;
    const summaryDeadline = Date.now() + 10_000;
    while (!files.some((file) => existsSync(file) && summary.test(readFileSync(file, 'utf8'))) && Date.now() < summaryDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    t.diagnostic(`${waves} waves, ${offers} declined offers of 30 KB names; sizes ${files.map(sizeOf).join(', ')} bytes (cap ${cap})`);
    for (const file of files) assert.ok(sizeOf(file) <= cap, `${path.basename(file)} is ${sizeOf(file)} bytes, over the cap of ${cap}`);
    assert.ok(existsSync(`${logFile}.2`), 'the log rotated: chatd.log.2 exists');
    assert.ok(!existsSync(`${logFile}.3`), 'no more than three files');
    const text = files.map((file) => readFileSync(file, 'utf8')).join('');
    assert.ok(longestRun(text, 'L') <= MAX_LOGGED_PEER_TEXT_BYTES, 'names are clipped');
    assert.match(text, summary);
    const status = await home.run(['daemon', 'status', '--profile', 'carol', '--json']);
    assert.equal(status.code, 0, 'the daemon still answers');
  });
});
