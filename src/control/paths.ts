/** Where everything of a profile lives: its directory, the control socket, the log, the history, the keys. */
import os from 'node:os';
import path from 'node:path';

// getBuiltinModule, not an import: an ESM import of a built-in evaluates all its exports (docs/benchmarks.md, row 5).
const { lstatSync } = process.getBuiltinModule('node:fs');

export const DEFAULT_PROFILE = 'default';
const PROFILE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** sun_path is 104 bytes on macOS, 108 on Linux; stay under both with the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 100;

/**
 * Where the control socket lives: in the profile (`run/`), in this user's runtime directory
 * (`$XDG_RUNTIME_DIR/chat`), in a per-user folder of the shared temp directory, or (Windows) a pipe.
 * Only the shared-tmp folder can have been made by someone else first.
 */
export type SocketPlace = 'profile' | 'runtime' | 'tmp' | 'pipe';

export interface SocketLocation {
  path: string;
  place: SocketPlace;
}

/** What the socket's place depends on; tests pass their own. */
export interface SocketSystem {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  tmpdir: string;
  uid: number;
}

export interface ProfilePaths {
  home: string;
  profile: string;
  /** Everything of this profile lives here. */
  dir: string;
  /** Owner-only directory holding the control socket. */
  runDir: string;
  socket: string;
  socketPlace: SocketPlace;
  /** Holds the daemon's pid while it runs: one daemon per profile. */
  pidFile: string;
  logFile: string;
  historyFile: string;
  defaultDownloads: string;
  /** Owner-only: this profile's private key and certificate. */
  identityDir: string;
  /** Peer names pinned to their keys. */
  knownPeersFile: string;
  /** The peer a daemon that starts again redials (src/daemon/last-peer.ts). */
  lastPeerFile: string;
  /** The outgoing transfers not finished yet (src/daemon/transfer-records.ts). */
  transfersFile: string;
  /** The incoming transfers completed lately, for a sender that missed the result (src/daemon/completed-transfers.ts). */
  receivedFile: string;
}

export class InvalidProfileError extends Error {
  override name = 'InvalidProfileError';
}

/**
 * The data directory for "chat" exactly as oclif's `config.dataDir` computes it (CHAT_DATA_DIR, then
 * XDG_DATA_HOME, then LOCALAPPDATA on Windows, then ~/.local/share — on macOS too), without
 * loading oclif: the daemon and the fast path must find the same place as the oclif commands.
 */
export function defaultChatHome(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.CHAT_DATA_DIR) return env.CHAT_DATA_DIR;
  const windows = platform === 'win32';
  const windowsHome = env.HOMEDRIVE && env.HOMEPATH ? path.join(env.HOMEDRIVE, env.HOMEPATH) : env.USERPROFILE;
  const home = env.HOME || (windows && windowsHome) || os.homedir() || os.tmpdir();
  const base = env.XDG_DATA_HOME || (windows && env.LOCALAPPDATA) || path.join(home, '.local/share');
  return path.join(base, 'chat');
}

export function validateProfileName(profile: string): string {
  if (!PROFILE_PATTERN.test(profile)) {
    throw new InvalidProfileError(
      `invalid profile name "${profile}": use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return profile;
}

export function resolveProfilePaths(options: { home?: string; profile?: string } = {}): ProfilePaths {
  const home = path.resolve(options.home || process.env.CHAT_HOME || defaultChatHome());
  const profile = validateProfileName(options.profile || process.env.CHAT_PROFILE || DEFAULT_PROFILE);
  const dir = path.join(home, 'profiles', profile);
  const runDir = path.join(dir, 'run');
  const socket = controlSocketLocation(runDir);
  return {
    home,
    profile,
    dir,
    runDir,
    socket: socket.path,
    socketPlace: socket.place,
    pidFile: path.join(dir, 'chatd.pid'),
    logFile: path.join(dir, 'chatd.log'),
    historyFile: path.join(dir, 'history.db'),
    defaultDownloads: path.join(dir, 'downloads'),
    identityDir: path.join(dir, 'identity'),
    knownPeersFile: path.join(dir, 'known_peers.json'),
    lastPeerFile: path.join(dir, 'last_peer.json'),
    transfersFile: path.join(dir, 'transfers.json'),
    receivedFile: path.join(dir, 'received.json'),
  };
}

/**
 * The control socket lives in the profile's run directory; when that path is too long for a Unix
 * socket, in this user's runtime directory if it has a usable one, else in a per-user folder of the
 * temp directory; named by a hash of the run directory either way.
 */
export function controlSocketLocation(runDir: string, system: SocketSystem = currentSystem()): SocketLocation {
  if (system.platform === 'win32') {
    // The daemon (node-ipc) and the client (client.ts) turn "/name" into the pipe \\.\pipe\name;
    // a full pipe path would get the prefix twice on the server side only.
    return { path: `/chat-${runDirDigest(runDir)}`, place: 'pipe' };
  }
  const inProfile = path.join(runDir, 'control.sock');
  if (Buffer.byteLength(inProfile) <= MAX_SOCKET_PATH_BYTES) return { path: inProfile, place: 'profile' };
  const digest = runDirDigest(runDir);
  const runtime = privateRuntimeDir(system.env.XDG_RUNTIME_DIR, system.uid);
  if (runtime) {
    const inRuntime = path.join(runtime, 'chat', `${digest}.sock`);
    if (Buffer.byteLength(inRuntime) <= MAX_SOCKET_PATH_BYTES) return { path: inRuntime, place: 'runtime' };
  }
  return { path: path.join(system.tmpdir, `chat-${system.uid}`, `${digest}.sock`), place: 'tmp' };
}

/**
 * The socket's name outside the profile. node:crypto is loaded only here, when a socket needs it:
 * loading it costs `chat send` about a tenth of its start-up, and the usual socket is in the profile.
 */
function runDirDigest(runDir: string): string {
  const { createHash } = process.getBuiltinModule('node:crypto');
  return createHash('sha256').update(runDir).digest('hex').slice(0, 24);
}

function currentSystem(): SocketSystem {
  return { platform: process.platform, env: process.env, tmpdir: os.tmpdir(), uid: process.getuid?.() ?? 0 };
}

/**
 * XDG_RUNTIME_DIR if it is what the spec promises (an absolute path to a directory of this user
 * that nobody else can enter), else undefined: a runtime directory someone else could write to
 * would be no better than shared tmp.
 */
function privateRuntimeDir(value: string | undefined, uid: number): string | undefined {
  if (!value || !path.isAbsolute(value)) return undefined;
  try {
    const stats = lstatSync(value);
    return stats.isDirectory() && stats.uid === uid && (stats.mode & 0o077) === 0 ? value : undefined;
  } catch {
    return undefined;
  }
}
