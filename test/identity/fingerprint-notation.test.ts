import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatFingerprint, parseFingerprint } from '../../src/identity/fingerprint-notation.ts';
import { formatByteSize, parseByteSize } from '../../src/text/sizes.ts';

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);

describe('fingerprints as people write them', () => {
  test('formatted in 16 groups of 4 and parsed back, for any fingerprint', () => {
    fc.assert(
      fc.property(hex64, (fingerprint) => {
        const shown = formatFingerprint(fingerprint);
        assert.match(shown, /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
        assert.equal(parseFingerprint(shown), fingerprint);
      }),
    );
  });

  test('pasted with colons, upper case, a SHA256: prefix or stray spaces', () => {
    const fingerprint = 'ab'.repeat(32);
    for (const pasted of [
      fingerprint.toUpperCase(),
      `SHA256:${fingerprint}`,
      `  ${formatFingerprint(fingerprint)}  `,
      fingerprint.match(/../g)!.join(':'),
      `sha-256:${fingerprint.match(/.{8}/g)!.join('-')}`,
    ]) {
      assert.equal(parseFingerprint(pasted), fingerprint, pasted);
    }
  });

  test('anything that is not exactly 64 hex digits is refused', () => {
    for (const bad of ['', 'ab', 'ab'.repeat(31), 'ab'.repeat(33), 'zz'.repeat(32), `${'ab'.repeat(31)}a`, 'ab'.repeat(32) + '\n0']) {
      assert.equal(parseFingerprint(bad), undefined, JSON.stringify(bad));
    }
  });
});

describe('byte sizes on the command line', () => {
  test('plain bytes and binary units', () => {
    assert.equal(parseByteSize('1024'), 1024);
    assert.equal(parseByteSize('1K'), 1024);
    assert.equal(parseByteSize('500m'), 500 * 1024 ** 2);
    assert.equal(parseByteSize('1.5G'), 1.5 * 1024 ** 3);
    assert.equal(parseByteSize('2GiB'), 2 * 1024 ** 3);
    assert.equal(parseByteSize('2 TB'), 2 * 1024 ** 4);
  });

  test('not sizes: empty, negative, zero, unknown units, beyond exact integers', () => {
    for (const bad of ['', 'lots', '-1', '0', '1X', '1e9', '9000T', '1..5G']) assert.equal(parseByteSize(bad), undefined, bad);
  });

  test('formatted for messages', () => {
    assert.equal(formatByteSize(512), '512 B');
    assert.equal(formatByteSize(2048), '2.0 KiB');
    assert.equal(formatByteSize(64 * 1024 ** 3), '64.0 GiB');
  });
});
