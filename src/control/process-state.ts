/** Whether a process still runs, seen from outside it (the daemon of a pid file). */
import { readFileSync } from 'node:fs';

/**
 * Whether a process still runs. A daemon that exited but is not yet reaped (its parent is init in
 * a container, which may reap late) is a zombie: signal 0 still succeeds, so /proc decides.
 */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  try {
    // The state letter follows the parenthesised command name, which may itself contain ") ".
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
