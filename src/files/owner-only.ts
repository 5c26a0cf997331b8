/** Owner-only files and directories: checks that they are ours alone, and atomic private writes. */
import type { Stats } from 'node:fs';
import path from 'node:path';
import { makeDirectories } from './make-directories.ts';

// getBuiltinModule, not an import: an ESM import of a built-in evaluates all its exports (docs/benchmarks.md, row 5).
const { chmodSync, closeSync, fchmodSync, fsyncSync, lstatSync, openSync, renameSync, rmSync, writeFileSync } = process.getBuiltinModule('node:fs');

/**
 * Checks on the directories and files that must belong to this user alone: the control socket's
 * directory, the downloads directory, the identity key. Another user who can write to one of
 * these directories could swap the socket, or plant a link where a received file is written.
 */

export class UnsafePathError extends Error {
  override name = 'UnsafePathError';
}

const GROUP_OR_WORLD_WRITABLE = 0o022;
const GROUP_OR_WORLD_ANY = 0o077;

/**
 * Creates `dir` (0700) if it is missing. Refuses one that is not a directory, belongs to another
 * user or is group/world writable; one that is merely readable by others is tightened to 0700
 * when `ownerOnly` (it is ours, and it holds something private).
 */
export function prepareOwnedDirectory(dir: string, what: string, options: { ownerOnly: boolean }): void {
  makeDirectories(dir, 0o700, what);
  if (process.platform === 'win32') return;
  const stats = lstatSync(dir);
  if (stats.isSymbolicLink()) throw new UnsafePathError(`${what} ${dir} is a symbolic link; use the real directory`);
  if (!stats.isDirectory()) throw new UnsafePathError(`${what} ${dir} is not a directory`);
  refuseForeignOwner(stats, dir, what);
  if ((stats.mode & GROUP_OR_WORLD_WRITABLE) !== 0) {
    throw new UnsafePathError(
      `${what} ${dir} is writable by other users (mode ${modeOf(stats)}); fix it with: chmod go-w ${dir}`,
    );
  }
  if (options.ownerOnly && (stats.mode & GROUP_OR_WORLD_ANY) !== 0) chmodSync(dir, 0o700);
}

/** Refuses a file that is not a regular file of ours, or that others may read or write. */
export function checkPrivateFile(file: string, what: string): void {
  if (process.platform === 'win32') return;
  const stats = lstatSync(file);
  if (!stats.isFile()) throw new UnsafePathError(`${what} ${file} is not a regular file`);
  refuseForeignOwner(stats, file, what);
  if ((stats.mode & GROUP_OR_WORLD_ANY) !== 0) {
    throw new UnsafePathError(`${what} ${file} is accessible to other users (mode ${modeOf(stats)}); fix it with: chmod 600 ${file}`);
  }
}

function refuseForeignOwner(stats: Stats, file: string, what: string): void {
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    throw new UnsafePathError(`${what} ${file} belongs to another user (uid ${stats.uid}, we are ${uid}); refusing to use it`);
  }
}

function modeOf(stats: Stats): string {
  return (stats.mode & 0o777).toString(8).padStart(4, '0');
}

/**
 * Replaces `file` atomically with `text`, owner-only (0600) whatever the umask, and durably: the
 * data is synced before the rename, and the directory after it, so that power loss leaves the old
 * file or the new one. A failed write (disk full) leaves the old file and no temporary one.
 */
export function writePrivateFile(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(temporary, 'w', 0o600);
    try {
      fchmodSync(fd, 0o600);
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  syncDirectory(path.dirname(file));
}

/** Makes a rename or a new entry in `dir` durable (its entry list synced to disk). */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
