import { appendFileSync } from 'node:fs';

export interface Logger {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

/**
 * Appends timestamped lines to the profile's log file. Synchronous on purpose: lines are rare
 * (connections, transfers, errors), and a line written just before a crash must not be lost.
 */
export function createFileLogger(file: string, echo: boolean): Logger {
  const write = (level: string, line: string) => {
    const text = `${new Date().toISOString()} ${level} ${line}\n`;
    try {
      appendFileSync(file, text, { mode: 0o600 });
    } catch {
      // Logging must never take the daemon down (disk full, directory removed).
    }
    if (echo) process.stderr.write(text);
  };
  return {
    info: (line) => write('info', line),
    warn: (line) => write('warn', line),
    error: (line) => write('error', line),
  };
}
