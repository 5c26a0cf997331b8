/** The name a received file is stored under: one harmless path segment, numbered when taken, never replacing a file. */
import { randomInt } from 'node:crypto';
import { link, lstat, open, rename, unlink } from 'node:fs/promises';
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
 * Moves a finished temporary file to a free name in `dir`, never replacing a file: the lowest free
 * number when the taken ones have no gaps (name, name (1), ... name (k)), found in O(log k) probes,
 * so a peer that sends one name a hundred thousand times does not make each store slower than the last.
 * A hard link fails atomically when the name exists, so no one else can take the name between the
 * probe and the link. Stores into one directory take turns in this process, so two files arriving at
 * once get neighbouring numbers. The directory is synced before it returns: the name survives power
 * loss once it is announced.
 */
export async function publishWithoutOverwrite(tempPath: string, dir: string, name: string): Promise<string> {
  const { candidate, linked } = await inTurn(dir, () => moveToFreeName(tempPath, dir, name));
  if (linked) await unlink(tempPath);
  await syncDirectory(dir);
  return candidate;
}

/** The stores under way per directory, so that each waits for the one before it. */
const storing = new Map<string, Promise<unknown>>();

async function inTurn<T>(dir: string, job: () => Promise<T>): Promise<T> {
  const before = storing.get(dir) ?? Promise.resolve();
  const mine = before.catch(() => undefined).then(job);
  storing.set(dir, mine);
  try {
    return await mine;
  } finally {
    if (storing.get(dir) === mine) storing.delete(dir);
  }
}

/** Links (or, without hard links, renames) `tempPath` to the first name found free. */
async function moveToFreeName(tempPath: string, dir: string, name: string): Promise<{ candidate: string; linked: boolean }> {
  for (let n = 0; ; n = await freeNumberAbove(dir, name, n)) {
    const candidate = path.join(dir, numberedName(name, n));
    namesTried++;
    try {
      await link(tempPath, candidate);
      return { candidate, linked: true };
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
    return { candidate, linked: false };
  }
}

/**
 * Numbers doubled to at most, past the last taken one. Beyond it (a million copies of one name, or
 * a peer that planted names at powers of two to make the search long) a random number is taken.
 */
export const MAX_DOUBLED_STEP = 2 ** 20;
/** Random numbers are drawn below this: far more than any directory holds, and exact in a double. */
const RANDOM_NUMBER_LIMIT = 2 ** 47;

/**
 * A number above `taken` whose name does not exist now: doubling steps until a free one, then halving
 * back to the first free one after the last taken, as if the taken numbers had no gaps (where they
 * have, it is still a free one, only not the lowest). At most about 2·log₂ MAX_DOUBLED_STEP lookups.
 */
async function freeNumberAbove(dir: string, name: string, taken: number): Promise<number> {
  let low = taken;
  let high = taken + 1;
  for (let step = 2; await nameExists(dir, numberedName(name, high)); step *= 2) {
    if (step > MAX_DOUBLED_STEP) return freeRandomNumber(dir, name);
    low = high;
    high = taken + step;
  }
  while (high - low > 1) {
    const middle = low + Math.floor((high - low) / 2);
    if (await nameExists(dir, numberedName(name, middle))) low = middle;
    else high = middle;
  }
  return high;
}

/** A random number whose name does not exist now (nearly always the first one drawn). */
async function freeRandomNumber(dir: string, name: string): Promise<number> {
  for (;;) {
    const n = randomInt(MAX_DOUBLED_STEP, RANDOM_NUMBER_LIMIT);
    if (!(await nameExists(dir, numberedName(name, n)))) return n;
  }
}

async function nameExists(dir: string, name: string): Promise<boolean> {
  namesTried++;
  try {
    await lstat(path.join(dir, name));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

let namesTried = 0;

/** How many names stores in this process have tried or looked up (for tests: the cost of finding a free one). */
export function fileNamesTried(): number {
  return namesTried;
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
