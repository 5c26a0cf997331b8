/** The file a typed `transfer` names: quotes taken off, `~` and `~/…` as the home directory, relative to where the console runs. */
import path from 'node:path';

export interface PathBase {
  home: string;
  cwd: string;
}

/** An absolute path for the daemon, which opens the file itself. `~user` is not expanded. */
export function resolveTypedPath(typed: string, base: PathBase): string {
  const quoted = /^(["'])(.*)\1$/s.exec(typed.trim());
  const text = quoted ? quoted[2]! : typed.trim();
  if (text === '~') return base.home;
  if (text.startsWith('~/')) return path.join(base.home, text.slice(2));
  return path.resolve(base.cwd, text);
}
