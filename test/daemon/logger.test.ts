import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createFileLogger,
  LOG_MAX_LINE_BYTES,
  LOG_REPEATS_PER_WINDOW,
  type LoggerOptions,
} from '../../src/daemon/logger.ts';
import { quote } from '../../src/peer/log-text.ts';

const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info|warn|error) /;
// Every byte but the line ends must be printable: no C0 control, DEL or C1 control.
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

describe('the daemon log', { timeout: 30_000 }, () => {
  let root: string;
  let counter = 0;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'chat-logger-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  function freshLog(options: LoggerOptions = {}) {
    const file = path.join(root, `chatd-${++counter}.log`);
    const log = createFileLogger(file, options);
    const lines = (name = file) => (existsSync(name) ? readFileSync(name, 'utf8').split('\n').slice(0, -1) : []);
    return { file, log, lines };
  }

  test('one line per call, timestamped, even for a multi-line message such as a stack trace', () => {
    const { file, log, lines } = freshLog();
    log.info('first');
    log.error(`unhandled rejection: ${new Error('boom').stack}`);
    log.warn('third');
    assert.ok(readFileSync(file, 'utf8').endsWith('third\n'));
    assert.equal(lines().length, 3);
    for (const line of lines()) assert.match(line, LINE);
    assert.match(lines()[1]!, /^\S+ error unhandled rejection: Error: boom\\u000a {4}at /);
  });

  test('control characters left in a line are escaped: a newline cannot forge a line, ESC/BEL/NUL never reach the file', () => {
    const { file, log, lines } = freshLog();
    const hostile = 'evil\n2026-01-01T00:00:00.000Z info peer 127.0.0.1:1: connected to "alice"\r\u001b[2J\u0007\u0000\u007f\u0085\u2028\u202e end';
    log.warn(`peer said: ${hostile}`);
    log.info('next');
    const text = readFileSync(file, 'utf8');
    assert.equal(lines().length, 2, 'two calls, two lines');
    assert.ok(!RAW_CONTROL.test(text), 'no raw control character in the file');
    assert.ok(lines()[0]!.includes('evil\\u000a2026-01-01T00:00:00.000Z info peer'), 'the forged line is visibly part of the first');
    assert.ok(lines()[0]!.includes('\\u001b[2J\\u0007\\u0000\\u007f\\u0085\\u2028\\u202e end'));
    assert.match(lines()[1]!, LINE);
  });

  test('a line longer than LOG_MAX_LINE_BYTES is clipped, with a marker', () => {
    const { log, lines } = freshLog();
    log.info(`long: ${'x'.repeat(100_000)}`);
    const [line] = lines();
    assert.ok(Buffer.byteLength(line!) < LOG_MAX_LINE_BYTES, `${Buffer.byteLength(line!)} bytes`);
    assert.match(line!, /x … \[line clipped, 100006 bytes\]$/);
  });

  test('peer text through quote(): a 30 KB name leaves at most the clip in the log', () => {
    const { log, lines } = freshLog();
    log.warn(`peer 127.0.0.1:1: declined ${quote(`${'N'.repeat(30_000)}\n`)} (5 bytes): too big`);
    const [line] = lines();
    assert.equal(lines().length, 1);
    assert.equal(line!.match(/N+/)![0].length, 200);
    assert.match(line!, /declined "N+"… \(30001 bytes, clipped\) \(5 bytes\): too big$/);
  });

  test('rotation at the cap: chatd.log, .1 and .2, each under the cap, newest last, nothing older kept', () => {
    const cap = 2048;
    const { file, log, lines } = freshLog({ maxFileBytes: cap, repeatsPerWindow: Number.MAX_SAFE_INTEGER });
    const total = 400;
    for (let n = 1; n <= total; n++) log.info(`line ${n} ${'.'.repeat(40)}`);
    const files = [`${file}.2`, `${file}.1`, file];
    for (const name of files) {
      assert.ok(existsSync(name), `${name} exists`);
      assert.ok(statSync(name).size <= cap, `${name} is ${statSync(name).size} bytes, over ${cap}`);
    }
    assert.ok(!existsSync(`${file}.3`), 'no fourth file');
    const kept = files.flatMap((name) => lines(name)).map((line) => Number(/line (\d+)/.exec(line)![1]));
    assert.equal(kept.at(-1), total, 'the newest line is last in chatd.log');
    assert.deepEqual(kept, Array.from({ length: kept.length }, (_, i) => total - kept.length + 1 + i), 'the newest lines, in order, none lost between files');
    assert.ok(kept.length > 2 * (cap / 100), 'close to three files\' worth is kept');
  });

  test('lines of one kind are rate-limited: N per window, then one "similar lines suppressed" line', () => {
    let clock = 1_000_000;
    const { log, lines } = freshLog({ now: () => clock, windowMs: 1000 });
    // Different ports and names, one kind of line: what a decline flood from many connections writes.
    for (let n = 0; n < 500; n++) log.warn(`peer 127.0.0.1:${40000 + n}: declined ${quote(`file ${n}`)} (${n} bytes): too big`);
    log.info('peer 127.0.0.1:1: dialled');
    assert.equal(lines().filter((line) => line.includes('declined')).length, LOG_REPEATS_PER_WINDOW);
    assert.ok(lines().at(-1)!.endsWith('dialled'), 'another kind of line still gets through');
    clock += 1000;
    log.warn(`peer 127.0.0.1:2: declined ${quote('after')} (1 bytes): too big`);
    const all = lines();
    const report = all.find((line) => line.includes('suppressed'));
    assert.match(report ?? '', /warn … 480 similar lines suppressed, like: peer 127\.0\.0\.1:40020: declined "file 20"/);
    assert.ok(all.at(-1)!.includes('"after"'), 'the next window writes again');
    assert.ok(all.length <= LOG_REPEATS_PER_WINDOW + 4);
  });

  test('a flood that stops gets its count written at the end of its window, and on flush()', async () => {
    const { log, lines } = freshLog({ windowMs: 50 });
    for (let n = 0; n < 100; n++) log.info(`peer 127.0.0.1:${n}: dropped before handshake: ${quote(`reason ${n}`)}`);
    const deadline = Date.now() + 5_000;
    while (!lines().some((line) => line.includes('suppressed')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(lines().some((line) => line.includes(`${100 - LOG_REPEATS_PER_WINDOW} similar lines suppressed`)), lines().join('\n'));

    const { log: other, lines: otherLines } = freshLog({ windowMs: 60_000 });
    for (let n = 0; n < 30; n++) other.error(`control: client dropped: ${n}`);
    other.flush();
    assert.ok(otherLines().at(-1)!.includes(`${30 - LOG_REPEATS_PER_WINDOW} similar lines suppressed`));
  });
});
