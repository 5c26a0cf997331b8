/**
 * Encodes the few ASN.1 DER values (ITU-T X.690) that a minimal self-signed certificate is made of.
 * Only encoding, of values this program chooses itself: nothing here ever parses peer input.
 */

/** Tags (X.690 8.1.2): universal class, plus the context-specific constructed [0]. */
const TAG = {
  integer: 0x02,
  bitString: 0x03,
  utf8String: 0x0c,
  sequence: 0x30,
  set: 0x31,
  utcTime: 0x17,
  generalizedTime: 0x18,
  explicit0: 0xa0,
} as const;

/** Definite length (X.690 8.1.3): one byte below 128, else 0x80 + the count of big-endian length bytes. */
function encodeLength(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`bad DER length ${length}`);
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

export function sequence(...items: Buffer[]): Buffer {
  return tlv(TAG.sequence, Buffer.concat(items));
}

/** A SET OF with one element (DER orders a SET OF's elements; with one there is nothing to order). */
export function setOfOne(item: Buffer): Buffer {
  return tlv(TAG.set, item);
}

/** [0] EXPLICIT, as the certificate's version field is tagged. */
export function explicit0(item: Buffer): Buffer {
  return tlv(TAG.explicit0, item);
}

/** A non-negative INTEGER from big-endian bytes: minimal (X.690 8.3.2), with a 0x00 when the top bit is set. */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const minimal = Buffer.from(bytes.subarray(start));
  if (minimal.length === 0) return tlv(TAG.integer, Buffer.from([0]));
  return tlv(TAG.integer, minimal[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), minimal]) : minimal);
}

export function smallInteger(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0x7f) throw new RangeError(`smallInteger takes 0..127, not ${value}`);
  return tlv(TAG.integer, Buffer.from([value]));
}

/** A BIT STRING of whole bytes: the first content byte says 0 bits are unused (X.690 8.6.2). */
export function bitString(bytes: Uint8Array): Buffer {
  return tlv(TAG.bitString, Buffer.concat([Buffer.from([0]), bytes]));
}

export function utf8String(text: string): Buffer {
  return tlv(TAG.utf8String, Buffer.from(text, 'utf8'));
}

/**
 * A certificate validity time (RFC 5280 4.1.2.5): UTCTime YYMMDDHHMMSSZ through 2049, GeneralizedTime
 * YYYYMMDDHHMMSSZ from 2050; always UTC, with seconds, without fractions.
 */
export function certificateTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (!Number.isFinite(date.getTime()) || year < 1950 || year > 9999) throw new RangeError(`no certificate time for ${String(date)}`);
  const two = (n: number) => String(n).padStart(2, '0');
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  return year < 2050
    ? tlv(TAG.utcTime, Buffer.from(`${two(year % 100)}${rest}`, 'latin1'))
    : tlv(TAG.generalizedTime, Buffer.from(`${year}${rest}`, 'latin1'));
}
