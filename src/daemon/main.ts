import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveProfilePaths, type ProfilePaths } from '../control/paths.ts';
import { formatFingerprint } from '../identity/fingerprint-notation.ts';
import { displayNameProblem } from '../control/protocol.ts';
import { DEFAULT_MAX_FILE_SIZE, parseByteSize } from '../text/sizes.ts';
import { prepareOwnedDirectory } from '../files/owner-only.ts';
import { checkPathChain } from '../files/path-chain.ts';
import { PinnedDirectory } from '../files/pinned-directory.ts';
import { loadOrCreateIdentity } from '../identity/identity.ts';
import { KnownPeers } from '../identity/known-peers.ts';
import type { KeepaliveOptions } from '../peer/session.ts';
import type { DaemonReport } from '../control/spawn.ts';
import { openHistory } from '../history/store.ts';
import { ChatDaemon } from './daemon.ts';
import { createFileLogger, type Logger } from './logger.ts';
import { AlreadyRunningError, acquirePidLock } from './pid-lock.ts';

/** With --ping-interval: how many intervals of silence a peer gets before it is dropped. */
const SILENT_INTERVALS_BEFORE_DROP = 4;

const USAGE = `usage: chatd [--home DIR] [--profile NAME] [--port N] [--host ADDR] [--name NAME] [--downloads DIR]
             [--max-file-size SIZE] [--ping-interval SECONDS]
Runs the chat daemon in the foreground (for systemd, launchd, or a terminal). "chat daemon start"
starts the same program in the background. Environment: CHAT_HOME, CHAT_PROFILE.`;

/** Entry point of bin/chatd.js. Reports readiness to a parent `chat daemon start` over IPC if there is one. */
export async function runDaemon(argv: string[]): Promise<void> {
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
    const port = Number(options.port);
    if (!/^\d+$/.test(options.port) || port > 65535) throw new Error(`invalid --port "${options.port}": use 0-65535`);
    const name = options.name ?? defaultName(paths.profile);
    const nameProblem = displayNameProblem(name);
    if (nameProblem) throw new Error(`invalid --name: ${nameProblem}`);
    const maxFileSize = readMaxFileSize(options['max-file-size']);
    const keepalive = readPingInterval(options['ping-interval']);
    // Whoever can write to these could swap the socket, the keys or the pins (known_peers.json):
    // check them before anything is created in them.
    prepareOwnedDirectory(paths.home, 'CHAT_HOME', { ownerOnly: false });
    prepareOwnedDirectory(path.dirname(paths.dir), 'the profiles directory', { ownerOnly: false });
    prepareOwnedDirectory(paths.dir, 'the profile directory', { ownerOnly: true });
    prepareOwnedDirectory(path.dirname(paths.socket), 'the control socket directory', { ownerOnly: true });
    log = createFileLogger(paths.logFile, { echo: !process.send, maxFileBytes: testLogMaxBytes() });
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
      prepareOwnedDirectory(downloadsPath, 'the downloads directory', { ownerOnly: false });
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
      { paths, name, host: options.host, port, downloads, version: await readVersion(), identity, knownPeers, maxFileSize, keepalive },
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
    await report({ type: 'error', message, alreadyRunning: error instanceof AlreadyRunningError });
    if (!process.send) process.stderr.write(`chatd: ${message}\n`);
    // Whatever was half set up (a bound port) must not keep a failed daemon alive.
    process.exit(1);
  }
}

function readMaxFileSize(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MAX_FILE_SIZE;
  const bytes = parseByteSize(text);
  if (bytes === undefined) throw new Error(`invalid --max-file-size "${text}": use bytes or a size such as 500M, 2G`);
  return bytes;
}

/** Seconds between pings of a quiet peer; it is dropped after four intervals of silence. */
function readPingInterval(text: string | undefined): KeepaliveOptions | undefined {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0.05 || seconds > 3600) {
    throw new Error(`invalid --ping-interval "${text}": use seconds from 0.05 to 3600`);
  }
  return { pingIntervalMs: seconds * 1000, silenceLimitMs: seconds * 1000 * SILENT_INTERVALS_BEFORE_DROP };
}

/**
 * Not an option for users: lets the end-to-end tests see a real daemon rotate its log without
 * writing LOG_MAX_FILE_BYTES first.
 */
function testLogMaxBytes(): number | undefined {
  const text = process.env.CHATD_TEST_LOG_MAX_BYTES;
  const bytes = Number(text);
  return text && Number.isSafeInteger(bytes) && bytes >= 1024 ? bytes : undefined;
}

function defaultName(profile: string): string {
  if (profile !== 'default') return profile;
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
