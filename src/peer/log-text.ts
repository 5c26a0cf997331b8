/**
 * Makes text safe for one line of chatd.log: characters that could break or fake a line escaped,
 * and text a peer chose clipped to a bounded length and quoted.
 */
import { clipText } from '../wire/frames.ts';

/**
 * Bytes of one peer-chosen string (a name, a file name, a reason) that reach the log. Enough to
 * recognise it; a 32 KiB file name or a 1 KiB BYE reason cannot fill the log with itself.
 */
export const MAX_LOGGED_PEER_TEXT_BYTES = 200;

/**
 * Control characters (C0, DEL, C1: newlines that forge lines, ESC sequences that rewrite a
 * terminal running `tail -f`, NUL that turns the file binary), the Unicode line and paragraph
 * separators, and the bidirectional overrides and isolates that make a line read as another.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** `text` with every unsafe character as a visible `\uXXXX` escape: one line, plain characters only. */
export function escapeLogText(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/**
 * Peer text for a log line: its first MAX_LOGGED_PEER_TEXT_BYTES bytes as a JSON string (so
 * quotes, backslashes and control characters are escaped, and where it ends is unambiguous),
 * followed by `… (N bytes, clipped)` when it was longer.
 */
export function quote(text: string): string {
  const bytes = Buffer.byteLength(text);
  const clipped = clipText(text, MAX_LOGGED_PEER_TEXT_BYTES);
  // JSON.stringify leaves DEL, C1 and the separators raw; their \uXXXX forms are valid JSON too.
  const quoted = escapeLogText(JSON.stringify(clipped));
  return clipped.length === text.length ? quoted : `${quoted}… (${bytes} bytes, clipped)`;
}
