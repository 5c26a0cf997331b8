/**
 * The openssl command line for tests, as a DER encoder independent of ours (`asn1parse -genconf`)
 * and as a certificate checker (`x509`, `verify`); `OPENSSL` is false where it is not installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const OPENSSL_TIMEOUT_MS = 30_000;
const OUTPUT_FILE = 'out.der';

export const OPENSSL = spawnSync('openssl', ['version'], { stdio: 'ignore', timeout: OPENSSL_TIMEOUT_MS }).status === 0;

export interface OpensslRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What openssl wrote to `out.der`, if anything. */
  output?: Buffer;
}

/** Runs openssl in a temporary directory holding `files`; names in `args` are relative to it. */
export function openssl(args: string[], files: Record<string, string | Buffer> = {}): OpensslRun {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-openssl-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
    const run = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: OPENSSL_TIMEOUT_MS });
    const output = path.join(dir, OUTPUT_FILE);
    return { code: run.status, stdout: run.stdout, stderr: run.stderr, ...(existsSync(output) ? { output: readFileSync(output) } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The DER that OpenSSL's ASN1_generate_nconf makes from a `-genconf` description. */
export function opensslGenerate(conf: string): Buffer {
  const run = openssl(['asn1parse', '-genconf', 'in.conf', '-out', OUTPUT_FILE, '-noout'], { 'in.conf': conf });
  if (run.code !== 0 || !run.output) throw new Error(`openssl asn1parse -genconf failed: ${run.stderr}`);
  return run.output;
}
