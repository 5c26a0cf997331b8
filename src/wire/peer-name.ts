/**
 * The one rule for a peer's display name, shared by HELLO validation and the daemon's --name.
 */
import { MAX_NAME_BYTES } from './limits.ts';

/** Why `name` cannot be a display name, or undefined when it can. */
export function peerNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'the name is empty';
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `the name is longer than ${MAX_NAME_BYTES} bytes`;
  // C0 controls and DEL would break every line the name is printed on; the terminal escaping
  // handles the rest (format and bidi characters) when the name is shown.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'the name contains control characters';
  return undefined;
}
