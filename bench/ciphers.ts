/**
 * Which TLS 1.3 cipher suite, measured, not assumed (issue 13, target 8): each suite through the
 * TLS pipe baseline (bench/baselines/tls-pipe.ts, chat's own context limited to that one suite),
 * interleaved run by run, and what each costs the CPU alone (node:crypto over 16 KiB records,
 * next to SHA-256, which both daemons compute over every file).
 *
 *   node bench/ciphers.ts [--size 512M] [--runs 3] [--json]
 *
 * Files go to os.tmpdir() (TMPDIR=/dev/shm for tmpfs, so the disk is out of the way). Not part of
 * `npm run bench`: it answers one question once, and the answer is in docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadOrCreateIdentity } from '../src/identity/identity.ts';
import { parseByteSize } from '../src/text/sizes.ts';

const MiB = 1024 * 1024;
const RECORD_BYTES = 16 * 1024;
const SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'] as const;
const AEADS: Record<(typeof SUITES)[number], { name: string; keyBytes: number }> = {
  TLS_AES_256_GCM_SHA384: { name: 'aes-256-gcm', keyBytes: 32 },
  TLS_AES_128_GCM_SHA256: { name: 'aes-128-gcm', keyBytes: 16 },
  TLS_CHACHA20_POLY1305_SHA256: { name: 'chacha20-poly1305', keyBytes: 32 },
};
const PIPE = path.join(import.meta.dirname, 'baselines', 'tls-pipe.ts');

const { values } = parseArgs({ options: { size: { type: 'string', default: '512M' }, runs: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } } });
const size = parseByteSize(values.size!) ?? Number.NaN;
const runs = Number(values.runs);
if (!(size >= MiB) || !Number.isInteger(runs) || runs < 1) throw new Error('--size must be at least 1M and --runs a whole number');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** MiB/s of `work` over `bytes`, in 16 KiB pieces as TLS records are. */
function cpuMiBps(bytes: number, work: (piece: Buffer) => void): number {
  const piece = randomBytes(RECORD_BYTES);
  const started = performance.now();
  for (let done = 0; done < bytes; done += RECORD_BYTES) work(piece);
  return bytes / MiB / ((performance.now() - started) / 1000);
}

function aeadMiBps(suite: (typeof SUITES)[number], bytes: number): number {
  const { name, keyBytes } = AEADS[suite];
  // One cipher over all of it: what OpenSSL's AEAD costs per byte, without a JS object per record
  // (TLS makes none: its records are sealed in C).
  const cipher = createCipheriv(name as 'aes-256-gcm', randomBytes(keyBytes), randomBytes(12), { authTagLength: 16 });
  const speed = cpuMiBps(bytes, (piece) => { cipher.update(piece); });
  cipher.final();
  return speed;
}

const work = await mkdtemp(path.join(os.tmpdir(), 'chat-ciphers-'));
try {
  const source = path.join(work, 'source.bin');
  const handle = await open(source, 'w');
  for (let written = 0; written < size; written += 8 * MiB) await handle.write(randomBytes(Math.min(8 * MiB, size - written)));
  await handle.close();
  const identities = [path.join(work, 'listener'), path.join(work, 'dialler')];
  for (const dir of identities) await loadOrCreateIdentity(dir);

  const pipe: Record<string, number[]> = Object.fromEntries(SUITES.map((suite) => [suite, []]));
  for (let run = 0; run < runs; run++) {
    // A different order each run, so that no suite always follows the same one.
    const order = SUITES.map((_, i) => SUITES[(i + run) % SUITES.length]!);
    for (const suite of order) {
      const destination = path.join(work, 'destination.bin');
      const result = spawnSync(process.execPath, [PIPE, source, destination, ...identities, '--cipher', suite], { encoding: 'utf8', timeout: 600_000 });
      await rm(destination, { force: true });
      if (result.status !== 0) throw new Error(`tls-pipe with ${suite} failed: ${result.stderr}`);
      const line = JSON.parse(result.stdout) as { seconds: number; cipher: string };
      if (line.cipher !== suite) throw new Error(`asked for ${suite}, negotiated ${line.cipher}`);
      pipe[suite]!.push(size / MiB / line.seconds);
    }
  }
  const cpuBytes = Math.min(size, 256 * MiB);
  const cpu = Object.fromEntries(SUITES.map((suite) => [suite, aeadMiBps(suite, cpuBytes)]));
  const hash = createHash('sha256');
  const sha256 = cpuMiBps(cpuBytes, (piece) => { hash.update(piece); });
  hash.digest();
  const results = { size, runs, tmpdir: os.tmpdir(), node: process.version, openssl: process.versions.openssl, pipeMiBps: pipe, cpuMiBps: cpu, sha256MiBps: sha256 };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(results)}\n`);
  } else {
    process.stdout.write(`TLS pipe, ${size / MiB} MiB in ${os.tmpdir()}, ${runs} runs each (Node ${process.version}, OpenSSL ${process.versions.openssl}); CPU alone over ${cpuBytes / MiB} MiB in 16 KiB pieces\n`);
    for (const suite of SUITES) {
      const xs = pipe[suite]!;
      process.stdout.write(`${suite.padEnd(30)} pipe ${median(xs).toFixed(0)} MiB/s (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}); encrypt alone ${cpu[suite]!.toFixed(0)} MiB/s\n`);
    }
    process.stdout.write(`${'SHA-256'.padEnd(30)} hash alone ${sha256.toFixed(0)} MiB/s\n`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
