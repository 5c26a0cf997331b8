/** `chat daemon start`: starts chatd in the background and waits until it is ready, or says why not. */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeDirectories } from '../files/make-directories.ts';
import { ControlClient, DaemonNotRunningError } from './client.ts';
import { daemonEnvironment } from './daemon-environment.ts';
import type { ProfilePaths } from './paths.ts';
import type { AcceptMode, StatusResult } from './protocol.ts';
import { UntrustedSocketError } from './socket-trust.ts';
import { DaemonStartError } from './start-error.ts';

export { DaemonStartError } from './start-error.ts';

/** What chatd tells the `chat daemon start` that spawned it, over the IPC channel, once. */
export type DaemonReport =
  | { type: 'ready'; status: StatusResult }
  | { type: 'error'; message: string; alreadyRunning: boolean; untrustedSocket?: boolean };

export interface DaemonStartOptions {
  port?: number;
  host?: string;
  name?: string;
  downloads?: string;
  /** Bytes. */
  maxFileSize?: number;
  /** Seconds. */
  pingInterval?: number;
  /** False: --no-reconnect. */
  reconnect?: boolean;
  /** --accept. */
  accept?: AcceptMode;
}


/** Ample for a cold start on a loaded machine; a daemon that is not ready by then is reported. */
const START_TIMEOUT_MS = 20_000;
const CHATD_SCRIPT = fileURLToPath(new URL('../../bin/chatd.js', import.meta.url));

/**
 * Starts chatd in the background with the same Node binary as this process and resolves once it
 * listens for peers and answers on its control socket. Its output goes to the profile's log file.
 */
export function spawnDaemon(paths: ProfilePaths, options: DaemonStartOptions): Promise<StatusResult> {
  makeDirectories(paths.dir, 0o700, 'the profile directory');
  const args = [CHATD_SCRIPT, '--home', paths.home, '--profile', paths.profile];
  if (options.port !== undefined) args.push('--port', String(options.port));
  if (options.host !== undefined) args.push('--host', options.host);
  if (options.name !== undefined) args.push('--name', options.name);
  if (options.downloads !== undefined) args.push('--downloads', options.downloads);
  if (options.maxFileSize !== undefined) args.push('--max-file-size', String(options.maxFileSize));
  if (options.pingInterval !== undefined) args.push('--ping-interval', String(options.pingInterval));
  if (options.reconnect === false) args.push('--no-reconnect');
  if (options.accept !== undefined) args.push('--accept', options.accept);
  const logFd = openSync(paths.logFile, 'a', 0o600);
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', logFd, logFd, 'ipc'],
    env: daemonEnvironment(process.env),
  });
  closeSync(logFd);
  return new Promise<StatusResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      finish();
      child.kill('SIGTERM');
      reject(new DaemonStartError(`chatd did not become ready within ${START_TIMEOUT_MS / 1000} s; see ${paths.logFile}`));
    }, START_TIMEOUT_MS);
    const finish = () => {
      clearTimeout(timer);
      child.removeAllListeners();
      if (child.connected) child.disconnect();
      child.unref();
    };
    child.on('message', (message: DaemonReport) => {
      finish();
      if (message.type === 'ready') resolve(message.status);
      // Someone else's folder appeared after our own check: the same refusal as a client's.
      else if (message.untrustedSocket) reject(new UntrustedSocketError(paths.socket, message.message));
      else reject(new DaemonStartError(message.message, message.alreadyRunning));
    });
    child.on('error', (error) => {
      finish();
      reject(new DaemonStartError(`cannot run ${process.execPath}: ${error.message}`));
    });
    child.on('exit', (code, signal) => {
      finish();
      reject(new DaemonStartError(`chatd exited (${signal ?? `code ${code}`}) before it was ready; see ${paths.logFile}`));
    });
  });
}

/**
 * The running daemon's status, starting one if none answers. Two starts racing for one profile
 * both end up reporting the single daemon that won the pid lock.
 */
export async function ensureDaemon(
  paths: ProfilePaths,
  options: DaemonStartOptions,
): Promise<{ status: StatusResult; alreadyRunning: boolean }> {
  const running = await statusIfRunning(paths);
  if (running) return { status: running, alreadyRunning: true };
  try {
    return { status: await spawnDaemon(paths, options), alreadyRunning: false };
  } catch (error) {
    if (!(error instanceof DaemonStartError) || !error.alreadyRunning) throw error;
  }
  // The winner holds the lock but may not serve its control socket yet.
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const status = await statusIfRunning(paths);
    if (status) return { status, alreadyRunning: true };
    if (Date.now() > deadline) throw new DaemonStartError(`another chatd holds ${paths.pidFile} but does not answer on ${paths.socket}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function statusIfRunning(paths: ProfilePaths): Promise<StatusResult | undefined> {
  let client: ControlClient;
  try {
    client = await ControlClient.connect(paths);
  } catch (error) {
    if (error instanceof DaemonNotRunningError) return undefined;
    throw error;
  }
  try {
    return await client.request('status', {});
  } finally {
    client.close();
  }
}
