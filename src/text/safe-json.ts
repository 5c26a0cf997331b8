/** JSON text that is safe on a terminal: the same value, with every unsafe character written as its `\uXXXX` escape. */
import { replaceUnsafeCharacters } from './unsafe-characters.ts';

/** ASCII without controls, and the newlines of indentation: most output is only that, and needs no pattern. */
const PLAIN = /^[\x20-\x7e\n]*$/;

/** Each UTF-16 unit of `char` as `\uXXXX`: valid inside a JSON string, and plain ASCII on the line. */
export function unicodeEscape(char: string): string {
  let escaped = '';
  for (let i = 0; i < char.length; i++) escaped += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return escaped;
}

/**
 * `JSON.stringify(value, null, indent)`, with the characters it leaves raw (DEL, C1 controls such as
 * the one-character CSI U+009B, bidi overrides, zero-width and other invisible characters,
 * separators) escaped. Parsed, it is the same value. JSON.stringify escapes C0 controls inside
 * strings itself, so a raw newline in its output is indentation, and stays.
 */
export function safeJson(value: unknown, indent?: number): string {
  const json = JSON.stringify(value, null, indent);
  if (PLAIN.test(json)) return json;
  return replaceUnsafeCharacters(json, (char) => (char === '\n' ? char : unicodeEscape(char)));
}
