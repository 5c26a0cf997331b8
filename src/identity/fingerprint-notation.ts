/**
 * How a peer identity's fingerprint is written. The fingerprint is the SHA-256 of the identity's
 * public key (SubjectPublicKeyInfo, DER). Scripts get and give it as 64 lowercase hex digits;
 * people see it in groups of four so it can be read aloud and compared at a glance.
 */

const FINGERPRINT_HEX_LENGTH = 64;
const GROUP_LENGTH = 4;

/** `3f2a 9c01 …` (16 groups of 4 hex digits). */
export function formatFingerprint(fingerprint: string): string {
  return fingerprint.match(new RegExp(`.{1,${GROUP_LENGTH}}`, 'g'))?.join(' ') ?? '';
}

/**
 * Accepts the fingerprint as a person may paste it: any case, with spaces, colons or dashes between
 * digits, with or without a "SHA256:" prefix. Returns the 64 lowercase hex digits, or undefined.
 */
export function parseFingerprint(text: string): string | undefined {
  const digits = text.trim().replace(/^sha-?256:/i, '').replace(/[\s:-]/g, '').toLowerCase();
  return digits.length === FINGERPRINT_HEX_LENGTH && /^[0-9a-f]+$/.test(digits) ? digits : undefined;
}
