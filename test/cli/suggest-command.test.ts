// "did you mean send?": the nearest command to a mistyped one, and nothing when none is near.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suggestCommand, unknownCommandMessage } from '../../src/cli/suggest-command.ts';

const IDS = [
  'autocomplete', 'connect', 'console', 'daemon start', 'daemon status', 'daemon stop', 'disconnect', 'help', 'id',
  'outbox', 'outbox drop', 'peers', 'peers forget', 'send', 'tail', 'transfer', 'transfers', 'transfers cancel', 'version',
];

describe('suggestCommand', () => {
  const cases: Array<[string, { typed: string; nearest?: string; topic?: string }]> = [
    ['sned', { typed: 'sned', nearest: 'send' }],
    // oclif hands over every word up to the first flag: the message is not part of the command.
    ['sned hello there', { typed: 'sned', nearest: 'send' }],
    ['tial', { typed: 'tial', nearest: 'tail' }],
    ['deamon status', { typed: 'deamon status', nearest: 'daemon status' }],
    ['daemon stat', { typed: 'daemon stat', nearest: 'daemon start' }],
    ['deamon', { typed: 'deamon', nearest: 'daemon' }],
    ['outbx drop', { typed: 'outbx drop', nearest: 'outbox drop' }],
    ['daemon xyz', { typed: 'daemon xyz', topic: 'daemon' }],
    ['xyz', { typed: 'xyz' }],
    // Two letters away from "id" is a different word, not a typo.
    ['ab', { typed: 'ab' }],
  ];
  for (const [typed, expected] of cases) {
    test(`${typed} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(suggestCommand(typed, IDS), expected);
    });
  }

  test('the message names the nearest command, or where to look', () => {
    assert.equal(unknownCommandMessage('sned', IDS), 'unknown command "sned"; did you mean "chat send"? (see: chat --help)');
    assert.equal(unknownCommandMessage('daemon xyz', IDS), 'unknown command "daemon xyz"; see: chat help daemon');
    assert.equal(unknownCommandMessage('xyz', IDS), 'unknown command "xyz"; see: chat --help');
  });
});
