/** Finds the machine's own `node` (outside this project) when it is older than chat needs, like the system Node 20. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** A `node` on the PATH (outside this project) whose version is below what chat needs. */
export function findOldSystemNode(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/local/bin', '/usr/bin'])) {
    if (dir.includes('node_modules')) continue;
    const candidate = path.join(dir, 'node');
    if (!existsSync(candidate)) continue;
    try {
      const version = execFileSync(candidate, ['-p', 'process.versions.node']).toString().trim();
      const [major, minor] = version.split('.').map(Number) as [number, number];
      if (major < 22 || (major === 22 && minor < 13)) return candidate;
    } catch {
      // not runnable: ignore
    }
  }
  return undefined;
}

/** PATH without this project's node_modules/.bin: what a user's shell has, the old system Node first. */
export function userPath(oldNode: string): string {
  const rest = (process.env.PATH ?? '').split(path.delimiter).filter((dir) => !dir.includes('node_modules'));
  return [path.dirname(oldNode), ...rest].join(path.delimiter);
}
