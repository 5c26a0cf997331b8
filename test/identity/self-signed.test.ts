// The self-signed certificate builder, checked by everything that reads certificates: Node's
// X509Certificate, OpenSSL's DER encoder, `openssl x509` and `openssl verify`, and node:tls on both
// sides of a handshake (the project's transport, and TLS that verifies each certificate as a trust anchor).
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import tls from 'node:tls';
import { fingerprintOfKey } from '../../src/identity/fingerprint.ts';
import { createSelfSignedCertificate, tbsCertificate } from '../../src/identity/self-signed.ts';
import { createPeerContext, peerFingerprint, secureAccepted, secureDialled } from '../../src/peer/secure-transport.ts';
import { OPENSSL, openssl, opensslGenerate } from '../helpers/openssl.ts';

const ONE_DAY_MS = 24 * 60 * 60 * 1000;
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Keys tried to find one whose serial has its top bit set (or not): each try is a coin toss. */
const MAX_KEY_TRIES = 64;
/** Keys tried to find one whose serial starts with a zero byte: 1 in 256 each, so failing is about e^-16. */
const MAX_ZERO_SERIAL_TRIES = 4096;
const skipOpenssl = OPENSSL ? false : 'the openssl command is not installed';

function newKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function spkiOf(keyPem: string): Buffer {
  return createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
}

function serialBytesOf(keyPem: string): Buffer {
  return createHash('sha256').update(spkiOf(keyPem)).digest().subarray(0, 8);
}

/** A key whose serial (the first 8 bytes of the SPKI's SHA-256) starts with a byte that passes `test`. */
function keyWithSerialStart(test: (first: number) => boolean, tries: number, what: string): string {
  for (let i = 0; i < tries; i++) {
    const key = newKeyPem();
    if (test(serialBytesOf(key)[0]!)) return key;
  }
  throw new Error(`no key with ${what} in ${tries} tries`);
}

/** A key whose serial has its top bit as asked. */
function keyWithSerialTopBit(set: boolean): string {
  return keyWithSerialStart((first) => (first >= 0x80) === set, MAX_KEY_TRIES, `the serial's top bit ${set ? 'set' : 'clear'}`);
}

/** The serial as X509Certificate prints it: upper-case hex of the DER integer, so no leading zero bytes. */
function printedSerial(keyPem: string): string {
  return serialBytesOf(keyPem).toString('hex').toUpperCase().replace(/^(00)+(?=.)/, '');
}

/** The TBSCertificate RFC 5280 4.1 describes for this key and date, encoded by OpenSSL. */
function opensslTbs(keyPem: string, notBefore: string): Buffer {
  const spki = spkiOf(keyPem);
  const serial = createHash('sha256').update(spki).digest().subarray(0, 8).toString('hex');
  // The P-256 SPKI is a fixed 26-byte header (algorithm, curve, BIT STRING header) then the point.
  const point = spki.subarray(spki.length - 65).toString('hex');
  return opensslGenerate(`asn1=SEQUENCE:tbs
[tbs]
version=EXPLICIT:0,INTEGER:2
serial=INTEGER:0x${serial}
signature=SEQUENCE:algorithm
issuer=SEQUENCE:name
validity=SEQUENCE:validity
subject=SEQUENCE:name
spki=SEQUENCE:spki
[algorithm]
oid=OID:ecdsa-with-SHA256
[name]
rdn=SET:rdn
[rdn]
attribute=SEQUENCE:cn
[cn]
type=OID:commonName
value=UTF8String:chat peer
[validity]
notBefore=${notBefore}
notAfter=GENTIME:99991231235959Z
[spki]
algorithm=SEQUENCE:ecKey
key=FORMAT:HEX,BITSTRING:${point}
[ecKey]
type=OID:id-ecPublicKey
curve=OID:prime256v1
`);
}

