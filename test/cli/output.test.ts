// The one escaping function for peer text shown to a person, checked over every code point.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { human, humanLines, HumanText, joinLines, printable } from '../../src/cli/output.ts';
import { safeFileName } from '../../src/peer/file-names.ts';

/**
 * What must never reach a terminal as itself: Unicode's own classes, as the brief names them, and
 * what renders as nothing (Default_Ignorable_Code_Point, U+2800 BRAILLE PATTERN BLANK).
 */
const MUST_ESCAPE = /^[\p{Cc}\p{Cf}\p{Bidi_Control}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}\u2800]$/u;

/** The expected visible escape, written out independently of the code under test. */
function expectedEscape(code: number): string {
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

describe('printable: text from the peer shown to a person', () => {
  test('every C0/C1 control, DEL, format (Cf), Bidi_Control, default-ignorable, separator and lone surrogate is a visible escape; nothing else changes', () => {
    let escaped = 0;
    for (let code = 0; code <= 0x10ffff; code++) {
      const char = String.fromCodePoint(code);
      const shown = printable(char);
      if (MUST_ESCAPE.test(char)) {
        escaped++;
        if (shown !== expectedEscape(code)) assert.fail(`U+${code.toString(16)} shown as ${JSON.stringify(shown)}`);
      } else if (shown !== char) {
        assert.fail(`U+${code.toString(16)} changed to ${JSON.stringify(shown)}`);
      }
    }
    // Cc 65 + Cf 170 + Zl/Zp 2 + Cs 2048 + Default_Ignorable outside Cf 4036 + U+2800 in Unicode
    // 15/16: a floor, so a newer Unicode may add some.
    assert.ok(escaped >= 6320, `only ${escaped} code points escaped`);
  });

  test('the characters named in the attack: escapes, CR, C1 CSI, bidi overrides and marks, invisible ones', () => {
    const cases: Array<[string, string]> = [
      ['hi \u001b[2J\u001b]0;x\u0007 there', 'hi \\x1b[2J\\x1b]0;x\\x07 there'],
      ['fake\rline', 'fake\\x0dline'],
      ['\u009b31m', '\\x9b31m'],
      ['del\u007f', 'del\\x7f'],
      ['bob\u202eexe.txt', 'bob\\u202eexe.txt'],
      ['\u2066a\u2069', '\\u2066a\\u2069'],
      ['\u061cabc\u200e\u200f', '\\u061cabc\\u200e\\u200f'],
      ['zero\u200bwidth\u2060\ufeff', 'zero\\u200bwidth\\u2060\\ufeff'],
      ['soft\u00adhyphen', 'soft\\xadhyphen'],
      ['tag\u{e0041}\u{e007f}', 'tag\\u{e0041}\\u{e007f}'],
      ['line\u2028para\u2029', 'line\\u2028para\\u2029'],
      ['lone \ud800 surrogate', 'lone \\ud800 surrogate'],
      ['one\nline\ttab', 'one\\x0aline\\x09tab'],
    ];
    for (const [input, expected] of cases) assert.equal(printable(input), expected, JSON.stringify(input));
  });

  test('names that look empty, or like another name: Hangul fillers, braille blank, grapheme joiner, variation selectors', () => {
    const cases: Array<[string, string]> = [
      ['\u3164', '\\u3164'],
      ['\u115f\u1160', '\\u115f\\u1160'],
      ['\uffa0\uffa0', '\\uffa0\\uffa0'],
      ['\u2800', '\\u2800'],
      ['b\u034fob', 'b\\u034fob'],
      ['alice\ufe00', 'alice\\ufe00'],
      ['alice\ufe0f', 'alice\\ufe0f'],
      ['alice\ufe0e', 'alice\\ufe0e'],
      ['\u845b\u{e0100}', '\u845b\\u{e0100}'],
      ['\u1820\u180b', '\u1820\\u180b'],
      ['\ufff0', '\\ufff0'],
    ];
    for (const [input, expected] of cases) assert.equal(printable(input), expected, JSON.stringify(input));
  });

  test('ordinary text of any script stays as it is', () => {
    for (const text of ['caf\u00e9 \u{1f600}', 'שלום עולם', 'مرحبا', '日本語', 'a\\b "quoted" <tag>']) assert.equal(printable(text), text);
  });
});

describe('HumanText: the only thing the terminal writer takes', () => {
  test('human`` escapes every string value and keeps literals, numbers and HumanText', () => {
    const name = 'eve\u202e\u001b[31m';
    const line = human`connected to ${name} (${7001})`;
    assert.equal(line.text, 'connected to eve\\u202e\\x1b[31m (7001)');
    assert.equal(human`[${line}]`.text, `[${line.text}]`, 'a HumanText is not escaped twice');
  });

  test('humanLines keeps the line structure but not a peer\'s control characters', () => {
    assert.equal(humanLines('a\u001b\nb\rc', 2).text, 'a\\x1b\n  b\\x0dc');
    assert.equal(joinLines([human`x`, human`${'\u0085'}`]).text, 'x\n\\x85');
  });

  test('a zero-width joiner is kept only where it joins two emoji into one picture', () => {
    for (const joined of ['\u{1f468}\u200d\u{1f469}\u200d\u{1f467}', '\u2764\ufe0f\u200d\u{1f525}', '\u{1f44d}\u{1f3fd}\u200d\u{1f525}']) {
      assert.equal(printable(joined), joined);
    }
    assert.equal(printable('a\u200db'), 'a\\u200db');
    assert.equal(printable('\u200d\u{1f468}'), '\\u200d\u{1f468}');
    assert.equal(printable('\u{1f468}\u200d'), '\u{1f468}\\u200d');
    assert.equal(printable('\u{1f468}\u200d\u200d\u{1f469}'), '\u{1f468}\\u200d\\u200d\u{1f469}', 'only one joiner, between two emoji');
  });

  test('U+FE0F is kept only right after an emoji, or in a keycap: it asks for the colour form and hides nothing', () => {
    for (const shown of ['\u2764\ufe0f', 'ok \u2714\ufe0f', '\u263a\ufe0f\u{1f44d}', '1\ufe0f\u20e3', '#\ufe0f\u20e3', '\u2764\ufe0f\u200d\u{1f525}']) {
      assert.equal(printable(shown), shown, JSON.stringify(shown));
    }
    assert.equal(printable('1\ufe0f'), '1\\ufe0f', 'a digit without the keycap mark');
    assert.equal(printable('a\ufe0f\u20e3'), 'a\\ufe0f\u20e3', 'no keycap of a letter');
    assert.equal(printable('\u2764\ufe0f\ufe0f'), '\u2764\ufe0f\\ufe0f', 'one selector, not a run of them');
    assert.equal(printable('\ufe0f\u2764'), '\\ufe0f\u2764', 'before the emoji it selects nothing');
    assert.equal(printable('\u2764\ufe0e'), '\u2764\\ufe0e', 'the text-form selector is not kept');
    assert.equal(printable('\u2764\u{e0100}'), '\u2764\\u{e0100}');
  });

  test('nobody else can make one', () => {
    assert.throws(() => new HumanText(Symbol('HumanText'), '\u001b[2J'), TypeError);
  });
});

describe('stored file names use the same set', () => {
  test('U+061C, bidi marks, zero-width and tag characters are removed from a received file\'s name', () => {
    assert.equal(safeFileName('in\u061cvoice\u200f\u2067fdp.exe\u2069\u200b\ufeff\u{e0041}.txt'), 'invoicefdp.exe.txt');
  });

  test('so are Hangul fillers, the braille blank and variation selectors; an emoji keeps its U+FE0F', () => {
    assert.equal(safeFileName('re\u3164port\u2800\u034f\ufe00\u{e0100}.pdf'), 'report.pdf');
    assert.equal(safeFileName('\u2764\ufe0f.txt'), '\u2764\ufe0f.txt');
  });
});
