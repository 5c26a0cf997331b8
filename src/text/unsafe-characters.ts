/**
 * The one definition of the characters that text from a peer may not carry as themselves onto a
 * terminal or into a stored file name.
 *
 * - `Cc`: C0 controls (U+0000-U+001F, ESC and CR among them), DEL (U+007F) and C1 controls
 *   (U+0080-U+009F, U+009B being a one-character CSI): they drive the terminal.
 * - `Cf` and `Bidi_Control`: format characters, invisible by design: bidirectional overrides,
 *   embeddings, isolates and marks (U+202E, U+2066, U+200F, U+061C, ...) that make a line read in
 *   another order, zero-width characters (U+200B, U+2060, U+FEFF) and tag characters
 *   (U+E0000-U+E007F) that hide text. Every Bidi_Control character is also Cf; both are named so
 *   the intent does not depend on that fact.
 * - `Default_Ignorable_Code_Point`: what a renderer shows as nothing unless it supports it, yet is
 *   not Cf: Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), the combining grapheme joiner
 *   (U+034F), variation selectors (U+FE00-U+FE0F, U+E0100-U+E01EF, Mongolian U+180B-U+180F) and
 *   reserved ranges. A name of Hangul fillers looks empty, and one with a selector looks like the
 *   name without it.
 * - U+2800 BRAILLE PATTERN BLANK: a blank that is neither a space nor default-ignorable, so it
 *   passes for a visible character where names are checked.
 * - `Zl`, `Zp` (U+2028, U+2029): line and paragraph separators, which some renderers break lines on.
 * - `Cs`: a lone UTF-16 surrogate, which no terminal shows as what it is.
 *
 * Two exceptions, where the character hides nothing and real text is full of it: a zero-width
 * joiner between two emoji (👨‍👩‍👧) joins them into one picture, and U+FE0F right after an emoji
 * (❤️, ✔️) or inside a keycap (1️⃣) asks for its colour form. Both are kept there, and only there.
 */
export const UNSAFE_CHARACTER_CLASS = String.raw`[\p{Cc}\p{Cf}\p{Bidi_Control}\p{Default_Ignorable_Code_Point}\u{2800}\p{Zl}\p{Zp}\p{Cs}]`;
/** U+200D after an emoji (with its optional variation selector or skin tone) and before another. */
const EMOJI_JOINER = String.raw`(?<=\p{Extended_Pictographic}[\u{FE0F}\p{Emoji_Modifier}]?)\u{200D}(?=\p{Extended_Pictographic})`;
/** U+FE0F (emoji presentation) right after an emoji, or between a keycap's base and U+20E3. */
const EMOJI_PRESENTATION = String.raw`(?:(?<=\p{Extended_Pictographic})\u{FE0F}|(?<=[0-9#*])\u{FE0F}(?=\u{20E3}))`;
const UNSAFE_PATTERN = `(?!${EMOJI_JOINER}|${EMOJI_PRESENTATION})${UNSAFE_CHARACTER_CLASS}`;

/**
 * Printable ASCII (U+0020-U+007E), which holds none of them: most text is only that, and checking
 * it first spares a short-lived command compiling the Unicode pattern (~2 ms of `chat send`).
 */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** A fresh global matcher: a shared /g regex would carry `lastIndex` from one caller to the next. */
function unsafeCharacters(): RegExp {
  return new RegExp(UNSAFE_PATTERN, 'gu');
}

/** True when `text` holds at least one unsafe character. */
export function hasUnsafeCharacters(text: string): boolean {
  return !PRINTABLE_ASCII.test(text) && new RegExp(UNSAFE_PATTERN, 'u').test(text);
}

/** `text` with each unsafe character replaced by what `replacement` makes of it. */
export function replaceUnsafeCharacters(text: string, replacement: (character: string) => string): string {
  return PRINTABLE_ASCII.test(text) ? text : text.replace(unsafeCharacters(), replacement);
}

/** `text` without its unsafe characters (for names that are stored, where an escape would be noise). */
export function removeUnsafeCharacters(text: string): string {
  return replaceUnsafeCharacters(text, () => '');
}
