/** The one line a failed CLI run prints on stderr, as the error contract promises it. */
import assert from 'node:assert/strict';
import type { RunResult } from './chat.ts';

/** The error line of `result`, failing unless it is the only one (oclif's `See: ` pointer aside). */
export function errorLine(result: RunResult): string {
  const lines = result.stderr.trim().split('\n').filter((line) => !line.startsWith('See: '));
  assert.equal(lines.length, 1, `one error line, got:\n${result.stderr}`);
  return lines[0]!;
}
