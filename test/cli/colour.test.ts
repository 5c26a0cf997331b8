// Colour: one decision (terminal, NO_COLOR, FORCE_COLOR) and painted names and event kinds that never carry peer escapes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { colourEnabled } from '../../src/cli/colour.ts';
import { formatEvent, human, joinLines, paint } from '../../src/cli/output.ts';
import type { ChatEvent } from '../../src/control/protocol.ts';

const TTY = { isTTY: true };
const PIPE = { isTTY: false };
const SGR = /\u001b\[[\d;]*m/g;

describe('colourEnabled', () => {
  const cases: Array<[string, { isTTY?: boolean }, NodeJS.ProcessEnv, boolean]> = [
    ['a terminal', TTY, {}, true],
    ['a pipe', PIPE, {}, false],
    ['a stream that does not say', {}, {}, false],
    ['a dumb terminal', TTY, { TERM: 'dumb' }, false],
    ['NO_COLOR on a terminal', TTY, { NO_COLOR: '1' }, false],
    ['an empty NO_COLOR (no-color.org: ignored)', TTY, { NO_COLOR: '' }, true],
    ['FORCE_COLOR in a pipe', PIPE, { FORCE_COLOR: '1' }, true],
    ['an empty FORCE_COLOR in a pipe', PIPE, { FORCE_COLOR: '' }, true],
    ['FORCE_COLOR over NO_COLOR', PIPE, { FORCE_COLOR: '3', NO_COLOR: '1' }, true],
    ['FORCE_COLOR=0 on a terminal', TTY, { FORCE_COLOR: '0' }, false],
    ['FORCE_COLOR=false on a terminal', TTY, { FORCE_COLOR: 'false' }, false],
  ];
  for (const [name, stream, env, expected] of cases) {
    test(`${name}: ${expected ? 'colour' : 'plain'}`, () => assert.equal(colourEnabled(stream, env), expected));
  }
});

describe('painted output', () => {
  const time = '2026-12-03T08:00:00.000Z';

  test('a name and an event kind are painted; the plain text is the same without the codes', () => {
    const event: ChatEvent = { seq: 1, time, type: 'peer', state: 'connected', from: 'bob', address: '127.0.0.1:7002', direction: 'out' } as ChatEvent;
    const line = formatEvent(event);
    assert.match(line.painted, /\u001b\[1;36mbob\u001b\[0m/);
    assert.match(line.painted, /\u001b\[32mconnected\u001b\[0m/);
    assert.equal(line.text, line.painted.replace(SGR, ''));
    assert.doesNotMatch(line.text, /\u001b/);
  });

  test('peer text inside a painted name is escaped: the only escape bytes are our own colour codes', () => {
    const event = { seq: 2, time, type: 'message', from: 'bob\u001b[2J', text: 'hi\u001b]0;pwned\u0007', direction: 'in', id: 'x' } as unknown as ChatEvent;
    const line = formatEvent(event);
    assert.doesNotMatch(line.painted.replace(SGR, ''), /\u001b/);
    assert.match(line.painted, /bob\\x1b\[2J/);
  });

  test('human`` and joinLines keep both forms', () => {
    const joined = joinLines([human`to ${paint('name', 'bob')}`, human`plain`]);
    assert.equal(joined.text, 'to bob\nplain');
    assert.equal(joined.painted, 'to \u001b[1;36mbob\u001b[0m\nplain');
  });
});
