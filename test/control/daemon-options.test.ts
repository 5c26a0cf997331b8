// chatd and `chat daemon start` check their shared options with these functions: one rule and
// one wording for both, and the same refusal line from either program.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  checkDisplayName,
  DaemonOptionError,
  MAX_PING_INTERVAL_SECONDS,
  MIN_PING_INTERVAL_SECONDS,
  parseAcceptMode,
  parseListenPort,
  parseMaxFileSize,
  parsePingInterval,
} from '../../src/control/daemon-options.ts';
import { parseDuration } from '../../src/text/durations.ts';
import { DEFAULT_MAX_FILE_SIZE } from '../../src/text/sizes.ts';
import { MAX_NAME_BYTES, MAX_PORT } from '../../src/wire/limits.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('daemon options', () => {
  test('--accept: known, invited or any; invited when not given', () => {
    assert.equal(parseAcceptMode(undefined), 'invited');
    for (const mode of ['known', 'invited', 'any'] as const) assert.equal(parseAcceptMode(mode), mode);
    for (const bad of ['', 'Any', 'all', ' known']) {
      assert.throws(() => parseAcceptMode(bad), (error: unknown) => error instanceof DaemonOptionError && /use known, invited, any$/.test(error.message));
    }
  });

  test('chat invite --for: seconds, or a number with s, m or h', () => {
    assert.equal(parseDuration('600'), 600_000);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration(' 2H '), 7_200_000);
    for (const bad of ['', '0', '0m', '-1m', '10 minutes', 'soon', '1d']) assert.equal(parseDuration(bad), undefined, bad);
  });

  test('--port: 0 to MAX_PORT, digits only', () => {
    assert.equal(parseListenPort('0'), 0);
    assert.equal(parseListenPort(String(MAX_PORT)), MAX_PORT);
    for (const text of [String(MAX_PORT + 1), '-1', '1e3', ' 80', '0x50', '', '123456']) {
      assert.throws(() => parseListenPort(text), DaemonOptionError, text);
    }
  });

  test('--name: the HELLO rule', () => {
    assert.equal(checkDisplayName('Zoë 🦊'), 'Zoë 🦊');
    assert.equal(checkDisplayName('x'.repeat(MAX_NAME_BYTES)), 'x'.repeat(MAX_NAME_BYTES));
    for (const name of ['', '   ', 'x'.repeat(MAX_NAME_BYTES + 1), 'a\nb', 'a\u001bb', 'del\u007f']) {
      assert.throws(() => checkDisplayName(name), DaemonOptionError, JSON.stringify(name));
    }
  });

  test('--max-file-size: sizes as people write them, the default when absent', () => {
    assert.equal(parseMaxFileSize(undefined), DEFAULT_MAX_FILE_SIZE);
    assert.equal(parseMaxFileSize('1K'), 1024);
    assert.throws(() => parseMaxFileSize('lots'), /invalid --max-file-size "lots"/);
  });

  test('--ping-interval: seconds within the bounds', () => {
    assert.equal(parsePingInterval(String(MIN_PING_INTERVAL_SECONDS)), MIN_PING_INTERVAL_SECONDS);
    assert.equal(parsePingInterval(String(MAX_PING_INTERVAL_SECONDS)), MAX_PING_INTERVAL_SECONDS);
    for (const text of ['0', '0.01', '3601', 'NaN', 'Infinity', '', ' ']) {
      assert.throws(() => parsePingInterval(text), /invalid --ping-interval/, JSON.stringify(text));
    }
  });

  describe('chatd and chat daemon start refuse with the same line', { timeout: 60_000 }, () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'chat-options-'));
    after(() => rmSync(home, { recursive: true, force: true }));
    const run = (script: string, args: string[]) =>
      spawnSync(process.execPath, [path.join(ROOT, 'bin', script), ...args], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, CHAT_HOME: home, DEBUG: '' },
      });

    for (const [flag, value] of [['--ping-interval', '0'], ['--max-file-size', 'lots'], ['--name', ' '], ['--accept', 'everyone']] as const) {
      test(`${flag} ${JSON.stringify(value)}`, () => {
        const chatd = run('chatd.js', ['--profile', 'p', flag, value]);
        const start = run('run.js', ['daemon', 'start', '--profile', 'p', flag, value]);
        assert.notEqual(chatd.status, 0);
        assert.equal(start.status, 2, start.stderr);
        const line = (output: string) => output.split('\n').find((text) => text.includes(`invalid ${flag}`));
        assert.ok(line(chatd.stderr), chatd.stderr);
        assert.equal(line(start.stderr)?.replace(/^.*?invalid/, 'invalid'), line(chatd.stderr)?.replace(/^.*?invalid/, 'invalid'));
      });
    }
  });
});
