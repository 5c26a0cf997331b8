/** Clips text to a byte budget of UTF-8 without cutting a character in two. */

/** The longest prefix of `text` (whole code points) that fits in `maxBytes` of UTF-8. */
export function clipText(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > maxBytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}
