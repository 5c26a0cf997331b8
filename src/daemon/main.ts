/** chatd's entry point: parses its options, checks and opens what the daemon needs, starts it, reports readiness. */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PROFILE, resolveProfilePaths, type ProfilePaths } from '../control/paths.ts';
import { formatFingerprint } from '../identity/fingerprint-notation.ts';
import { checkDisplayName, parseAcceptMode, parseListenPort, parseMaxFileSize, parsePingInterval, reconnectEnabled } from '../control/daemon-options.ts';
import { DirectoryCreateError } from '../files/make-directories.ts';
import { prepareOwnedDirectory } from '../files/owner-only.ts';
import { checkPathChain } from '../files/path-chain.ts';
import { PinnedDirectory } from '../files/pinned-directory.ts';
import { loadOrCreateIdentity } from '../identity/identity.ts';
import { KnownPeers } from '../identity/known-peers.ts';
import type { KeepaliveOptions } from '../peer/session.ts';
import { slowWritesForTest } from '../peer/partial-file.ts';
import type { DaemonReport } from '../control/spawn.ts';
import { prepareSocketDirectory, UntrustedSocketError } from '../control/socket-trust.ts';
import { openHistory } from '../history/store.ts';
import { ChatDaemon } from './daemon.ts';
import { createFileLogger, type Logger } from './logger.ts';
import { AlreadyRunningError, acquirePidLock } from './pid-lock.ts';
import { detectSupervisor } from './supervisor.ts';

/** With --ping-interval: how many intervals of silence a peer gets before it is dropped. */
const SILENT_INTERVALS_BEFORE_DROP = 4;

const USAGE = `usage: chatd [--home DIR] [--profile NAME] [--port N] [--host ADDR] [--name NAME] [--downloads DIR]
             [--max-file-size SIZE] [--ping-interval SECONDS] [--no-reconnect] [--accept known|invited|any]
Runs the chat daemon in the foreground (for systemd, launchd, or a terminal). "chat daemon start"
starts the same program in the background. Environment: CHAT_HOME, CHAT_PROFILE.`;

