// safeJson: the same value once parsed, with nothing on the line that could drive a terminal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { safeJson } from '../../src/text/safe-json.ts';

const UNSAFE = /[\p{Cc}\p{Cf}\p{Bidi_Control}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}\u2800]/u;

function assertSafeLine(json: string): void {
  for (const char of json) if (char !== '\n') assert.ok(!UNSAFE.test(char), `U+${char.codePointAt(0)!.toString(16)} raw in ${json}`);
}

test('C1 controls, bidi overrides and invisible characters become \\uXXXX; the value is the same', () => {
  const value = { name: 'm\u009b31m\u202e\u2066\u200b\u{e0041}\u0085\u3164\u2800y', text: 'a\u001b[2J\u007f\u2028b', n: 1 };
  for (const indent of [undefined, 2]) {
    const json = safeJson(value, indent);
    assertSafeLine(json);
    assert.deepEqual(JSON.parse(json), value);
    assert.ok(json.includes('\\u009b') && json.includes('\\u202e') && json.includes('\\u2028'), json);
  }
});

test('plain text, emoji and the indentation stay as they are', () => {
  const value = { text: 'résumé 日本 👨‍👩‍👧 ❤️', list: [1, 2] };
  assert.equal(safeJson(value, 2), JSON.stringify(value, null, 2));
  assert.equal(safeJson(value), JSON.stringify(value));
});

test('any string: parsed back exactly, nothing unsafe on the line (property)', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom(undefined, 2), (text, indent) => {
      const json = safeJson({ text, more: [text] }, indent);
      assertSafeLine(json);
      assert.deepEqual(JSON.parse(json), { text, more: [text] });
    }),
    { numRuns: 500 },
  );
});
