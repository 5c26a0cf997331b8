import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { printable, printableLine } from '../../src/cli/output.ts';

describe('text from the peer shown to a person', () => {
  test('terminal controls become visible escapes; ordinary text, newlines and tabs stay', () => {
    assert.equal(printable('hi \u001b[2J\u001b]0;x\u0007 there\nnext\tline'), 'hi \\x1b[2J\\x1b]0;x\\x07 there\nnext\tline');
    assert.equal(printable('caf\u00e9 \u{1f600}'), 'caf\u00e9 \u{1f600}');
    assert.equal(printable('\u009b31m'), '\\x9b31m', 'the one-byte CSI too');
  });

  test('bidirectional overrides cannot reorder what is shown', () => {
    assert.equal(printable('bob\u202eexe.txt'), 'bob\\u202eexe.txt');
    assert.equal(printable('\u2066a\u2069'), '\\u2066a\\u2069');
  });

  test('an error line stays one line', () => {
    assert.equal(printableLine('declined: a\nb\tc\u001b'), 'declined: a\\nb\\tc\\x1b');
  });
});
