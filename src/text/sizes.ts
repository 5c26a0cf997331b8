/**
 * Byte sizes as people write them on the command line (`--max-file-size 2G`) and read them in
 * messages. Units are binary: K = 1024.
 */

/** Offers above this are declined unless the daemon is started with another --max-file-size. */
export const DEFAULT_MAX_FILE_SIZE = 64 * 1024 ** 3;

const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `123`, `500K`, `20M`, `1.5G`, `2T` (also `GiB`/`GB`, any case) → bytes; undefined if not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * UNITS[match[2]!.toUpperCase()]!);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** 1536 → "1.5 KiB". */
export function formatByteSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
