/** A whole path checked the way OpenSSH's StrictModes does: no directory on it that another user could swap. */
import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { UnsafePathError } from './owner-only.ts';

/**
 * Refuses a path that another user could redirect, the way OpenSSH's StrictModes checks one
 * (`safe_path()` in misc.c): every directory it goes through must be ours or root's and writable
 * by nobody else, except a sticky one such as /tmp.
 */

/** Links followed while resolving one path before giving up: Linux's own limit (ELOOP). */
const MAX_SYMLINKS_FOLLOWED = 40;
const GROUP_OR_WORLD_WRITABLE = 0o022;
const STICKY = 0o1000;

/**
 * Walks `target` from / as the kernel would, following symbolic links, and checks each directory
 * whose entries the walk reads: every ancestor of the real path up to /, and every directory
 * holding a link on the way. Each must belong to us or root and be writable by no one else, or be
 * sticky (others cannot rename what is ours there), and then the entry we pass through must be
 * ours or root's. OpenSSH refuses sticky directories too; we allow them so that a path under /tmp
 * works, as it is just as safe. The target itself is left to its own checks (prepareOwnedDirectory);
 * where the walk meets a missing entry it stops: what is missing, mkdir will create, and the
 * directory it is created in has been checked. Returns the real path (the missing tail appended).
 */
export function checkPathChain(target: string, what: string): string {
  const uid = process.getuid?.();
  if (process.platform === 'win32' || uid === undefined) return target;
  const checked = new Set<string>();
  const refuse = (problem: string, fix: string): never => {
    throw new UnsafePathError(`${what} ${target} is not safe: ${problem}; fix it with: ${fix}, or use another directory`);
  };
  const checkDirectory = (dir: string, entry: string, entryStats: Stats | undefined): void => {
    const stats = lstatSync(dir);
    if (!checked.has(dir)) {
      checked.add(dir);
      if (!isTrustedOwner(stats.uid, uid)) {
        refuse(
          `${dir} on its path belongs to another user (uid ${stats.uid}, mode ${modeOf(stats)}), who could swap what it holds for a link`,
          `chown ${uid} ${dir} (as root)`,
        );
      }
      if ((stats.mode & GROUP_OR_WORLD_WRITABLE) !== 0 && (stats.mode & STICKY) === 0) {
        refuse(
          `${dir} on its path is writable by other users (owner uid ${stats.uid}, mode ${modeOf(stats)}), who could swap what it holds for a link`,
          `chmod go-w ${dir} (or chmod +t ${dir} if others must write there)`,
        );
      }
    }
    // In a sticky directory others may write, only what is ours (or root's) stays where it is.
    if ((stats.mode & GROUP_OR_WORLD_WRITABLE) !== 0 && entryStats && !isTrustedOwner(entryStats.uid, uid)) {
      refuse(
        `${entry} in the shared directory ${dir} belongs to another user (uid ${entryStats.uid}), who could replace it`,
        `chown ${uid} ${entry} (as root)`,
      );
    }
  };

  let pending = components(path.resolve(target));
  let current = '/';
  let followed = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      current = path.dirname(current);
      continue;
    }
    const next = path.join(current, name);
    let stats: Stats;
    try {
      stats = lstatSync(next);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      checkDirectory(current, next, undefined);
      return path.join(next, ...pending);
    }
    checkDirectory(current, next, stats);
    if (stats.isSymbolicLink()) {
      if (++followed > MAX_SYMLINKS_FOLLOWED) throw new UnsafePathError(`${what} ${target}: too many symbolic links on its path`);
      const link = readlinkSync(next);
      pending = [...components(link), ...pending];
      if (path.isAbsolute(link)) current = '/';
      continue;
    }
    if (pending.length > 0 && !stats.isDirectory()) throw new UnsafePathError(`${what} ${target}: ${next} on its path is not a directory`);
    current = next;
  }
  return current;
}

function isTrustedOwner(owner: number, uid: number): boolean {
  return owner === uid || owner === 0;
}

function components(text: string): string[] {
  return text.split('/').filter((part) => part.length > 0);
}

function modeOf(stats: Stats): string {
  return (stats.mode & 0o7777).toString(8).padStart(4, '0');
}
