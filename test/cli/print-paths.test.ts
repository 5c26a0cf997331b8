// Structural check: in src/cli/, src/commands/ and src/hooks/ only src/cli/terminal.ts writes to
// stdout/stderr, and it takes HumanText (escaped) or JSON; only src/cli/output.ts makes HumanText.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const files = ['cli', 'commands', 'hooks'].flatMap((dir) =>
  readdirSync(path.join(SRC, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => path.join(dir, name)));

/** Ways of printing that bypass the HumanText writer. */
const RAW_PRINTS: Array<[RegExp, string]> = [
  [/process\.(stdout|stderr)\.write\b/, 'process.stdout/stderr.write'],
  [/\bconsole\.(log|error|warn|info|debug|trace)\b/, 'console.*'],
  [/\bthis\.(log|logToStderr|warn|logJson)\s*\(/, 'oclif this.log/logToStderr/warn/logJson'],
  [/\bux\.(stdout|stderr)\b/, 'oclif ux.stdout/stderr'],
  [/\b(stdout|stderr)\.write\b/, 'a stream write'],
];

describe('the only print path for human output', () => {
  test('the files were found', () => {
    assert.ok(files.length >= 20, files.join(', '));
  });

  for (const file of files) {
    test(`${file} prints only through src/cli/terminal.ts`, () => {
      if (file === path.join('cli', 'terminal.ts')) return;
      const source = readFileSync(path.join(SRC, file), 'utf8');
      for (const [pattern, what] of RAW_PRINTS) assert.doesNotMatch(source, pattern, `${file} uses ${what}`);
      if (file !== path.join('cli', 'output.ts')) {
        assert.doesNotMatch(source, /as\s+(unknown\s+as\s+)?HumanText\b|new\s+HumanText\b/, `${file} makes a HumanText without escaping`);
      }
    });
  }
});
