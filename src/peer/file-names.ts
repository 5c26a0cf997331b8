import { link, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/** Longest stored name in UTF-8 bytes: what common file systems allow for one path segment. */
export const MAX_STORED_NAME_BYTES = 255;
const FALLBACK_NAME = 'received-file';
/** Device names Windows reserves in any directory, with or without an extension. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

/**
 * Reduces a name chosen by the peer to one harmless path segment: the last component of any path,
 * no separators, no control characters, no `.`/`..`, no reserved device names, bounded length.
 * The result never escapes the directory it is joined to.
 */
export function safeFileName(offered: string): string {
  const lastSegment = offered.split(/[/\\]/).filter((part) => part.length > 0).pop() ?? '';
  let name = lastSegment
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/[<>:"|?*]/g, '_')
    .trim()
    .replace(/[. ]+$/, '');
  if (name === '' || /^\.+$/.test(name)) name = FALLBACK_NAME;
  if (WINDOWS_RESERVED.test(name)) name = `_${name}`;
  return truncateName(name, MAX_STORED_NAME_BYTES);
}

/** Shortens the stem, keeping the extension, so the name fits in `maxBytes` of UTF-8. */
function truncateName(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const ext = path.extname(name);
  const keptExt = Buffer.byteLength(ext) <= 32 ? ext : '';
  let stem = name.slice(0, name.length - ext.length);
  while (Buffer.byteLength(stem + keptExt) > maxBytes) stem = [...stem].slice(0, -1).join('');
  return stem + keptExt;
}

/** "report.pdf" → "report (1).pdf", "report (2).pdf", ...; ".bashrc" → ".bashrc (1)". */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const ext = path.extname(name);
  const stem = name.slice(0, name.length - ext.length);
  return truncateName(`${stem} (${n})${ext}`, MAX_STORED_NAME_BYTES);
}

/**
 * Moves a finished temporary file to the first free name in `dir`, never replacing a file.
 * A hard link fails atomically when the name exists, so two transfers cannot race for one name.
 */
export async function publishWithoutOverwrite(tempPath: string, dir: string, name: string): Promise<string> {
  for (let n = 0; ; n++) {
    const candidate = path.join(dir, numberedName(name, n));
    try {
      await link(tempPath, candidate);
      await unlink(tempPath);
      return candidate;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw error;
    }
    // File systems without hard links: reserve the name exclusively, then move over our own placeholder.
    try {
      const placeholder = await open(candidate, 'wx');
      await placeholder.close();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    await rename(tempPath, candidate);
    return candidate;
  }
}
