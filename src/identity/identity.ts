/** This profile's identity: its private key and self-signed certificate, made once and kept owner-only. */
import { createPrivateKey, createPublicKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fingerprintOfKey } from './fingerprint.ts';
import { createSelfSignedCertificate } from './self-signed.ts';
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

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const KEY_FILE = 'key.pem';
const CERT_FILE = 'cert.pem';


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
    const { privateKey } = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
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
    writePrivateFile(certFile, makeCertificate(key));
  }
  checkPrivateFile(certFile, 'the identity certificate');
  return { key, cert: readFileSync(certFile, 'utf8'), fingerprint, keyFile, certFile, created };
}

function certificateMatches(certFile: string, fingerprint: string): boolean {
  try {
    return fingerprintOfKey(new X509Certificate(readFileSync(certFile)).publicKey) === fingerprint;
  } catch {
    return false;
  }
}

function makeCertificate(keyPem: string): string {
  try {
    return createSelfSignedCertificate(keyPem);
  } catch (error) {
    throw new Error(`cannot create the identity certificate: ${(error as Error).message}`);
  }
}

function exists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}
