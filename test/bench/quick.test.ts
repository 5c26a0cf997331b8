// `npm run bench -- --quick` runs in npm test so the benchmark never rots. It checks that every row
// is measured, not how fast anything is: targets live in docs/benchmarks.md.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { collect, ROOT } from '../helpers/chat.ts';

const positive = (value: unknown, name: string) => {
  assert.equal(typeof value, 'number', name);
  assert.ok(Number.isFinite(value as number) && (value as number) > 0, `${name} = ${String(value)}`);
};

/** A median of several runs, with its min and max, in order. */
const positiveStat = (value: unknown, name: string) => {
  const stat = value as { median: unknown; min: unknown; max: unknown; n: unknown };
  for (const field of ['median', 'min', 'max', 'n'] as const) positive(stat[field], `${name}.${field}`);
  assert.ok((stat.min as number) <= (stat.median as number) && (stat.median as number) <= (stat.max as number), `${name}: min <= median <= max`);
};

const socatInstalled = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;

test('the quick benchmark measures every row', { timeout: 180_000 }, async () => {
  const result = await collect(spawn(process.execPath, [path.join(ROOT, 'bench', 'run.ts'), '--quick', '--json'], { cwd: ROOT }), undefined, 170_000);
  assert.equal(result.code, 0, result.stderr);
  const r = JSON.parse(result.stdout);

  for (const key of ['chatMiBps', 'chatCliMiBps', 'bareMiBps', 'bareSyncedMiBps']) positiveStat(r.transfer[key], `transfer.${key}`);
  positiveStat(r.transfer.chatFirstMiBps, 'transfer.chatFirstMiBps');
  // Row 1's first transfer on fresh daemons and each of row 2's at the same size.
  assert.equal(r.transfer.chatFirstMiBps.n, 1 + r.memory.runs, 'one first transfer per fresh pair at --size');
  // Memory is primed before every timed transfer, and no prime failed.
  positive(r.prime.bytesBeforeSize, 'prime.bytesBeforeSize');
  assert.equal(r.prime.failures, 0, 'no prime failed');
  positive(r.options.settleMs, 'options.settleMs');
  for (const key of ['chatVsBare', 'chatVsBareSynced', 'chatCliVsBare']) positive(r.transfer[key], `transfer.${key}`);
  positiveStat(r.transfer.tlsMiBps, 'transfer.tlsMiBps');
  positiveStat(r.transfer.tlsHandshakeMs, 'transfer.tlsHandshakeMs');
  for (const key of ['tlsVsBare', 'chatVsTls']) positive(r.transfer[key], `transfer.${key}`);
  assert.equal(r.transfer.tlsProtocol, 'TLSv1.3');
  assert.match(r.transfer.tlsCipher, /^TLS_/);
  if (socatInstalled) {
    positiveStat(r.transfer.socatMiBps, 'transfer.socatMiBps');
    positive(r.transfer.chatVsSocat, 'transfer.chatVsSocat');
    positive(r.transfer.chatCliVsSocat, 'transfer.chatCliVsSocat');
    positiveStat(r.transfer.socatTlsMiBps, 'transfer.socatTlsMiBps');
    positive(r.transfer.chatVsSocatTls, 'transfer.chatVsSocatTls');
  } else {
    assert.equal(r.transfer.socatMiBps, null);
    assert.equal(r.transfer.chatVsSocat, null);
    assert.equal(r.transfer.socatTlsMiBps, null);
  }
  // Retransmitted segments per contender run, counted from /proc/net/snmp and /proc/net/netstat around each one.
  if (existsSync('/proc/net/snmp')) {
    for (const name of ['chat', 'chat-cli', 'bare', 'bare+fsync', 'tls', ...(socatInstalled ? ['socat', 'socat-tls'] : [])]) {
      const counts = r.transfer.retransmits[name];
      assert.ok(counts, `retransmits of ${name}`);
      assert.equal(counts.runs.length, r.options.runs, `one count per run of ${name}`);
      assert.ok(counts.runs.every((count: number) => Number.isInteger(count) && count >= 0), `${name}: ${counts.runs}`);
      // The lost ones are those the receiver did not report as duplicates: never more than were retransmitted.
      const lost = r.transfer.lostRetransmits[name];
      assert.ok(lost, `lost retransmits of ${name}`);
      assert.equal(lost.runs.length, counts.runs.length, `one lost count per run of ${name}`);
      assert.ok(lost.runs.every((count: number, i: number) => Number.isInteger(count) && count >= 0 && count <= counts.runs[i]), `${name}: lost ${lost.runs} of ${counts.runs}`);
    }
  }
  // Each baseline slower than chat is named, with its figure; none is left out or made up.
  assert.ok(Array.isArray(r.transfer.slowBaselines));
  for (const line of r.transfer.slowBaselines as string[]) {
    const [name, figure] = line.split(' ');
    const measured = { bare: r.transfer.bareMiBps, 'bare+fsync': r.transfer.bareSyncedMiBps, tls: r.transfer.tlsMiBps, socat: r.transfer.socatMiBps, 'socat-tls': r.transfer.socatTlsMiBps }[name!];
    assert.ok(measured && measured.median < r.transfer.chatMiBps.median && Number(figure) === Math.round(measured.median), line);
  }

  for (const field of ['smallBytes', 'largeBytes', 'hugeBytes', 'runs']) positive(r.memory[field], `memory.${field}`);
  assert.ok(r.memory.hugeBytes > r.memory.largeBytes, 'the third size is the largest');
  for (const field of ['senderSmallMiB', 'receiverSmallMiB', 'senderLargeMiB', 'receiverLargeMiB', 'senderHugeMiB', 'receiverHugeMiB']) positiveStat(r.memory[field], `memory.${field}`);
  positiveStat(r.memory.chatHugeMiBps, 'memory.chatHugeMiBps');
  if (socatInstalled) positiveStat(r.memory.socatTlsHugeMiBps, 'memory.socatTlsHugeMiBps');
  else assert.equal(r.memory.socatTlsHugeMiBps, null);
  // The difference may be zero or even negative (GC timing): only that it was computed.
  assert.ok(Number.isFinite(r.memory.growthMiB), 'memory.growthMiB');

  for (const field of ['p50Ms', 'p99Ms', 'perSecond', 'tcpPingPongP50Ms', 'tcpPingPongP99Ms', 'fsyncCommitP50Ms', 'fsyncCommitP99Ms', 'p50VsFsyncCommit']) {
    positive(r.messages[field], `messages.${field}`);
  }
  assert.equal(r.messages.count, 100);
  for (const field of ['count', 'seconds', 'perSecond', 'commitEachPerSecond', 'oneCommitPerSecond', 'vsCommitEach']) positive(r.messageBurst[field], `messageBurst.${field}`);

  for (const field of ['count', 'p50Ms', 'p99Ms', 'maxMs', 'p99VsFloor']) positive(r.messagesDuringTransfer[field], `messagesDuringTransfer.${field}`);
  // Row 4's floor: pairs of fsynced commits timed while a file is written, on the same disk.
  for (const field of ['count', 'p50Ms', 'p99Ms', 'maxMs', 'writeMiBps']) positive(r.messagesDuringTransfer.floor[field], `messagesDuringTransfer.floor.${field}`);
  assert.ok(r.messagesDuringTransfer.floor.p50Ms <= r.messagesDuringTransfer.floor.p99Ms && r.messagesDuringTransfer.floor.p99Ms <= r.messagesDuringTransfer.floor.maxMs, 'floor percentiles in order');
  for (const field of ['count', 'p50Ms', 'p99Ms', 'maxMs', 'diskMiBps', 'fileBytes']) positive(r.messagesDuringSlowTransfer[field], `messagesDuringSlowTransfer.${field}`);

  for (const field of ['nodeMs', 'sendMs', 'statusMs', 'transferMs', 'tailMs', 'versionMs']) positiveStat(r.startup[field], `startup.${field}`);
  for (const field of ['sendVsNode', 'statusVsNode', 'transferVsNode', 'tailVsNode', 'versionVsNode']) positive(r.startup[field], `startup.${field}`);

  for (const field of ['count', 'p50Ms', 'p99Ms']) positive(r.controlRpc[field], `controlRpc.${field}`);

  for (const size of ['small', 'large']) {
    const h = r.historyScale[size];
    for (const field of ['events', 'databaseBytes', 'jsonBytes', 'databaseVsJson']) positive(h[field], `historyScale.${size}.${field}`);
    for (const field of ['daemonStartMs', 'tailMs', 'latestRpcMs', 'cliStartMs']) positiveStat(h[field], `historyScale.${size}.${field}`);
    for (const at of ['first', 'middle', 'last']) positiveStat(h.sincePageMs[at], `historyScale.${size}.sincePageMs.${at}`);
  }
  assert.ok(r.historyScale.large.events > r.historyScale.small.events, 'row 7 compares a larger history with a smaller one');
  for (const [key, value] of Object.entries(r.historyScale.ratios)) positive(value, `historyScale.ratios.${key}`);
});
