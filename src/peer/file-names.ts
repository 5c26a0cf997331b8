import { link, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { removeUnsafeCharacters } from '../text/unsafe-characters.ts';
import { clipText } from '../text/clip.ts';

/** Longest stored name in UTF-8 bytes: what common file systems allow for one path segment. */
export const MAX_STORED_NAME_BYTES = 255;
const FALLBACK_NAME = 'received-file';
/** Device names Windows reserves in any directory, with or without an extension. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])(\s*\..*)?$/i;
/** Longest extension kept when a name must be shortened; longer ones are not real extensions. */
const MAX_KEPT_EXTENSION_BYTES = 32;

/**
 * Reduces a name chosen by the peer to one harmless path segment: the last component of any path,
 * no separators, no control, format or bidirectional characters (the set every human line escapes,
 * src/text/unsafe-characters.ts), no `.`/`..`, no reserved device
 * names, at most MAX_STORED_NAME_BYTES. The result never escapes the directory it is joined to.
 */
export function safeFileName(offered: string): string {
  const lastSegment = offered.split(/[/\\]/).filter((part) => part.length > 0).pop() ?? '';
  const cleaned = removeUnsafeCharacters(lastSegment)
    .replace(/[<>:"|?*]/g, '_');
  return fitName(cleaned, '', MAX_STORED_NAME_BYTES);
}

/** "report.pdf" → "report (1).pdf", "report (2).pdf", ...; ".bashrc" → ".bashrc (1)". */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  return fitName(name, ` (${n})`, MAX_STORED_NAME_BYTES);
}

/**
 * stem + suffix + extension in at most maxBytes: the stem is shortened first (the suffix and a
 * short extension always survive), then the result is made harmless once more, since shortening
 * can expose trailing dots or spaces.
 */
function fitName(name: string, suffix: string, maxBytes: number): string {
  const rawExt = path.extname(name);
  const ext = Buffer.byteLength(rawExt) <= MAX_KEPT_EXTENSION_BYTES ? rawExt : '';
  const stem = name.slice(0, name.length - ext.length);
  const budget = maxBytes - Buffer.byteLength(suffix) - Buffer.byteLength(ext);
  let fitted = `${clipText(stem, budget)}${suffix}${ext}`.trim().replace(/[. ]+$/, '');
  if (fitted === '' || /^\.+$/.test(fitted)) fitted = `${FALLBACK_NAME}${suffix}`;
  // The "_" comes out of the same byte budget (slicing UTF-16 units after it could leave 256 bytes).
  if (WINDOWS_RESERVED.test(fitted)) fitted = `_${clipText(fitted, maxBytes - 1).replace(/[. ]+$/, '')}`;
  return fitted;
}


/**
 * Moves a finished temporary file to the first free name in `dir`, never replacing a file.
 * A hard link fails atomically when the name exists, so two transfers cannot race for one name.
 * The directory is synced before it returns: the name survives power loss once it is announced.
 */
export async function publishWithoutOverwrite(tempPath: string, dir: string, name: string): Promise<string> {
  for (let n = 0; ; n++) {
    const candidate = path.join(dir, numberedName(name, n));
    try {
      await link(tempPath, candidate);
      await unlink(tempPath);
      await syncDirectory(dir);
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
    await syncDirectory(dir);
    return candidate;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
