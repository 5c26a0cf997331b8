/** A key's fingerprint: the SHA-256 of its public key, the one thing that says who a peer is. */
import { createHash, type KeyObject } from 'node:crypto';

/** SHA-256 of a public key's SubjectPublicKeyInfo (DER), as 64 lowercase hex digits. */
export function fingerprintOfKey(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}
