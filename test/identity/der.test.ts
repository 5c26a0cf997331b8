// Our DER encoder against OpenSSL's (asn1parse -genconf): the same values must give the same bytes,
// at every length-encoding boundary and for the integers that need or must lose a leading zero.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bitString, certificateTime, explicit0, sequence, setOfOne, smallInteger, unsignedInteger, utf8String } from '../../src/identity/der.ts';
import { OPENSSL, opensslGenerate } from '../helpers/openssl.ts';

const skip = OPENSSL ? false : 'the openssl command is not installed';

/** A genconf description of SEQUENCE { items... }, one `name=VALUE` line each. */
function genconf(items: string[]): string {
  return `asn1=SEQUENCE:all\n[all]\n${items.map((item, i) => `i${i}=${item}`).join('\n')}\n`;
}

describe('DER encoding', () => {
  test('lengths at each boundary of the short and long forms, as OpenSSL encodes them', { skip }, () => {
    const lengths = [0, 1, 127, 128, 255, 256, 65_535, 65_536];
    const ours = sequence(...lengths.map((n) => utf8String('a'.repeat(n))));
    assert.ok(ours.equals(opensslGenerate(genconf(lengths.map((n) => `UTF8String:${'a'.repeat(n)}`)))));
  });

  test('non-negative integers: minimal, with a zero byte only before a set top bit', { skip }, () => {
    const values = ['', '00', '0000', '01', '000001', '7f', '80', '0080', 'ff', '00ff', '0100', 'ff'.repeat(20), '00'.repeat(7) + '9a'];
    const ours = sequence(...values.map((hex) => unsignedInteger(Buffer.from(hex, 'hex'))));
    assert.ok(ours.equals(opensslGenerate(genconf(values.map((hex) => `INTEGER:0x${hex || '0'}`)))));
  });

  test('bit strings, UTF-8 text, SET, [0] EXPLICIT and small integers', { skip }, () => {
    const ours = sequence(bitString(Buffer.from('04abcdef', 'hex')), bitString(Buffer.alloc(0)), utf8String('chat peer é'), setOfOne(utf8String('x')), explicit0(smallInteger(2)), smallInteger(0), smallInteger(127));
    const theirs = opensslGenerate(
      'asn1=SEQUENCE:all\n[all]\na=FORMAT:HEX,BITSTRING:04abcdef\nb=BITSTRING:\nc=FORMAT:UTF8,UTF8String:chat peer é\nd=SET:one\ne=EXPLICIT:0,INTEGER:2\nf=INTEGER:0\ng=INTEGER:127\n[one]\nx=UTF8String:x\n',
    );
    assert.ok(ours.equals(theirs), `${ours.toString('hex')}\n${theirs.toString('hex')}`);
  });

  test('times: UTCTime through 2049, GeneralizedTime from 2050, as OpenSSL encodes them', { skip }, () => {
    const dates = ['1950-01-01T00:00:00Z', '2026-03-04T05:06:07.999Z', '2049-12-31T23:59:59Z', '2050-01-01T00:00:00Z', '9999-12-31T23:59:59Z'];
    const ours = sequence(...dates.map((iso) => certificateTime(new Date(iso))));
    const theirs = opensslGenerate(genconf(['UTCTIME:500101000000Z', 'UTCTIME:260304050607Z', 'UTCTIME:491231235959Z', 'GENTIME:20500101000000Z', 'GENTIME:99991231235959Z']));
    assert.ok(ours.equals(theirs));
  });

  test('values a certificate cannot hold are refused, not encoded', () => {
    assert.throws(() => certificateTime(new Date('1949-12-31T23:59:59Z')), RangeError);
    assert.throws(() => certificateTime(new Date(Number.NaN)), RangeError);
    assert.throws(() => smallInteger(128), RangeError);
    assert.throws(() => smallInteger(-1), RangeError);
  });
});
