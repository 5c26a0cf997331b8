// `chat daemon status` as a person reads it: IPv6 listening addresses in brackets, where to dial a
// wildcard listener, the accept mode with the invite's time left.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StatusResult } from '../../src/control/protocol.ts';
import { formatStatus, timeLeft } from '../../src/cli/status-view.ts';

const base: StatusResult = {
  pid: 1, name: 'alice', fingerprint: 'ab'.repeat(32), profile: 'alice', host: '127.0.0.1', port: 7001,
  addresses: ['127.0.0.1:7001'], accept: 'invited', invite: null, downloads: '/d', settings: { maxFileSize: 1024, pingInterval: 3, reconnect: true }, connection: 'disconnected', peer: null,
  reconnect: null, queued: 0, home: '/h', log: '/h/log', startedAt: '2026-12-03T00:00:00.000Z', version: '0', supervisor: null,
};
const rows = (status: StatusResult) => formatStatus(status).toString().split('\n');

test('a loopback listener: no dial-at rows; accept without an invite', () => {
  const lines = rows(base);
  assert.ok(lines.includes('listening   127.0.0.1:7001'), lines.join('\n'));
  assert.ok(lines.includes('accept      invited'));
  assert.equal(lines.some((line) => line.startsWith('dial at')), false);
});

test('a :: listener: [::]:PORT, then one row per address to dial; an open invite with its time left', () => {
  const lines = rows({
    ...base, host: '::', addresses: ['192.0.2.2:7001', '[fd00::2]:7001'],
    invite: { expiresAt: '2026-12-03T00:10:00.000Z', expiresInMs: 540_000 },
  });
  const at = lines.indexOf('listening   [::]:7001');
  assert.ok(at >= 0, lines.join('\n'));
  assert.deepEqual(lines.slice(at + 1, at + 4), ['dial at     192.0.2.2:7001', '            [fd00::2]:7001', 'accept      invited (invite open, 9 min left)']);
});

test('timeLeft: seconds under two minutes, then minutes, then hours and minutes', () => {
  const left = (ms: number) => timeLeft({ expiresAt: '', expiresInMs: ms });
  assert.equal(left(1), '1 s');
  assert.equal(left(90_000), '90 s');
  assert.equal(left(600_000), '10 min');
  assert.equal(left(599_000), '10 min');
  assert.equal(left(3_600_000), '1 h');
  assert.equal(left(86_400_000), '24 h');
  assert.equal(left(3_900_000), '1 h 5 min');
});

test('the outbox row: empty, one message, several', () => {
  assert.ok(rows(base).includes('outbox      empty'));
  assert.ok(rows({ ...base, queued: 1 }).includes('outbox      1 message waiting (chat outbox)'));
  assert.ok(rows({ ...base, queued: 3 }).includes('outbox      3 messages waiting (chat outbox)'));
});

test('reconnecting: the attempt and when the next one comes, as the issue words it', () => {
  const reconnecting = (nextAttemptInMs: number | null) => rows({ ...base, reconnect: { name: 'bob', fingerprint: 'cd'.repeat(32), address: '127.0.0.1:7002', attempt: 5, nextAttemptAt: null, nextAttemptInMs, lastError: 'connect ECONNREFUSED 127.0.0.1:7002' } });
  assert.ok(reconnecting(15_200).some((line) => /^connection +reconnecting to bob \(attempt 5, next in 16 s\)$/.test(line)), reconnecting(15_200).join('\n'));
  assert.ok(reconnecting(null).some((line) => /^connection +reconnecting to bob \(attempt 5, dialling now\)$/.test(line)));
});
