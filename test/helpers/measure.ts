/** What the bound tests measure: a process's resident memory and a file's size, and MiB to say them in. */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';

const MiB = 1024 * 1024;

/** The resident memory (VmRSS) of process `pid` in bytes, as Linux reports it in /proc/PID/status. */
export function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(match, 'VmRSS in /proc/PID/status');
  return Number(match[1]) * 1024;
}

/** The size of `file` in bytes; 0 while it does not exist (a WAL not yet written, a log not yet rotated). */
export function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** `bytes` in MiB with one decimal, for the numbers a test prints or fails with. */
export const mb = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
