import { createHash, createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Makes the self-signed certificate that carries an identity's public key into TLS. Run as a
 * program (key PEM on stdin, certificate PEM on stdout) so that the daemon never loads the X.509
 * library: it stays in memory once imported (about 17 MiB for the daemon's lifetime).
 */

export const SIGNING = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const CERT_SUBJECT = 'CN=chat peer';
/** RFC 5280 4.1.2.5: the value for a certificate with no well-defined expiration date. */
const NO_EXPIRY = new Date('9999-12-31T23:59:59Z');
const ONE_DAY_MS = 24 * 60 * 60 * 1000;

export async function createSelfSignedCertificate(keyPem: string): Promise<string> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const privateKey = createPrivateKey(keyPem);
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
      // A day back, so a peer whose clock is a little behind does not see a certificate from the future.
      notBefore: new Date(Date.now() - ONE_DAY_MS),
      notAfter: NO_EXPIRY,
      signingAlgorithm: SIGNING,
      keys,
    },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  return certificate.toString('pem');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(await createSelfSignedCertificate(readFileSync(0, 'utf8')));
}
