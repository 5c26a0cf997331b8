// Global flags before the command (`chat --profile alice id`) move to where oclif and the fast path read them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { moveGlobalFlags } from '../../src/cli/global-flags.ts';

describe('moveGlobalFlags', () => {
  const cases: Array<[string[], string[]]> = [
    [['--profile', 'x', 'id'], ['id', '--profile', 'x']],
    [['-p', 'alice', 'daemon', 'status'], ['daemon', 'status', '-p', 'alice']],
    [['--profile=alice', '-pbob', '--json', 'send', 'hi'], ['send', 'hi', '--profile=alice', '-pbob', '--json']],
    // Before `--`: what follows it is the message, never a flag.
    [['-p', 'alice', 'send', '--', '-p', 'x'], ['send', '-p', 'alice', '--', '-p', 'x']],
    // Nothing to move: unchanged, for oclif to judge; nothing to move it behind: `chat` alone.
    [['send', '--profile', 'x', 'hi'], ['send', '--profile', 'x', 'hi']],
    [['--profile', 'x'], []],
    [['--profile'], ['--profile']],
    [['--bogus', 'id'], ['--bogus', 'id']],
    [['--json=1', 'id'], ['--json=1', 'id']],
    [['--version'], ['--version']],
    [[], []],
  ];
  for (const [argv, expected] of cases) {
    test(`${JSON.stringify(argv)} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(moveGlobalFlags(argv), expected);
    });
  }
});
