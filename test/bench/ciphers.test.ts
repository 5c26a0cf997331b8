// bench/ciphers.ts compares the TLS 1.3 suites through the TLS pipe; run small in npm test so it
// never rots: each suite must be the one negotiated (the script refuses otherwise) and measured.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { collect, ROOT } from '../helpers/chat.ts';

const SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'];

test('the cipher comparison runs each TLS 1.3 suite and measures it', { timeout: 60_000 }, async () => {
  const result = await collect(spawn(process.execPath, [path.join(ROOT, 'bench', 'ciphers.ts'), '--size', '2M', '--runs', '1', '--json'], { cwd: ROOT }), undefined, 55_000);
  assert.equal(result.code, 0, result.stderr);
  const r = JSON.parse(result.stdout);
  assert.deepEqual(Object.keys(r.pipeMiBps).sort(), [...SUITES].sort());
  for (const suite of SUITES) {
    assert.equal(r.pipeMiBps[suite].length, 1, suite);
    assert.ok(r.pipeMiBps[suite][0] > 0 && r.cpuMiBps[suite] > 0, suite);
  }
  assert.ok(r.sha256MiBps > 0);
});

test('the TLS pipe fails on a suite that TLS 1.3 does not have, instead of measuring another', { timeout: 30_000 }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chat-ciphers-test-'));
  try {
    const source = path.join(dir, 'source.bin');
    await writeFile(source, 'x');
    const args = [path.join(ROOT, 'bench', 'baselines', 'tls-pipe.ts'), source, path.join(dir, 'out.bin'), path.join(dir, 'a'), path.join(dir, 'b'), '--cipher', 'TLS_NO_SUCH_SUITE'];
    const result = await collect(spawn(process.execPath, args, { cwd: ROOT }), undefined, 25_000);
    assert.notEqual(result.code, 0);
    assert.equal(result.stdout, '', 'no figure printed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
