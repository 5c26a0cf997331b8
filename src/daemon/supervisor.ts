/** Which service manager, if any, runs this chatd: told by `chat daemon status` (control-protocol.md). */

import type { Supervisor } from '../control/protocol.ts';

export interface SupervisorClues {
  env: NodeJS.ProcessEnv;
  /** The parent's pid when chatd started. */
  ppid: number;
  /** True when `chat daemon start` spawned this chatd (it reports readiness over an IPC channel). */
  spawnedByChat: boolean;
}

/**
 * `systemd`, `launchd` or `init`; null when started by `chat daemon start` or from a shell.
 * systemd sets INVOCATION_ID for every unit it runs; launchd sets XPC_SERVICE_NAME to the job's
 * label (and to "0" in a Terminal session, which is no job); a parent of pid 1 at start (or none:
 * chatd is pid 1) means an init or a container runtime started chatd directly. A daemon that
 * `chat daemon start` spawned is reparented to pid 1 too, but is no service: the IPC channel
 * tells it apart.
 */
export function detectSupervisor({ env, ppid, spawnedByChat }: SupervisorClues): Supervisor | null {
  if (spawnedByChat) return null;
  if (env.INVOCATION_ID) return 'systemd';
  if (env.XPC_SERVICE_NAME && env.XPC_SERVICE_NAME !== '0') return 'launchd';
  // Parent 0: chatd is pid 1 itself, the container's entry point.
  if (ppid <= 1) return 'init';
  return null;
}
