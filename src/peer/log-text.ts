/**
 * Bounds what is kept of text a peer chose (in chatd.log and in the history's peer events), and
 * makes it safe for one line of the log: escaped, clipped and quoted.
 */
import { replaceUnsafeCharacters } from '../text/unsafe-characters.ts';
import { clipText } from '../text/clip.ts';
import { unicodeEscape } from '../text/safe-json.ts';

/**
 * Bytes of one peer-chosen string (a name, a file name, a reason) that reach the log, or a peer
 * event in the history. Enough to recognise it; a 32 KiB file name or a 1 KiB BYE reason cannot
 * fill the log or the history with itself.
 */
export const MAX_LOGGED_PEER_TEXT_BYTES = 200;


/**
 * `text` with every unsafe character (the one set of src/text/unsafe-characters.ts: controls that
 * forge lines or drive a terminal, format and bidi characters, separators) as a visible `\uXXXX`.
 */
export function escapeLogText(text: string): string {
  return replaceUnsafeCharacters(text, unicodeEscape);
}

/**
 * Peer text for a log line: its first MAX_LOGGED_PEER_TEXT_BYTES bytes as a JSON string (so
 * quotes, backslashes and control characters are escaped, and where it ends is unambiguous),
 * followed by `… (N bytes, clipped)` when it was longer.
 */
export function quote(text: string): string {
  const clipped = clipText(text, MAX_LOGGED_PEER_TEXT_BYTES);
  // JSON.stringify leaves DEL, C1 and the separators raw; their \uXXXX forms are valid JSON too.
  return `${escapeLogText(JSON.stringify(clipped))}${clipMarker(text, clipped)}`;
}

/**
 * Peer text as a stored event keeps it (a disconnect or refusal reason): the same clip as
 * `quote`, unescaped (every reader escapes it for its own output), with the same marker.
 */
export function clipPeerText(text: string): string {
  const clipped = clipText(text, MAX_LOGGED_PEER_TEXT_BYTES);
  return `${clipped}${clipMarker(text, clipped)}`;
}

/** `… (N bytes, clipped)` when `clipped` is shorter than `text`, else nothing. */
function clipMarker(text: string, clipped: string): string {
  return clipped.length === text.length ? '' : `… (${Buffer.byteLength(text)} bytes, clipped)`;
}
