/**
 * End-to-end helpers: temporary CHAT_HOMEs, the built CLI run as a user would run it, and cleanup
 * of every daemon a test started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = path.join(ROOT, 'bin', 'run.js');
/** Generous bound for one CLI run: catches hangs, not slowness. */
const RUN_TIMEOUT_MS = 60_000;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  cwd?: string;
}

export interface ChatHomeOptions {
  /** CHAT_HOME is this path inside the temporary directory (a long one moves the socket out of the profile). */
  subdir?: string;
  /** Environment every run in this home gets, cleanup's included (TMPDIR, XDG_RUNTIME_DIR, ...). */
  env?: NodeJS.ProcessEnv;
}

/** A temporary CHAT_HOME with its own profiles; `cleanup()` stops every daemon and removes it. */
export class ChatHome {
  /** The temporary directory, removed at cleanup; CHAT_HOME is `home`, this same path unless `subdir` was given. */
  readonly dir: string;
  readonly home: string;
  private readonly defaultEnv: NodeJS.ProcessEnv;
  private readonly pids = new Set<number>();
  private readonly children = new Set<ChildProcess>();

  private constructor(dir: string, options: ChatHomeOptions) {
    this.dir = dir;
    this.home = options.subdir ? path.join(dir, options.subdir) : dir;
    this.defaultEnv = options.env ?? {};
  }

  static async create(options: ChatHomeOptions = {}): Promise<ChatHome> {
    return new ChatHome(await mkdtemp(path.join(os.tmpdir(), 'chat-e2e-')), options);
  }

  /** A home for the suite (describe) this is called in: made now, cleaned up by an after() hook once its tests are done. */
  static forSuite(options: ChatHomeOptions = {}): ChatHome {
    const home = new ChatHome(mkdtempSync(path.join(os.tmpdir(), 'chat-e2e-')), options);
    after(() => home.cleanup());
    return home;
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, CHAT_HOME: this.home };
    delete env.CHAT_PROFILE;
    delete env.DEBUG;
    return { ...env, ...this.defaultEnv, ...extra };
  }

  /** Runs `chat ARGS...` to completion. */
  run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    const child = this.spawn(args, options);
    return collect(child, options.input, options.timeoutMs ?? RUN_TIMEOUT_MS);
  }

  /** Starts `chat ARGS...` and leaves it running (tail, console); it is killed at cleanup. */
  spawn(args: string[], options: RunOptions = {}): ChildProcess {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: this.env(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** `chat daemon start --profile P --json ...`; returns the status and remembers the pid. */
  async startDaemon(profile: string, extra: string[] = [], env?: NodeJS.ProcessEnv): Promise<{ port: number; pid: number; name: string; downloads: string }> {
    const result = await this.run(['daemon', 'start', '--profile', profile, '--json', ...extra], { env });
    if (result.code !== 0) throw new Error(`daemon start ${profile} failed (${result.code}): ${result.stderr}`);
    const status = JSON.parse(result.stdout) as { port: number; pid: number; name: string; downloads: string };
    this.pids.add(status.pid);
    return status;
  }

  profileDir(profile: string): string {
    return path.join(this.home, 'profiles', profile);
  }

  async cleanup(): Promise<void> {
    for (const child of this.children) child.kill('SIGKILL');
    const profiles = await readdir(path.join(this.home, 'profiles')).catch(() => [] as string[]);
    await Promise.all(profiles.map((profile) => this.run(['daemon', 'stop', '--profile', profile], { timeoutMs: 20_000 }).catch(() => undefined)));
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
    }
    // CHAT_TEST_KEEP=1 keeps the directory (logs, histories) to look at after a failure.
    if (!process.env.CHAT_TEST_KEEP) await rm(this.dir, { recursive: true, force: true });
  }
}

export function collect(child: ChildProcess, input: string | Buffer | undefined, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`command timed out after ${timeoutMs} ms: ${child.spawnargs.slice(1).join(' ')}\nstderr: ${Buffer.concat(stderr).toString()}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    child.stdin?.on('error', () => undefined);
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** Reads NDJSON lines from a running child until `predicate` matches one (bounded). */
export function waitForLine<T>(child: ChildProcess, predicate: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const seen: string[] = [];
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        seen.push(line);
        let value: T;
        try {
          value = JSON.parse(line) as T;
        } catch {
          continue;
        }
        if (predicate(value)) {
          cleanup();
          resolve(value);
          return;
        }
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no matching line within ${timeoutMs} ms; saw:\n${seen.join('\n')}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
    };
    child.stdout?.on('data', onData);
  });
}

/** JSON events from `chat tail --no-follow --json -n N`. */
export async function historyOf(home: ChatHome, profile: string, n = 1000): Promise<Array<Record<string, unknown>>> {
  const result = await home.run(['tail', '--profile', profile, '--no-follow', '--json', '-n', String(n)]);
  if (result.code !== 0) throw new Error(`tail failed: ${result.stderr}`);
  return result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

export { isProcessRunning as isAlive } from '../../src/control/process-state.ts';
