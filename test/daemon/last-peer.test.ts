// last_peer.json: what a restarted daemon redials. Written atomically and owner-only, read back
// field by field; a damaged file or one others can change is refused with a line that names it.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { LastPeerFile, parseLastPeer, type LastPeer } from '../../src/daemon/last-peer.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-last-peer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const bob: LastPeer = {
  name: 'bob', fingerprint: 'ab'.repeat(32), host: '127.0.0.1', port: 7002, dialled: true, userDisconnected: false,
};
let files = 0;
const fresh = () => path.join(dir, `last_peer-${++files}.json`);

describe('LastPeerFile', () => {
  test('no file: no last peer', () => {
    assert.equal(new LastPeerFile(fresh()).load(), undefined);
  });

  test('what is saved is loaded back, from a file of mode 0600 with nothing left beside it', () => {
    const file = fresh();
    new LastPeerFile(file).save(bob);
    assert.deepEqual(new LastPeerFile(file).load(), bob);
    if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith(path.basename(file))), [path.basename(file)], 'no temporary file left');
    const disconnected = { ...bob, userDisconnected: true, dialled: false, host: '::1', port: 65535 };
    new LastPeerFile(file).save(disconnected);
    assert.deepEqual(new LastPeerFile(file).load(), disconnected);
  });

  test('the same peer again is not written again (every connection would fsync it otherwise)', () => {
    const file = fresh();
    const lastPeer = new LastPeerFile(file);
    lastPeer.save(bob);
    // Changed behind its back: a rewrite would show as bob again.
    writeFileSync(file, readFileSync(file, 'utf8').replace('"bob"', '"carol"'));
    lastPeer.save({ ...bob });
    assert.equal(new LastPeerFile(file).load()?.name, 'carol');
    lastPeer.save({ ...bob, port: 7003 });
    assert.deepEqual(new LastPeerFile(file).load(), { ...bob, port: 7003 });
  });

  test('a file that others can change is refused, naming it and the fix', { skip: process.platform === 'win32' }, () => {
    const file = fresh();
    new LastPeerFile(file).save(bob);
    chmodSync(file, 0o644);
    assert.throws(() => new LastPeerFile(file).load(), /the last peer file .* is accessible to other users \(mode 0644\); fix it with: chmod 600/);
  });
});

describe('parseLastPeer', () => {
  const text = (fields: Record<string, unknown>) => JSON.stringify({ version: 1, ...bob, ...fields });

  test('a valid file', () => {
    assert.deepEqual(parseLastPeer(text({}), 'F'), bob);
  });

  test('each damaged field is named, and nothing is dialled from it', () => {
    const cases: Array<[string, RegExp]> = [
      ['not json', /not JSON/],
      ['[1]', /not a JSON object/],
      ['null', /not a JSON object/],
      [text({ version: 2 }), /"version": 1/],
      [text({ name: '' }), /"name"/],
      [text({ name: 'a\u0007b' }), /"name"/],
      [text({ fingerprint: 'AB'.repeat(32) }), /"fingerprint"/],
      [text({ fingerprint: 'ab' }), /"fingerprint"/],
      [text({ host: '' }), /"host"/],
      [text({ host: 'h'.repeat(256) }), /"host"/],
      [text({ host: 7 }), /"host"/],
      [text({ port: 0 }), /"port"/],
      [text({ port: 65536 }), /"port"/],
      [text({ port: 1.5 }), /"port"/],
      [text({ port: '7002' }), /"port"/],
      [text({ dialled: 'yes' }), /"dialled"/],
      [text({ userDisconnected: 1 }), /"userDisconnected"/],
    ];
    for (const [input, why] of cases) {
      assert.throws(() => parseLastPeer(input, '/p/last_peer.json'), (error: Error) => {
        assert.match(error.message, /^the last peer file \/p\/last_peer\.json is damaged \(/);
        assert.match(error.message, why);
        return true;
      }, input);
    }
  });
});
