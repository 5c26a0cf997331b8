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
 * - `Zl`, `Zp` (U+2028, U+2029): line and paragraph separators, which some renderers break lines on.
 * - `Cs`: a lone UTF-16 surrogate, which no terminal shows as what it is.
 *
 * One exception: a zero-width joiner between two emoji (👨‍👩‍👧) is what joins them into one picture,
 * and it hides nothing there, so it is kept.
 */
export const UNSAFE_CHARACTER_CLASS = String.raw`[\p{Cc}\p{Cf}\p{Bidi_Control}\p{Zl}\p{Zp}\p{Cs}]`;
/** U+200D after an emoji (with its optional variation selector or skin tone) and before another. */
const EMOJI_JOINER = String.raw`(?<=\p{Extended_Pictographic}[\u{FE0F}\p{Emoji_Modifier}]?)\u{200D}(?=\p{Extended_Pictographic})`;
const UNSAFE_PATTERN = `(?!${EMOJI_JOINER})${UNSAFE_CHARACTER_CLASS}`;

/** A fresh global matcher: a shared /g regex would carry `lastIndex` from one caller to the next. */
export function unsafeCharacters(): RegExp {
  return new RegExp(UNSAFE_PATTERN, 'gu');
}

/** True when `text` holds at least one unsafe character. */
export function hasUnsafeCharacters(text: string): boolean {
  return new RegExp(UNSAFE_PATTERN, 'u').test(text);
}

/** `text` without its unsafe characters (for names that are stored, where an escape would be noise). */
export function removeUnsafeCharacters(text: string): string {
  return text.replace(unsafeCharacters(), '');
}
