// What a line typed in the console means, the file a typed transfer names, and the prompt.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveTypedPath } from '../../../src/cli/console/file-path.ts';
import { promptFor } from '../../../src/cli/console/link-state.ts';
import { CONNECT_USAGE, parseTypedLine, TRANSFER_USAGE } from '../../../src/cli/console/typed-line.ts';
import { progressLine } from '../../../src/cli/console/background-transfers.ts';

describe('a typed line', () => {
  test('is a message unless it is a command', () => {
    assert.deepEqual(parseTypedLine('hello there'), { kind: 'message', text: 'hello there' });
    assert.deepEqual(parseTypedLine('transferring now'), { kind: 'message', text: 'transferring now' });
    assert.deepEqual(parseTypedLine('//etc is a folder'), { kind: 'message', text: '/etc is a folder' });
  });

  test('commands, with and without their argument', () => {
    assert.deepEqual(parseTypedLine('transfer  notes.txt '), { kind: 'transfer', file: 'notes.txt' });
    assert.deepEqual(parseTypedLine('/transfer ~/a b.txt'), { kind: 'transfer', file: '~/a b.txt' });
    assert.deepEqual(parseTypedLine('transfer'), { kind: 'usage', usage: TRANSFER_USAGE });
    assert.deepEqual(parseTypedLine('/transfer'), { kind: 'usage', usage: TRANSFER_USAGE });
    assert.deepEqual(parseTypedLine('/connect 7001'), { kind: 'connect', target: '7001' });
    assert.deepEqual(parseTypedLine('/Connect [::1]:7001'), { kind: 'connect', target: '[::1]:7001' });
    assert.deepEqual(parseTypedLine('/connect'), { kind: 'usage', usage: CONNECT_USAGE });
    assert.deepEqual(parseTypedLine('/disconnect'), { kind: 'disconnect' });
    assert.deepEqual(parseTypedLine('/help'), { kind: 'help' });
    assert.deepEqual(parseTypedLine('/?'), { kind: 'help' });
    assert.deepEqual(parseTypedLine('/quit'), { kind: 'quit' });
    assert.deepEqual(parseTypedLine('/exit'), { kind: 'quit' });
  });

  test('an unknown /word is refused, never a message', () => {
    assert.deepEqual(parseTypedLine('/foo bar'), { kind: 'unknown', word: '/foo' });
    assert.deepEqual(parseTypedLine('/usr/bin is where'), { kind: 'unknown', word: '/usr/bin' });
    assert.deepEqual(parseTypedLine('/'), { kind: 'unknown', word: '/' });
  });
});

describe('the file a typed transfer names', () => {
  const base = { home: '/home/alice', cwd: '/work' };
  test('~ and ~/… are the home directory; the rest is relative to where the console runs', () => {
    assert.equal(resolveTypedPath('~', base), '/home/alice');
    assert.equal(resolveTypedPath('~/x', base), '/home/alice/x');
    assert.equal(resolveTypedPath('"~/my file.txt"', base), '/home/alice/my file.txt');
    assert.equal(resolveTypedPath('notes.txt', base), '/work/notes.txt');
    assert.equal(resolveTypedPath("'a b'", base), '/work/a b');
    assert.equal(resolveTypedPath('/tmp/x', base), '/tmp/x');
    assert.equal(resolveTypedPath('~bob/x', base), '/work/~bob/x');
  });
});

describe('what the console shows of the peer', () => {
  test('the prompt says the link, the name escaped', () => {
    assert.equal(promptFor({ state: 'connected', peer: 'bob' }).text, 'bob > ');
    assert.equal(promptFor({ state: 'not connected' }).text, '(not connected) > ');
    assert.equal(promptFor({ state: 'reconnecting', peer: 'bob' }).text, '(reconnecting to bob) > ');
    assert.equal(promptFor({ state: 'connected', peer: 'evil\u001b[2J\u202e' }).text, 'evil\\x1b[2J\\u202e > ');
  });

  test('a progress line, with the daemon\'s waiting text escaped', () => {
    assert.equal(progressLine('big.bin', 16 * 1024 * 1024, 64 * 1024 * 1024).text, '  big.bin [#####---------------] 25% 16.0 MiB of 64.0 MiB');
    assert.equal(progressLine('b', 0, 0).text, '  b [####################] 100% 0 B of 0 B');
    assert.match(progressLine('b', 1, 2, 'waiting for \u001bbob… (reconnecting)').text, /, waiting for \\x1bbob… \(reconnecting\)$/);
  });
});
