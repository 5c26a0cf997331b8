/**
 * Decides whether the control socket can only be this user's daemon, before a client sends it a
 * byte and before the daemon serves on it.
 *
 * Why the folder is what matters: once the socket's folder is a real directory of ours that nobody
 * else can enter (0700), and its parent does not let others rename it away (theirs is not writable
 * by others, or is sticky like /tmp), nobody else can put a socket or a link in its place between
 * this check and the connect. So the check is lstat-only, and the socket itself must be a socket
 * of ours (root could still plant one: it is refused too). Windows named pipes are not checked.
 */
import type { Stats } from 'node:fs';
import path from 'node:path';
import { lstatOrUndefined } from '../files/lstat-or-undefined.ts';
import { prepareOwnedDirectory } from '../files/owner-only.ts';
import type { SocketLocation, SocketPlace } from './paths.ts';

// getBuiltinModule, not an import: an ESM import of a built-in evaluates all its exports (docs/benchmarks.md, row 5).
const { mkdirSync, statSync } = process.getBuiltinModule('node:fs');

/** The socket or its folder could belong to someone else: nothing is sent to it. */
export class UntrustedSocketError extends Error {
  override name = 'UntrustedSocketError';
  readonly path: string;

  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

const OTHERS_ANY = 0o077;
const OTHERS_WRITE = 0o022;
const STICKY = 0o1000;
const ROOT_UID = 0;

/**
 * For a client: 'absent' when there is no socket (no daemon, and nothing to connect to), 'present'
 * when it may connect; throws UntrustedSocketError when the folder or the socket is not ours alone.
 */
export function checkControlSocket(location: SocketLocation): 'absent' | 'present' {
  if (location.place === 'pipe' || process.platform === 'win32') return 'present';
  const dir = path.dirname(location.path);
  if (checkSocketDirectory(dir, location.place) === 'absent') return 'absent';
  return checkSocketFile(location);
}

/**
 * For the daemon: makes the socket's folder (0700) and checks it as a client will. Only a folder in
 * the profile or in our runtime directory is tightened when it is merely readable by others: a
 * folder in shared tmp that is not 0700 and ours was not made by us, and is refused.
 */
export function prepareSocketDirectory(location: SocketLocation): void {
  if (location.place === 'pipe' || process.platform === 'win32') return;
  const dir = path.dirname(location.path);
  if (location.place === 'tmp') mkdirSync(dir, { recursive: true, mode: 0o700 });
  else prepareOwnedDirectory(dir, 'the control socket directory', { ownerOnly: true });
  checkSocketDirectory(dir, location.place);
}

/** The socket file itself: 'absent', or 'present' if it is a socket of ours. */
export function checkSocketFile(location: SocketLocation): 'absent' | 'present' {
  if (location.place === 'pipe' || process.platform === 'win32') return 'present';
  const stats = lstatOrUndefined(location.path);
  if (!stats) return 'absent';
  const uid = currentUid();
  const refuse = (problem: string) => {
    const advice = `remove it (rm ${location.path}) and start the daemon again${runtimeHint(location.place)}`;
    return new UntrustedSocketError(location.path, `refusing the control socket ${location.path}: ${problem}; ${advice}`);
  };
  if (!stats.isSocket()) throw refuse(stats.isSymbolicLink() ? 'it is a symbolic link, not a socket' : 'it is not a socket');
  if (stats.uid !== uid) throw refuse(`it belongs to another user (uid ${stats.uid}, we are ${uid})`);
  return 'present';
}

function checkSocketDirectory(dir: string, place: SocketPlace): 'absent' | 'present' {
  const stats = lstatOrUndefined(dir);
  if (!stats) return 'absent';
  const uid = currentUid();
  const ours = stats.uid === uid;
  const refuse = (problem: string, advice: string) =>
    new UntrustedSocketError(dir, `refusing the control socket directory ${dir}: ${problem}; ${advice}${runtimeHint(place)}`);
  const removeIt = ours
    ? `remove it (rm -r ${dir}) and start the daemon again`
    : `have it removed (rm -r ${dir}, by its owner or root)`;
  if (stats.isSymbolicLink()) throw refuse('it is a symbolic link', `remove the link (rm ${dir}) and start the daemon again`);
  if (!stats.isDirectory()) throw refuse('it is not a directory', `remove it (rm ${dir}) and start the daemon again`);
  if (!ours) throw refuse(`it belongs to another user (uid ${stats.uid}, we are ${uid}), who could pose as your daemon`, removeIt);
  if ((stats.mode & OTHERS_ANY) !== 0) {
    const access = (stats.mode & OTHERS_WRITE) !== 0 ? 'writable by' : 'accessible to';
    // In the profile or our runtime dir only we could have loosened it; in shared tmp, start over.
    const advice = place === 'tmp' ? removeIt : `fix it with: chmod 700 ${dir}`;
    throw refuse(`it is ${access} other users (mode ${modeOf(stats)})`, advice);
  }
  checkParent(dir, place);
  return 'present';
}

/** A parent others may write to (and that is not sticky) lets them rename our folder and put theirs there. */
function checkParent(dir: string, place: SocketPlace): void {
  const parent = path.dirname(dir);
  // The parent may be reached through a link (macOS /tmp): what counts is the directory it is.
  const stats = statSync(parent);
  const uid = currentUid();
  const problem = stats.uid !== uid && stats.uid !== ROOT_UID
    ? `its parent ${parent} belongs to another user (uid ${stats.uid}, we are ${uid})`
    : (stats.mode & OTHERS_WRITE) !== 0 && (stats.mode & STICKY) === 0
      ? `its parent ${parent} is writable by other users and not sticky (mode ${modeOf(stats)})`
      : undefined;
  if (!problem) return;
  const where = place === 'tmp' ? 'TMPDIR' : place === 'runtime' ? 'XDG_RUNTIME_DIR' : 'CHAT_HOME';
  throw new UntrustedSocketError(dir, `refusing the control socket directory ${dir}: ${problem}, so they could replace it; use a ${where} only you can write to${runtimeHint(place)}`);
}

function runtimeHint(place: SocketPlace): string {
  return place === 'tmp' ? ', or set XDG_RUNTIME_DIR to a private directory (mode 0700) of yours' : '';
}

function currentUid(): number {
  return process.getuid?.() ?? 0;
}

function modeOf(stats: Stats): string {
  return (stats.mode & 0o7777).toString(8).padStart(4, '0');
}
