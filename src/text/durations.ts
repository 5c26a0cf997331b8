/** Durations as people write them on the command line (`chat invite --for 10m`): a number with s, m or h. */

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** `90s`, `10m`, `1.5h`, or bare seconds (`600`), in milliseconds; undefined when it is none of these or not positive. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$/i.exec(text);
  if (!match) return undefined;
  const ms = Math.round(Number(match[1]) * UNIT_MS[(match[2] || 's').toLowerCase()]!);
  return ms > 0 ? ms : undefined;
}