/** Entry point of bin/chatd.js. Reports readiness to a parent `chat daemon start` over IPC if there is one. */
export async function runDaemon(argv: string[]): Promise<void> {
  const supervisor = detectSupervisor({ env: process.env, ppid: process.ppid, spawnedByChat: process.send !== undefined });
  const report = (message: DaemonReport) =>
    new Promise<void>((resolve) => {
      if (!process.send) resolve();
      else process.send(message, undefined, {}, () => resolve());
    });
  let options;
  try {
    options = parseArgs({
      args: argv,
      options: {
        home: { type: 'string' },
        profile: { type: 'string' },
        port: { type: 'string', default: '0' },
        host: { type: 'string', default: '127.0.0.1' },
        name: { type: 'string' },
        downloads: { type: 'string' },
        'max-file-size': { type: 'string' },
        'ping-interval': { type: 'string' },
        'no-reconnect': { type: 'boolean' },
        accept: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    process.stderr.write(`chatd: ${(error as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  // Everything chatd creates (history, log, keys, received files) is this user's alone, whatever
  // umask the user's shell had.
  process.umask(0o077);
  let paths: ProfilePaths;
  let log: Logger | undefined;
  try {
    paths = resolveProfilePaths({ home: options.home, profile: options.profile });
    const port = parseListenPort(options.port);
    const name = checkDisplayName(options.name ?? defaultName(paths.profile));
    const maxFileSize = parseMaxFileSize(options['max-file-size']);
    const keepalive = keepaliveOf(options['ping-interval']);
    const accept = parseAcceptMode(options.accept);
    // Whoever can write to these could swap the socket, the keys or the pins (known_peers.json):
    // check them before anything is created in them.
    prepareOwnedDirectory(paths.home, 'CHAT_HOME', { ownerOnly: false });
    prepareOwnedDirectory(path.dirname(paths.dir), 'the profiles directory', { ownerOnly: false });
    prepareOwnedDirectory(paths.dir, 'the profile directory', { ownerOnly: true });
    prepareSocketDirectory({ path: paths.socket, place: paths.socketPlace });
    log = createFileLogger(paths.logFile, { echo: !process.send, maxFileBytes: testLogMaxBytes() });
    slowWritesForTest(testNumber('CHATD_TEST_WRITE_BYTES_PER_SECOND', 1024));
    const releaseLock = await acquirePidLock(paths.pidFile);
    const downloadsPath = path.resolve(options.downloads ?? paths.defaultDownloads);
    let downloads;
    let history;
    let identity;
    let knownPeers;
    try {
      // Whoever can write to a directory on its path could swap the downloads directory for a
      // link: check the whole path before anything is created on it, then hold the directory
      // open, so that a swap later cannot redirect a file (TransferReceiver checks before each).
      checkPathChain(downloadsPath, 'the downloads directory');
      try {
        prepareOwnedDirectory(downloadsPath, 'the downloads directory', { ownerOnly: false });
      } catch (error) {
        if (error instanceof DirectoryCreateError) throw new DirectoryCreateError(`${error.message}; choose another with --downloads DIR`);
        throw error;
      }
      downloads = PinnedDirectory.open(downloadsPath, 'the downloads directory');
      identity = await loadOrCreateIdentity(paths.identityDir);
      if (identity.created) log.info(`created this profile's identity: fingerprint ${formatFingerprint(identity.fingerprint)} (${identity.keyFile})`);
      knownPeers = KnownPeers.open(paths.knownPeersFile);
      history = openHistory(paths.historyFile);
    } catch (error) {
      releaseLock();
      throw error;
    }
    const daemon = new ChatDaemon(
      {
        paths, name, host: options.host, port, downloads, version: await readVersion(), supervisor, identity, knownPeers, maxFileSize, keepalive,
        reconnect: reconnectEnabled(options['no-reconnect']), accept, ...testTimings(),
      },
      history,
      log,
    );
    daemon.onStopped(() => {
      log?.flush();
      releaseLock();
      process.exit(0);
    });
    const logger = log;
    process.on('SIGTERM', () => void daemon.stop('SIGTERM'));
    process.on('SIGINT', () => void daemon.stop('SIGINT'));
    process.on('SIGHUP', () => logger.info('SIGHUP ignored'));
    process.on('unhandledRejection', (error) => logger.error(`unhandled rejection: ${(error as Error)?.stack ?? String(error)}`));
    process.on('exit', releaseLock);
    try {
      await daemon.start();
    } catch (error) {
      history.close();
      releaseLock();
      throw error;
    }
    await report({ type: 'ready', status: daemon.status() });
    if (process.send) process.disconnect?.();
  } catch (error) {
    const message = (error as Error).message;
    log?.error(`cannot start: ${message}`);
    await report({ type: 'error', message, alreadyRunning: error instanceof AlreadyRunningError, untrustedSocket: error instanceof UntrustedSocketError });
    if (!process.send) process.stderr.write(`chatd: ${message}\n`);
    // Whatever was half set up (a bound port) must not keep a failed daemon alive.
    process.exit(1);
  }
}

/** Seconds between pings of a quiet peer; it is dropped after four intervals of silence. */
function keepaliveOf(text: string | undefined): KeepaliveOptions | undefined {
  if (text === undefined) return undefined;
  const intervalMs = parsePingInterval(text) * 1000;
  return { pingIntervalMs: intervalMs, silenceLimitMs: intervalMs * SILENT_INTERVALS_BEFORE_DROP };
}

/**
 * Not options for users: let the end-to-end tests see a real daemon rotate its log without
 * writing LOG_MAX_FILE_BYTES first, time out a handshake or an idle control client without
 * waiting out the real limits (10 s, 30 s), and remove stale partial files without waiting a week, offer a transfer waiting for room again without waiting seconds, and redial
 * sooner than the real first wait (1 s), so that a test watching that nobody redials can watch less long;
 * and (CHATD_TEST_WRITE_BYTES_PER_SECOND, in the log block above) a receiving disk slowed to a pace.
 */
function testLogMaxBytes(): number | undefined {
  return testNumber('CHATD_TEST_LOG_MAX_BYTES', 1024);
}

function testTimings(): { handshakeTimeoutMs?: number; controlIdleTimeoutMs?: number; partialMaxAgeMs?: number; transferRetryMs?: number; reconnectBaseMs?: number } {
  return {
    handshakeTimeoutMs: testNumber('CHATD_TEST_HANDSHAKE_TIMEOUT_MS', 100),
    controlIdleTimeoutMs: testNumber('CHATD_TEST_CONTROL_IDLE_TIMEOUT_MS', 100),
    partialMaxAgeMs: testNumber('CHATD_TEST_PARTIAL_MAX_AGE_MS', 100),
    transferRetryMs: testNumber('CHATD_TEST_TRANSFER_RETRY_MS', 50),
    reconnectBaseMs: testNumber('CHATD_TEST_RECONNECT_BASE_MS', 50),
  };
}

function testNumber(variable: string, minimum: number): number | undefined {
  const text = process.env[variable];
  const value = Number(text);
  return text && Number.isSafeInteger(value) && value >= minimum ? value : undefined;
}

function defaultName(profile: string): string {
  if (profile !== DEFAULT_PROFILE) return profile;
  try {
    return os.userInfo().username || 'me';
  } catch {
    return 'me';
  }
}

async function readVersion(): Promise<string> {
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}
