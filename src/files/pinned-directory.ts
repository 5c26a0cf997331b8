import { closeSync, constants, fstatSync, lstatSync, openSync, statSync, type BigIntStats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { UnsafePathError } from './owner-only.ts';

/**
 * Holds a checked directory open for the daemon's life, so that files are created and renamed in
 * that very directory, and says when its path no longer leads there.
 */

/** The directory's path now leads elsewhere (or nowhere): nothing may be written through it. */
export class DirectoryChangedError extends Error {
  override name = 'DirectoryChangedError';
}

/** Where the kernel shows a process its own open descriptors; Linux only. */
const OWN_DESCRIPTORS = '/proc/self/fd';

/**
 * A directory opened once (O_DIRECTORY | O_NOFOLLOW) after its checks passed. On Linux every
 * entry is reached through `/proc/self/fd/N/NAME`, which the kernel resolves to the open
 * directory itself, not by its path: a link or another directory put in its place later cannot
 * redirect a file, even between `verify()` and the open. Elsewhere entries are reached by the
 * path, and `verify()` before each use is what is left (a swap in between is not caught).
 */
export class PinnedDirectory {
  /** The path as configured, for people and logs. */
  readonly path: string;
  /** True when entries are reached through the open descriptor, not by the path. */
  readonly raceFree: boolean;
  private readonly what: string;
  private fd: number | undefined;
  private readonly dev: bigint;
  private readonly ino: bigint;
  /** The directory as file operations reach it: through the descriptor, or by the path. */
  private readonly base: string;

  private constructor(dir: string, what: string, fd: number | undefined, stats: BigIntStats, base: string) {
    this.path = dir;
    this.what = what;
    this.fd = fd;
    this.dev = stats.dev;
    this.ino = stats.ino;
    this.base = base;
    this.raceFree = base !== dir;
  }

  /** Opens `dir`, which must be a directory and not a link; call it once its checks have passed. */
  static open(dir: string, what: string): PinnedDirectory {
    const seen = lstatSync(dir, { bigint: true });
    if (seen.isSymbolicLink() || !seen.isDirectory()) throw new UnsafePathError(`${what} ${dir} is not a directory`);
    if (process.platform === 'win32') return new PinnedDirectory(dir, what, undefined, seen, dir);
    const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      const held = fstatSync(fd, { bigint: true });
      if (held.dev !== seen.dev || held.ino !== seen.ino) {
        throw new UnsafePathError(`${what} ${dir} changed while it was being checked; start again`);
      }
      const through = `${OWN_DESCRIPTORS}/${fd}`;
      return new PinnedDirectory(dir, what, fd, held, sameDirectory(through, held) ? through : dir);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /** Where to create, rename or remove `name` in the held directory (not for people to read). */
  entryPath(name: string): string {
    return path.join(this.base, name);
  }

  /** The held directory itself, as file operations reach it (for statfs, say). */
  get heldPath(): string {
    return this.base;
  }

  /** Where `name` is, for people: under the configured path. */
  shownPath(name: string): string {
    return path.join(this.path, name);
  }

  /**
   * Throws DirectoryChangedError unless the path still leads to the directory held since the
   * start: same device and inode, a directory, not a link.
   */
  async verify(): Promise<void> {
    let now: BigIntStats;
    try {
      now = await lstat(this.path, { bigint: true });
    } catch (error) {
      throw this.changed(`it is gone (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    if (now.isSymbolicLink()) throw this.changed('it is now a symbolic link');
    if (!now.isDirectory()) throw this.changed('it is no longer a directory');
    if (now.dev !== this.dev || now.ino !== this.ino) {
      throw this.changed(`it is now another directory (device ${now.dev} inode ${now.ino}, was device ${this.dev} inode ${this.ino})`);
    }
  }

  /** Safe to call more than once. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private changed(how: string): DirectoryChangedError {
    return new DirectoryChangedError(
      `${this.what} ${this.path} changed since chatd started: ${how}; nothing is written there until chatd is restarted`,
    );
  }
}

function sameDirectory(through: string, held: BigIntStats): boolean {
  try {
    const stats = statSync(through, { bigint: true });
    return stats.dev === held.dev && stats.ino === held.ino;
  } catch {
    return false;
  }
}
