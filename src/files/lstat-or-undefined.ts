/** lstat of a path, or undefined where nothing is there (ENOENT, or ENOTDIR: a file where a directory of the path should be). */
import { lstatSync, type Stats } from 'node:fs';

export function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}
