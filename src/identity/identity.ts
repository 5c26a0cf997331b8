import { createHash, createPrivateKey, createPublicKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fingerprintOfKey } from './fingerprint.ts';
import { checkPrivateFile, prepareOwnedDirectory, writePrivateFile } from '../files/owner-only.ts';

/**
 * This profile's identity: an ECDSA P-256 key pair and a self-signed certificate that carries the
 * public key into TLS. Peers know us by the fingerprint, the SHA-256 of the public key (SPKI DER),
 * so the certificate's names and dates mean nothing and it never expires.
 */
export interface Identity {
  /** PEM, for node:tls. */
  key: string;
  /** PEM, for node:tls. */
  cert: string;
  /** 64 lowercase hex digits. */
  fingerprint: string;
  keyFile: string;
  certFile: string;
}

const KEY_FILE = 'key.pem';
const CERT_FILE = 'cert.pem';
const SIGNING = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const CERT_SUBJECT = 'CN=chat peer';
/** RFC 5280 4.1.2.5: the value for a certificate with no well-defined expiration date. */
const NO_EXPIRY = new Date('9999-12-31T23:59:59Z');

export function fingerprintOfCertificate(cert: X509Certificate): string {
  return fingerprintOfKey(cert.publicKey);
}

/**
 * Reads the identity in `dir`, creating it on first use. The key is written owner-only before
 * anything else; a certificate lost after a crash is made again from the key, so the fingerprint
 * only changes when the key file is deleted.
 */
export async function loadOrCreateIdentity(dir: string): Promise<Identity & { created: boolean }> {
  prepareOwnedDirectory(dir, 'the identity directory', { ownerOnly: true });
  const keyFile = path.join(dir, KEY_FILE);
  const certFile = path.join(dir, CERT_FILE);
  let created = false;
  if (!exists(keyFile)) {
    const { privateKey } = await webcrypto.subtle.generateKey(SIGNING, true, ['sign', 'verify']);
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', privateKey));
    writePrivateFile(keyFile, createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }) as string);
    created = true;
  }
  checkPrivateFile(keyFile, 'the identity key');
  const key = readFileSync(keyFile, 'utf8');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new Error(`cannot read the identity key ${keyFile}: ${(error as Error).message}`);
  }
  const fingerprint = fingerprintOfKey(createPublicKey(privateKey));
  if (!exists(certFile) || !certificateMatches(certFile, fingerprint)) {
    writePrivateFile(certFile, await createSelfSignedCertificate(privateKey));
  }
  checkPrivateFile(certFile, 'the identity certificate');
  return { key, cert: readFileSync(certFile, 'utf8'), fingerprint, keyFile, certFile, created };
}

function certificateMatches(certFile: string, fingerprint: string): boolean {
  try {
    return fingerprintOfCertificate(new X509Certificate(readFileSync(certFile))) === fingerprint;
  } catch {
    return false;
  }
}

async function createSelfSignedCertificate(privateKey: KeyObject): Promise<string> {
  // Loaded only when a certificate is made (first start): it costs ~60 ms to import.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const keys = {
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, SIGNING, false, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', spki, SIGNING, true, ['verify']),
  };
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: createHash('sha256').update(spki).digest('hex').slice(0, 16),
      name: CERT_SUBJECT,
      notBefore: new Date(Date.now() - 24 * 60 * 60 * 1000),
      notAfter: NO_EXPIRY,
      signingAlgorithm: SIGNING,
      keys,
    },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  return certificate.toString('pem');
}

function exists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}
