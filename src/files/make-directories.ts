/** Creates a directory and its missing parents one at a time, so that a failure names the step and never loops. */
import path from 'node:path';
import { lstatOrUndefined } from './lstat-or-undefined.ts';

// getBuiltinModule, not an import: an ESM import of a built-in evaluates all its exports (docs/benchmarks.md, row 5).
const { mkdirSync } = process.getBuiltinModule('node:fs');

/** A directory that cannot be created, or a path that is in the way; the message says which and why. */
export class DirectoryCreateError extends Error {
  override name = 'DirectoryCreateError';
}

/** errno codes as a person reads them. */
const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  // mkdir in a directory that exists but takes no new entries (/proc, /sys) says ENOENT.
  ENOENT: 'that file system does not allow new directories there',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
};

/**
 * Like `mkdirSync(dir, { recursive: true, mode })`, which Node loops on forever where mkdir answers
 * ENOENT for a parent that exists (`/proc/nope`: chatd hung until `chat daemon start` gave up after
 * 20 s). Returns whether `dir` was created. `what` names it in errors ("the downloads directory").
 */
export function makeDirectories(dir: string, mode: number, what: string): boolean {
  const target = path.resolve(dir);
  const missing: string[] = [];
  let current = target;
  for (;;) {
    // A file on the path (ENOTDIR) reads as missing here: the walk up finds it and says so.
    const stats = lstatOrUndefined(current);
    if (stats) {
      if (!stats.isDirectory() && !stats.isSymbolicLink()) {
        const kind = stats.isFile() ? 'a file' : 'not a directory';
        throw new DirectoryCreateError(current === target ? `${what} ${target} is ${kind}, not a directory` : `cannot create ${what} ${target}: ${current} is ${kind}, not a directory`);
      }
      break;
    }
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const step of missing) {
    try {
      mkdirSync(step, { mode });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      // Someone else made it meanwhile: fine, as long as it is a directory (checked by the caller).
      if (code === 'EEXIST') continue;
      const where = step === target ? '' : ` (at ${step})`;
      throw new DirectoryCreateError(`cannot create ${what} ${target}${where}: ${REASONS[code] ?? (error as Error).message} (${code})`);
    }
  }
  return missing.length > 0;
}
