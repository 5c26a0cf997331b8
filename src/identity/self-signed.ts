/**
 * Makes the self-signed certificate that carries an identity's public key into TLS, with node:crypto
 * and a minimal X.509 v3 certificate (RFC 5280) written as DER: node:crypto signs, it cannot build one.
 */
import { createHash, createPrivateKey, createPublicKey, sign, X509Certificate } from 'node:crypto';
import { bitString, certificateTime, explicit0, sequence, setOfOne, smallInteger, unsignedInteger, utf8String } from './der.ts';

const CERT_COMMON_NAME = 'chat peer';
/** RFC 5280 4.1.2.5: the value for a certificate with no well-defined expiration date. */
const NO_EXPIRY = new Date('9999-12-31T23:59:59Z');
const ONE_DAY_MS = 24 * 60 * 60 * 1000;
/** RFC 5280 4.1.2.1: version 3 is encoded as 2. */
const X509_V3 = 2;
/** RFC 5280 4.1.2.2 allows up to 20 bytes; 8 bytes of the key's hash name the certificate well enough. */
const SERIAL_BYTES = 8;

/** OBJECT IDENTIFIER TLVs, spelled out because these two are all a certificate of ours names. */
const OID = {
  /** 1.2.840.10045.4.3.2, RFC 5758 3.2: its AlgorithmIdentifier has no parameters. */
  ecdsaWithSha256: Buffer.from('06082a8648ce3d040302', 'hex'),
  /** 2.5.4.3, X.520 id-at-commonName. */
  commonName: Buffer.from('0603550403', 'hex'),
} as const;

const SIGNATURE_ALGORITHM = sequence(OID.ecdsaWithSha256);
const NAME = sequence(setOfOne(sequence(OID.commonName, utf8String(CERT_COMMON_NAME))));

/**
 * The signed part of the certificate (RFC 5280 4.1): v3, a serial from the key's hash, the same
 * name as issuer and subject, valid from `notBefore` with no expiry, no extensions.
 */
export function tbsCertificate(spki: Buffer, notBefore: Date): Buffer {
  return sequence(
    explicit0(smallInteger(X509_V3)),
    unsignedInteger(createHash('sha256').update(spki).digest().subarray(0, SERIAL_BYTES)),
    SIGNATURE_ALGORITHM,
    NAME,
    sequence(certificateTime(notBefore), certificateTime(NO_EXPIRY)),
    NAME,
    spki,
  );
}

/**
 * The certificate for the ECDSA P-256 key `keyPem` (PKCS#8 PEM), as PEM: subject and issuer
 * CN=chat peer, valid from a day ago with no expiry, no extensions, signed by the key itself.
 */
export function createSelfSignedCertificate(keyPem: string, now: Date = new Date()): string {
  const privateKey = createPrivateKey(keyPem);
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    const what = [privateKey.asymmetricKeyType, privateKey.asymmetricKeyDetails?.namedCurve].filter(Boolean).join(' ');
    throw new Error(`the key is ${what}, not ECDSA P-256`);
  }
  const publicKey = createPublicKey(privateKey);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // A day back, so a peer whose clock is a little behind does not see a certificate from the future.
  const tbs = tbsCertificate(spki, new Date(now.getTime() - ONE_DAY_MS));
  // An ECDSA key signs as DER ECDSA-Sig-Value by default: the form X.509 carries (RFC 5758 3.2).
  const certificate = sequence(tbs, SIGNATURE_ALGORITHM, bitString(sign('sha256', tbs, privateKey)));
  const pem = `-----BEGIN CERTIFICATE-----\n${certificate.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  // OpenSSL's parser and verifier check what was written before anything relies on it.
  const parsed = new X509Certificate(pem);
  if (!parsed.verify(publicKey) || !parsed.publicKey.equals(publicKey)) throw new Error('the certificate made does not verify with its own key');
  return pem;
}
