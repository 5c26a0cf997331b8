// `chat daemon start` on a running daemon: only the flags given, and only those it does not run with, are reported.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { differingOptions, OptionsDifferError, type StartFlag } from '../../src/cli/start-options.ts';
import type { StatusResult } from '../../src/control/protocol.ts';

const STATUS = {
  pid: 1, name: 'alice', fingerprint: '0'.repeat(64), profile: 'alice', host: '127.0.0.1', port: 45001,
  downloads: '/home/alice/downloads', settings: { maxFileSize: 1024, pingInterval: 15, reconnect: true },
  addresses: ['127.0.0.1:45001'], accept: 'invited', invite: null, queued: 0, supervisor: null,
  connection: 'disconnected', peer: null, reconnect: null, home: '/home/alice', log: '/home/alice/log', startedAt: '', version: '0.1.0',
} satisfies StatusResult;

const given = (...flags: StartFlag[]) => new Set(flags);

describe('differingOptions', () => {
  test('flags left at their defaults are not compared: a second plain start is fine', () => {
    assert.deepEqual(differingOptions({ port: 0, host: '127.0.0.1', reconnect: true }, given(), STATUS), []);
    assert.deepEqual(differingOptions({ port: 7777, host: '0.0.0.0' }, given(), STATUS), []);
  });

  test('the same values, and --port 0 (any port), do not differ', () => {
    const same = { port: 45001, host: '127.0.0.1', name: 'alice', downloads: '/home/alice/downloads', maxFileSize: 1024, pingInterval: 15, reconnect: true };
    assert.deepEqual(differingOptions(same, given('port', 'host', 'name', 'downloads', 'max-file-size', 'ping-interval'), STATUS), []);
    assert.deepEqual(differingOptions({ port: 0 }, given('port'), STATUS), []);
  });

  test('each flag given with another value is named with what the daemon has', () => {
    const other = { port: 7777, host: '0.0.0.0', name: 'zed', downloads: '/tmp/elsewhere', maxFileSize: 2048, pingInterval: 1, reconnect: false, accept: 'known' as const };
    assert.deepEqual(differingOptions(other, given('port', 'host', 'name', 'downloads', 'max-file-size', 'ping-interval', 'no-reconnect', 'accept'), STATUS), [
      '--port 7777 (it listens on port 45001)',
      '--host 0.0.0.0 (it listens on 127.0.0.1)',
      '--name zed (it is "alice")',
      '--downloads /tmp/elsewhere (it stores files in /home/alice/downloads)',
      '--accept known (it accepts invited)',
      '--max-file-size 2.0 KiB (it takes up to 1.0 KiB)',
      '--ping-interval 1 (it pings every 15 s)',
      '--no-reconnect (it redials by itself)',
    ]);
  });

  test('a daemon that does not report its settings is compared on what it reports', () => {
    const { settings: _settings, ...older } = STATUS;
    const status = older as unknown as StatusResult;
    assert.deepEqual(differingOptions({ port: 7777, maxFileSize: 1 }, given('port', 'max-file-size'), status), ['--port 7777 (it listens on port 45001)']);
  });

  test('the error says which differ and that chat daemon stop comes first (exit 1)', () => {
    const error = new OptionsDifferError('alice', ['--port 7777 (it listens on port 45001)']);
    assert.equal(error.exitCode, 1);
    assert.equal(error.code, 'options_differ');
    assert.equal(error.message, 'chatd already runs for profile "alice" with other options: --port 7777 (it listens on port 45001); to change it, stop it first (chat daemon stop --profile alice), then start it again');
  });
});
