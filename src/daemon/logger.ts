/** chatd.log: one escaped, clipped line per event, rate-limited per kind, rotated at a size cap. */
import { appendFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { escapeLogText } from '../peer/log-text.ts';
import { clipText } from '../text/clip.ts';

export interface Logger {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
  /** Writes the pending "similar lines suppressed" counts now (before the daemon exits). */
  flush(): void;
}

/** Largest chatd.log before it is rotated to chatd.log.1. */
export const LOG_MAX_FILE_BYTES = 10 * 1024 * 1024;
/** Log files kept: chatd.log, chatd.log.1, chatd.log.2; the oldest is dropped at rotation. */
export const LOG_FILES_KEPT = 3;
/** Largest line: a last bound for text that reaches a line without being quoted. */
export const LOG_MAX_LINE_BYTES = 8 * 1024;
/** Lines of one kind written per window; more are counted, then reported as one line. */
export const LOG_REPEATS_PER_WINDOW = 20;
/** The rate limit's window: LOG_REPEATS_PER_WINDOW lines of one kind per second. */
export const LOG_REPEAT_WINDOW_MS = 1000;
/**
 * Kinds counted in one window. Kinds are our own line templates, a few dozen in all, so real
 * lines never get here; past it, new kinds share one counter, so that text which varies a line's
 * kind cannot multiply the lines let through.
 */
const MAX_TRACKED_KINDS = 64;
/** Bytes of the example line a "suppressed" report shows. */
const SUPPRESSED_EXAMPLE_BYTES = 300;

export interface LoggerOptions {
  /** Copy every line to stderr (a daemon in the foreground). */
  echo?: boolean;
  maxFileBytes?: number;
  filesKept?: number;
  repeatsPerWindow?: number;
  windowMs?: number;
  /** Milliseconds clock, for tests. */
  now?: () => number;
}

interface KindCount {
  written: number;
  suppressed: number;
  level: string;
  example: string;
}

/**
 * Appends timestamped lines to the profile's log file, one event per line. Synchronous on
 * purpose: lines are few (rate-limited), and a line written just before a crash must not be lost.
 *
 * What a peer can make it write is bounded three ways: every line is escaped (no control
 * character can end a line early or reach a terminal) and clipped to LOG_MAX_LINE_BYTES; lines of
 * one kind (the line with quoted text, numbers and ids blanked: "declined "…" (# bytes)") are
 * written at most LOG_REPEATS_PER_WINDOW times per window, then counted; and the files rotate at
 * LOG_MAX_FILE_BYTES, LOG_FILES_KEPT of them, so the log never takes more than their product.
 */
export function createFileLogger(file: string, options: LoggerOptions = {}): Logger {
  const maxFileBytes = options.maxFileBytes ?? LOG_MAX_FILE_BYTES;
  const filesKept = Math.max(1, options.filesKept ?? LOG_FILES_KEPT);
  const repeatsPerWindow = options.repeatsPerWindow ?? LOG_REPEATS_PER_WINDOW;
  const windowMs = options.windowMs ?? LOG_REPEAT_WINDOW_MS;
  const now = options.now ?? Date.now;
  const maxLineBytes = Math.min(LOG_MAX_LINE_BYTES, maxFileBytes);

  let kinds = new Map<string, KindCount>();
  let windowStart = now();
  let flushTimer: NodeJS.Timeout | undefined;

  const rotate = () => {
    for (let index = filesKept - 1; index >= 1; index--) {
      const from = index === 1 ? file : `${file}.${index - 1}`;
      try {
        renameSync(from, `${file}.${index}`);
      } catch {
        // Not there yet (the first rotations), or gone: nothing to keep.
      }
    }
    if (filesKept === 1) rmSync(file, { force: true });
  };

  const append = (level: string, line: string) => {
    const stamp = `${new Date().toISOString()} ${level} `;
    const body = clipLine(escapeLogText(line), maxLineBytes - Buffer.byteLength(stamp) - 1);
    const text = `${stamp}${body}\n`;
    const bytes = Buffer.byteLength(text);
    try {
      if (currentSize(file) + bytes > maxFileBytes) rotate();
      appendFileSync(file, text, { mode: 0o600 });
    } catch {
      // Logging must never take the daemon down (disk full, directory removed).
    }
    if (options.echo) process.stderr.write(text);
  };

  const flush = () => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    const ended = kinds;
    kinds = new Map();
    windowStart = now();
    for (const count of ended.values()) {
      if (count.suppressed === 0) continue;
      append(count.level, `… ${count.suppressed} similar line${count.suppressed === 1 ? '' : 's'} suppressed, like: ${clipText(count.example, SUPPRESSED_EXAMPLE_BYTES)}`);
    }
  };

  const write = (level: string, line: string) => {
    if (now() - windowStart >= windowMs) flush();
    let kind = kindOf(level, line);
    if (!kinds.has(kind) && kinds.size >= MAX_TRACKED_KINDS) kind = `${level} (other)`;
    let count = kinds.get(kind);
    if (!count) {
      count = { written: 0, suppressed: 0, level, example: '' };
      kinds.set(kind, count);
    }
    if (count.written < repeatsPerWindow) {
      count.written++;
      append(level, line);
      return;
    }
    if (count.suppressed === 0) count.example = escapeLogText(line);
    count.suppressed++;
    // A flood that stops still gets its count written, at the end of its window.
    flushTimer ??= setTimeout(flush, Math.max(0, windowStart + windowMs - now())).unref();
  };

  return {
    info: (line) => write('info', line),
    warn: (line) => write('warn', line),
    error: (line) => write('error', line),
    flush,
  };
}

function currentSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function clipLine(line: string, maxBytes: number): string {
  const bytes = Buffer.byteLength(line);
  if (bytes <= maxBytes) return line;
  const marker = ` … [line clipped, ${bytes} bytes]`;
  return clipText(line, Math.max(0, maxBytes - Buffer.byteLength(marker))) + marker;
}

/**
 * The line with what varies between repeats blanked: quoted (peer) text, numbers, hex (ids,
 * keys, hashes). Lines that differ only there are one kind for the rate limit, whichever peer,
 * port or name they mention.
 */
function kindOf(level: string, line: string): string {
  return `${level} ${line.replace(/"(?:[^"\\]|\\.)*"/g, '"…"').replace(/[0-9a-f]{4,}|\d+/gi, '#')}`;
}
