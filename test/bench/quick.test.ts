// `npm run bench -- --quick` runs in npm test so the benchmark never rots. It checks that every row
// is measured, not how fast anything is: targets live in docs/benchmarks.md.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { collect, ROOT } from '../helpers/chat.ts';

const positive = (value: unknown, name: string) => {
  assert.equal(typeof value, 'number', name);
  assert.ok(Number.isFinite(value as number) && (value as number) > 0, `${name} = ${String(value)}`);
};

test('the quick benchmark measures every row', { timeout: 180_000 }, async () => {
  const result = await collect(spawn(process.execPath, [path.join(ROOT, 'bench', 'run.ts'), '--quick', '--json'], { cwd: ROOT }), undefined, 170_000);
  assert.equal(result.code, 0, result.stderr);
  const r = JSON.parse(result.stdout);
  for (const key of ['chatMiBps', 'bareMiBps', 'bareSyncedMiBps']) for (const field of ['median', 'min', 'max']) positive(r.transfer[key][field], `transfer.${key}.${field}`);
  positive(r.transfer.chatVsBare, 'transfer.chatVsBare');
  for (const field of ['senderSmallMiB', 'receiverSmallMiB', 'senderLargeMiB', 'receiverLargeMiB']) positive(r.memory[field], `memory.${field}`);
  for (const field of ['p50Ms', 'p99Ms', 'perSecond', 'tcpPingPongP50Ms', 'tcpPingPongP99Ms']) positive(r.messages[field], `messages.${field}`);
  assert.equal(r.messages.count, 100);
  positive(r.messagesDuringTransfer.count, 'messagesDuringTransfer.count');
  positive(r.messagesDuringTransfer.maxMs, 'messagesDuringTransfer.maxMs');
  for (const field of ['nodeMs', 'sendMs', 'statusMs']) positive(r.startup[field].median, `startup.${field}`);
  positive(r.startup.sendVsNode, 'startup.sendVsNode');
  positive(r.startup.statusVsNode, 'startup.statusVsNode');
  positive(r.controlRpc.p50Ms, 'controlRpc.p50Ms');
});
