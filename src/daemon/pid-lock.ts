/** One daemon per profile: the pid file, taken atomically and released at exit. */
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { unlinkSync } from 'node:fs';
import { isProcessRunning } from '../control/process-state.ts';

export class AlreadyRunningError extends Error {
  override name = 'AlreadyRunningError';
  readonly pid: number;

  constructor(pid: number) {
    super(`a chat daemon is already running for this profile (pid ${pid})`);
    this.pid = pid;
  }
}

/**
 * One daemon per profile: the pid file is created exclusively; a pid file whose process is gone
 * (kill -9, crash) is taken over. Returns the release function.
 */
export async function acquirePidLock(file: string): Promise<() => void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => {
        try { unlinkSync(file); } catch { /* already gone */ }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isProcessRunning(holder)) {
      throw new AlreadyRunningError(holder);
    }
    await unlink(file).catch(() => undefined);
  }
  throw new Error(`cannot take the lock ${file}: another daemon is starting at the same time`);
}
