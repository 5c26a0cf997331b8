/**
 * Makes text safe for one line of chatd.log: characters that could break or fake a line escaped,
 * and text a peer chose clipped to a bounded length and quoted.
 */
import { unsafeCharacters } from '../text/unsafe-characters.ts';
import { clipText } from '../wire/frames.ts';

/**
 * Bytes of one peer-chosen string (a name, a file name, a reason) that reach the log. Enough to
 * recognise it; a 32 KiB file name or a 1 KiB BYE reason cannot fill the log with itself.
 */
export const MAX_LOGGED_PEER_TEXT_BYTES = 200;

/** Each UTF-16 unit as `\uXXXX`: valid inside a JSON string, and plain ASCII on the line. */
function escapeChar(char: string): string {
  let escaped = '';
  for (let i = 0; i < char.length; i++) escaped += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return escaped;
}

/**
 * `text` with every unsafe character (the one set of src/text/unsafe-characters.ts: controls that
 * forge lines or drive a terminal, format and bidi characters, separators) as a visible `\uXXXX`.
 */
export function escapeLogText(text: string): string {
  return text.replace(unsafeCharacters(), escapeChar);
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
