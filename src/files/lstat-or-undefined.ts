/** lstat of a path, or undefined where nothing is there (ENOENT, or ENOTDIR: a file where a directory of the path should be). */
import type { Stats } from 'node:fs';

// getBuiltinModule, not an import: an ESM import of a built-in evaluates all its exports (docs/benchmarks.md, row 5).
const { lstatSync } = process.getBuiltinModule('node:fs');

export function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}
