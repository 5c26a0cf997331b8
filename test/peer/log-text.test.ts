import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { clipPeerText, escapeLogText, MAX_LOGGED_PEER_TEXT_BYTES, quote } from '../../src/peer/log-text.ts';

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** Splits quote()'s output into the JSON string and what follows it. */
function parseQuoted(quoted: string): { text: string; rest: string } {
  const match = /^("(?:[^"\\]|\\.)*")(.*)$/s.exec(quoted);
  assert.ok(match, `not a JSON string first: ${quoted}`);
  return { text: JSON.parse(match[1]!) as string, rest: match[2]! };
}

describe('quote (peer text in a log line)', { timeout: 30_000 }, () => {
  test('short text: a JSON string, control characters and line breaks escaped', () => {
    assert.equal(quote('bob'), '"bob"');
    assert.equal(quote('a\nb'), '"a\\nb"');
    assert.equal(quote('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"');
    assert.equal(quote('\u001b[2J\u0007\u0000'), '"\\u001b[2J\\u0007\\u0000"');
    assert.equal(quote('del\u007f nel\u0085 ls\u2028 rlo\u202e'), '"del\\u007f nel\\u0085 ls\\u2028 rlo\\u202e"');
  });

  test('long text: the first MAX_LOGGED_PEER_TEXT_BYTES bytes and a marker with the full length', () => {
    const quoted = quote('A'.repeat(30_000));
    const { text, rest } = parseQuoted(quoted);
    assert.equal(text, 'A'.repeat(MAX_LOGGED_PEER_TEXT_BYTES));
    assert.equal(rest, '… (30000 bytes, clipped)');
  });

  test('a forged log line inside the text stays inside one quoted string', () => {
    const forged = 'x\n2026-01-01T00:00:00.000Z info peer 127.0.0.1:1: connected to "alice"';
    const quoted = quote(forged);
    assert.ok(!quoted.includes('\n'));
    assert.equal(parseQuoted(quoted).text, forged);
  });

  test('any text: one line of safe characters, holding a prefix of at most the limit', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ unit: 'grapheme', maxLength: 300 })), (text) => {
        const quoted = quote(text);
        assert.ok(!UNSAFE.test(quoted), JSON.stringify(quoted));
        const { text: kept, rest } = parseQuoted(quoted);
        assert.ok(text.startsWith(kept), 'a prefix of the text');
        assert.ok(Buffer.byteLength(kept) <= MAX_LOGGED_PEER_TEXT_BYTES);
        if (kept.length === text.length) assert.equal(rest, '');
        else assert.equal(rest, `… (${Buffer.byteLength(text)} bytes, clipped)`);
      }),
      { numRuns: 500 },
    );
  });
});

describe('escapeLogText', () => {
  test('what renders as nothing is escaped too: Hangul fillers, braille blank, grapheme joiner, variation selectors', () => {
    assert.equal(escapeLogText('\u3164\u115f\uffa0\u2800b\u034fob\ufe00\u{e0100}'), '\\u3164\\u115f\\uffa0\\u2800b\\u034fob\\ufe00\\udb40\\udd00');
    assert.equal(quote('\u3164'), '"\\u3164"', 'a name that looks empty is visible in the log');
    assert.equal(escapeLogText('alice\ufe0f'), 'alice\\ufe0f');
    assert.equal(escapeLogText('\u2764\ufe0f \u{1f468}\u200d\u{1f469}'), '\u2764\ufe0f \u{1f468}\u200d\u{1f469}', 'an emoji keeps its selector and joiner');
    // Any mix of them with plain letters (no emoji): none reaches the line.
    const ignorable = fc.constantFrom('\u3164', '\u115f', '\u1160', '\uffa0', '\u2800', '\u034f', '\ufe00', '\ufe0e', '\ufe0f', '\u180b', '\u{e0100}', '\u{e01ef}', '\ufff0');
    fc.assert(fc.property(fc.array(fc.oneof(ignorable, fc.constantFrom('a', '1', ' ', '#')), { maxLength: 40 }), (parts) => {
      assert.ok(!/[\p{Default_Ignorable_Code_Point}\u2800]/u.test(escapeLogText(parts.join(''))));
    }));
  });

  test('leaves plain text, escapes every unsafe character as \\uXXXX', () => {
    assert.equal(escapeLogText('plain: "ok" ü 日本 😀'), 'plain: "ok" ü 日本 😀');
    assert.equal(escapeLogText('a\r\nb\tc\u001bd\u0000'), 'a\\u000d\\u000ab\\u0009c\\u001bd\\u0000');
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => !UNSAFE.test(escapeLogText(text))));
  });
});

describe('clipPeerText (peer text in a stored event)', () => {
  test('short text is kept as it is, unescaped', () => {
    assert.equal(clipPeerText('peer left: bye\n\u001b'), 'peer left: bye\n\u001b');
  });

  test('the same clip and marker as quote, on a character boundary', () => {
    assert.equal(clipPeerText('A'.repeat(30_000)), `${'A'.repeat(MAX_LOGGED_PEER_TEXT_BYTES)}… (30000 bytes, clipped)`);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        const clipped = clipPeerText(text);
        const { text: quoted, rest } = parseQuoted(quote(text));
        assert.equal(clipped, `${quoted}${rest}`);
        assert.ok(Buffer.byteLength(quoted) <= MAX_LOGGED_PEER_TEXT_BYTES);
      }),
      { numRuns: 300 },
    );
  });
});