describe('self-signed certificate', () => {
  test('Node parses it: names, serial, dates, and the key it carries and is signed by', () => {
    const key = newKeyPem();
    const now = new Date('2026-05-06T07:08:09.500Z');
    const certificate = new X509Certificate(createSelfSignedCertificate(key, now));
    assert.equal(certificate.subject, 'CN=chat peer');
    assert.equal(certificate.issuer, 'CN=chat peer');
    assert.equal(certificate.ca, false);
    assert.equal(certificate.serialNumber, printedSerial(key));
    assert.equal(certificate.validFromDate.toISOString(), '2026-05-05T07:08:09.000Z');
    assert.equal(certificate.validToDate.toISOString(), '9999-12-31T23:59:59.000Z');
    assert.equal(fingerprintOfKey(certificate.publicKey), fingerprintOfKey(createPublicKey(key)));
    assert.ok(certificate.checkPrivateKey(createPrivateKey(key)));
    assert.ok(certificate.verify(createPublicKey(key)));
  });

  test('a serial whose first byte is zero is encoded minimally: Node prints it without the zero, OpenSSL encodes the same bytes', () => {
    const key = keyWithSerialStart((first) => first === 0, MAX_ZERO_SERIAL_TRIES, 'a zero first serial byte');
    const certificate = new X509Certificate(createSelfSignedCertificate(key, new Date('2026-05-06T07:08:09Z')));
    assert.equal(certificate.serialNumber, printedSerial(key));
    assert.ok(certificate.serialNumber.length < 16, certificate.serialNumber);
    if (OPENSSL) assert.ok(tbsCertificate(spkiOf(key), new Date('2026-05-05T07:08:09Z')).equals(opensslTbs(key, 'UTCTIME:260505070809Z')));
  });

  test('the signed part is byte for byte what OpenSSL encodes from RFC 5280, with and without a zero before the serial', { skip: skipOpenssl }, () => {
    for (const set of [true, false]) {
      const key = keyWithSerialTopBit(set);
      const ours = tbsCertificate(spkiOf(key), new Date('2026-05-05T07:08:09Z'));
      assert.ok(ours.equals(opensslTbs(key, 'UTCTIME:260505070809Z')), `serial top bit ${set}`);
    }
    const key = newKeyPem();
    assert.ok(tbsCertificate(spkiOf(key), new Date('2050-01-01T00:00:00Z')).equals(opensslTbs(key, 'GENTIME:20500101000000Z')));
  });

  test('validity starts a day before now, in either time type, as X509Certificate reads it', () => {
    const key = newKeyPem();
    for (const now of ['2026-12-01T21:00:00Z', '2050-01-01T12:00:00Z', '2051-01-01T00:00:00Z']) {
      const certificate = new X509Certificate(createSelfSignedCertificate(key, new Date(now)));
      assert.equal(certificate.validFromDate.getTime(), new Date(now).getTime() - ONE_DAY_MS, now);
    }
  });

  test('openssl x509 reads it, re-encodes it to the same bytes, and verifies its self-signature', { skip: skipOpenssl }, () => {
    const key = newKeyPem();
    const pem = createSelfSignedCertificate(key);
    const text = openssl(['x509', '-in', 'cert.pem', '-noout', '-text'], { 'cert.pem': pem });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Version: 3 \(0x2\)/);
    assert.match(text.stdout, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text.stdout, /Issuer: CN = chat peer/);
    assert.match(text.stdout, /Not After : Dec 31 23:59:59 9999 GMT/);
    assert.match(text.stdout, /ASN1 OID: prime256v1/);
    const der = openssl(['x509', '-in', 'cert.pem', '-outform', 'DER', '-out', 'out.der'], { 'cert.pem': pem });
    assert.ok(der.output?.equals(new X509Certificate(pem).raw));
    const verified = openssl(['verify', '-x509_strict', '-check_ss_sig', '-CAfile', 'cert.pem', 'cert.pem'], { 'cert.pem': pem });
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /cert\.pem: OK/);
  });

  test('node:tls: two such certificates complete the project handshake, each side sees the other key', async () => {
    const alice = { key: newKeyPem(), cert: '' };
    const bob = { key: newKeyPem(), cert: '' };
    alice.cert = createSelfSignedCertificate(alice.key);
    bob.cert = createSelfSignedCertificate(bob.key);
    const server = net.createServer();
    const accepted = new Promise<tls.TLSSocket>((resolve, reject) => {
      server.once('connection', (socket: net.Socket) => {
        const secure = secureAccepted(socket, createPeerContext(bob));
        secure.once('secure', () => resolve(secure));
        secure.once('error', reject);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
      await once(socket, 'connect');
      const dialled = await secureDialled(socket, createPeerContext(alice), HANDSHAKE_TIMEOUT_MS);
      const listener = await accepted;
      assert.equal(peerFingerprint(dialled), fingerprintOfKey(createPublicKey(bob.key)));
      assert.equal(peerFingerprint(listener), fingerprintOfKey(createPublicKey(alice.key)));
      dialled.destroy();
      listener.destroy();
    } finally {
      server.close();
    }
  });

  test('node:tls with verification on: each side accepts the other certificate as its trust anchor', async () => {
    const alice = { key: newKeyPem(), cert: '' };
    const bob = { key: newKeyPem(), cert: '' };
    alice.cert = createSelfSignedCertificate(alice.key);
    bob.cert = createSelfSignedCertificate(bob.key);
    const server = tls.createServer({ key: bob.key, cert: bob.cert, ca: [alice.cert], requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' });
    const accepted = once(server, 'secureConnection') as Promise<[tls.TLSSocket]>;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const client = tls.connect({
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        key: alice.key,
        cert: alice.cert,
        ca: [bob.cert],
        rejectUnauthorized: true,
        // The certificate names no host: who the peer is comes from its key, not a name.
        checkServerIdentity: () => undefined,
        minVersion: 'TLSv1.3',
      });
      await Promise.race([once(client, 'secureConnect'), new Promise((_, reject) => setTimeout(() => reject(new Error('no handshake')), HANDSHAKE_TIMEOUT_MS).unref())]);
      const [listener] = await accepted;
      assert.equal(client.authorized, true, String(client.authorizationError));
      assert.equal(listener.authorized, true, String(listener.authorizationError));
      client.destroy();
      listener.destroy();
    } finally {
      server.close();
    }
  });

  test('a key that is not ECDSA P-256 is refused with what it is', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    assert.throws(() => createSelfSignedCertificate(rsa), /the key is rsa, not ECDSA P-256/);
    assert.throws(() => createSelfSignedCertificate(p384), /the key is ec secp384r1, not ECDSA P-256/);
    assert.throws(() => createSelfSignedCertificate(ed25519), /the key is ed25519, not ECDSA P-256/);
  });
});
