// Identities and pinning, as users see them: chat id, chat peers, trust on first use, a changed key
// refused on both sides with both fingerprints, peers forget, connect --fingerprint, and the files
// that hold the keys.
import assert from 'node:assert/strict';
import { createPublicKey, createHash, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { formatFingerprint } from '../../src/identity/fingerprint-notation.ts';
import { ChatHome, historyOf, type RunResult } from '../helpers/chat.ts';

interface Identity { name: string; fingerprint: string }

function json<T>(result: RunResult): T {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

function modeOf(file: string): number {
  return statSync(file).mode & 0o777;
}

describe('identities and pinned peers', { timeout: 180_000 }, () => {
  const home = ChatHome.forSuite();
  let alice: { port: number; pid: number };
  let bob: { port: number; pid: number };
  let aliceId: Identity;
  let bobId: Identity;

  before(async () => {
    alice = await home.startDaemon('alice');
    bob = await home.startDaemon('bob');
    aliceId = json<Identity>(await home.run(['id', '--profile', 'alice', '--json']));
    bobId = json<Identity>(await home.run(['id', '--profile', 'bob', '--json']));
  });

  test('chat id prints the name and the SHA-256 of the public key in the profile\'s certificate', async () => {
    assert.equal(aliceId.name, 'alice');
    assert.match(aliceId.fingerprint, /^[0-9a-f]{64}$/);
    assert.notEqual(aliceId.fingerprint, bobId.fingerprint);
    const certificate = new X509Certificate(readFileSync(path.join(home.profileDir('alice'), 'identity', 'cert.pem')));
    const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
    assert.equal(aliceId.fingerprint, createHash('sha256').update(spki).digest('hex'));
    // The certificate carries the key of the private key file.
    const key = createPublicKey(readFileSync(path.join(home.profileDir('alice'), 'identity', 'key.pem')));
    assert.deepEqual(key.export({ type: 'spki', format: 'der' }), spki);

    const human = await home.run(['id', '--profile', 'alice']);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^name\s+alice$/m);
    assert.ok(human.stdout.includes(formatFingerprint(aliceId.fingerprint)), human.stdout);
    assert.match(formatFingerprint(aliceId.fingerprint), /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
  });

  test('key, certificate and control socket are owner-only; their directories 0700', () => {
    const dir = home.profileDir('alice');
    assert.equal(modeOf(path.join(dir, 'identity')), 0o700);
    assert.equal(modeOf(path.join(dir, 'identity', 'key.pem')), 0o600);
    assert.equal(modeOf(path.join(dir, 'identity', 'cert.pem')), 0o600);
    assert.equal(modeOf(path.join(dir, 'run')), 0o700);
    assert.equal(modeOf(path.join(dir, 'run', 'control.sock')), 0o600);
    assert.equal(modeOf(path.join(dir, 'downloads')), 0o700);
  });

  test('the same modes when the user\'s umask is 000', async () => {
    const previous = process.umask(0);
    try {
      await home.startDaemon('lax');
    } finally {
      process.umask(previous);
    }
    const dir = home.profileDir('lax');
    for (const [file, mode] of [
      ['', 0o700], ['identity', 0o700], ['identity/key.pem', 0o600], ['identity/cert.pem', 0o600],
      ['run', 0o700], ['run/control.sock', 0o600], ['downloads', 0o700], ['chatd.log', 0o600], ['history.db', 0o600],
    ] as const) {
      assert.equal(modeOf(path.join(dir, file)).toString(8), mode.toString(8), file || 'profile directory');
    }
    assert.equal((await home.run(['daemon', 'stop', '--profile', 'lax'])).code, 0);
  });

  test('the identity survives a restart', async () => {
    const stopped = await home.run(['daemon', 'stop', '--profile', 'bob']);
    assert.equal(stopped.code, 0, stopped.stderr);
    bob = await home.startDaemon('bob', ['--port', String(bob.port)]);
    assert.deepEqual(json<Identity>(await home.run(['id', '--profile', 'bob', '--json'])), bobId);
  });

  test('first contact pins each side\'s key; status, connect and events show it', async () => {
    assert.deepEqual(json<{ peers: unknown[] }>(await home.run(['peers', '--profile', 'alice', '--json'])), { peers: [] });
    const connected = await home.run(['connect', '--profile', 'alice', String(bob.port)]);
    assert.equal(connected.code, 0, connected.stderr);
    assert.ok(connected.stdout.includes(formatFingerprint(bobId.fingerprint)), `connect shows bob's fingerprint: ${connected.stdout}`);

    const aliceStatus = json<{ fingerprint: string; peer: { fingerprint: string } }>(await home.run(['daemon', 'status', '--profile', 'alice', '--json']));
    assert.equal(aliceStatus.fingerprint, aliceId.fingerprint);
    assert.equal(aliceStatus.peer.fingerprint, bobId.fingerprint);
    const bobStatus = await home.run(['daemon', 'status', '--profile', 'bob']);
    assert.ok(bobStatus.stdout.includes(formatFingerprint(aliceId.fingerprint)), bobStatus.stdout);

    const alicePeers = json<{ peers: Array<Record<string, string>> }>(await home.run(['peers', '--profile', 'alice', '--json'])).peers;
    assert.equal(alicePeers.length, 1);
    assert.equal(alicePeers[0]!.name, 'bob');
    assert.equal(alicePeers[0]!.fingerprint, bobId.fingerprint);
    assert.ok(!Number.isNaN(Date.parse(alicePeers[0]!.firstSeen!)) && !Number.isNaN(Date.parse(alicePeers[0]!.lastSeen!)));
    const bobPeers = json<{ peers: Array<Record<string, string>> }>(await home.run(['peers', '--profile', 'bob', '--json'])).peers;
    assert.deepEqual(bobPeers.map((peer) => [peer.name, peer.fingerprint]), [['alice', aliceId.fingerprint]]);
    assert.equal(modeOf(path.join(home.profileDir('alice'), 'known_peers.json')), 0o600);

    const event = (await historyOf(home, 'bob')).find((e) => e.type === 'peer' && e.state === 'connected');
    assert.equal(event?.fingerprint, aliceId.fingerprint);
    assert.equal(event?.firstContact, true);
    const log = readFileSync(path.join(home.profileDir('bob'), 'chatd.log'), 'utf8');
    assert.ok(log.includes(`key ${formatFingerprint(aliceId.fingerprint)}, first contact: key pinned`), 'the log says so with the fingerprint');

    // Second contact: same key, nothing new pinned.
    assert.equal((await home.run(['disconnect', '--profile', 'alice'])).code, 0);
    assert.equal((await home.run(['connect', '--profile', 'bob', String(alice.port)])).code, 0);
    const connects = (await historyOf(home, 'alice')).filter((e) => e.type === 'peer' && e.state === 'connected');
    assert.deepEqual(connects.map((e) => e.firstContact), [true, false]);
    assert.equal((await home.run(['disconnect', '--profile', 'bob'])).code, 0);
  });

  test('another profile calling itself "bob" with a new key is refused on both sides, with both fingerprints', async () => {
    const impostor = await home.startDaemon('bob2', ['--name', 'bob']);
    const impostorId = json<Identity>(await home.run(['id', '--profile', 'bob2', '--json']));
    const both = (text: string) => {
      assert.ok(text.includes(formatFingerprint(bobId.fingerprint)), `pinned fingerprint in: ${text}`);
      assert.ok(text.includes(formatFingerprint(impostorId.fingerprint)), `presented fingerprint in: ${text}`);
      assert.match(text, /chat peers forget "?bob"?/);
    };

    // The impostor dials alice: alice refuses it, and the impostor's connect says why.
    const dialled = await home.run(['connect', '--profile', 'bob2', String(alice.port)]);
    assert.equal(dialled.code, 1);
    assert.equal(dialled.stderr.trim().split('\n').length, 1, dialled.stderr);
    both(dialled.stderr);
    // Alice dials the impostor: alice's own connect refuses it.
    const dialling = await home.run(['connect', '--profile', 'alice', String(impostor.port)]);
    assert.equal(dialling.code, 1);
    both(dialling.stderr);
    const jsonError = await home.run(['connect', '--profile', 'alice', String(impostor.port), '--json']);
    assert.equal(jsonError.code, 1);
    assert.equal(JSON.parse(jsonError.stdout).error.code, 'identity_mismatch');

    // Both sides record it where their users look.
    const aliceRefusals = (await historyOf(home, 'alice')).filter((e) => e.type === 'peer' && e.state === 'refused');
    assert.ok(aliceRefusals.length >= 2);
    both(String(aliceRefusals.at(-1)!.reason));
    const impostorEvents = await historyOf(home, 'bob2');
    assert.ok(impostorEvents.some((e) => e.type === 'peer' && e.state === 'refused'), 'the refused side records it too');
    assert.ok(!impostorEvents.some((e) => e.type === 'peer' && e.state === 'connected'), 'the impostor never counted as connected');
    const aliceStatus = json<{ connection: string }>(await home.run(['daemon', 'status', '--profile', 'alice', '--json']));
    assert.equal(aliceStatus.connection, 'disconnected');
    const tail = await home.run(['tail', '--profile', 'alice', '--no-follow', '-n', '1']);
    assert.match(tail.stdout, /refused bob .*identity: the key of "bob" has changed/);

    // Alice decides the new key is right: forget, then it is pinned on the next contact.
    const forgotten = json<{ forgotten: { name: string; fingerprint: string } }>(await home.run(['peers', 'forget', 'bob', '--profile', 'alice', '--json']));
    assert.equal(forgotten.forgotten.fingerprint, bobId.fingerprint);
    const again = await home.run(['connect', '--profile', 'alice', String(impostor.port)]);
    assert.equal(again.code, 0, again.stderr);
    const pinned = json<{ peers: Array<{ name: string; fingerprint: string }> }>(await home.run(['peers', '--profile', 'alice', '--json'])).peers;
    assert.equal(pinned.find((peer) => peer.name === 'bob')?.fingerprint, impostorId.fingerprint);
    assert.equal((await home.run(['disconnect', '--profile', 'alice'])).code, 0);
    assert.equal((await home.run(['daemon', 'stop', '--profile', 'bob2'])).code, 0);
  });

  test('peers forget of an unknown name exits 1; of no name exits 2', async () => {
    const unknown = await home.run(['peers', 'forget', 'nobody-here', '--profile', 'alice']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no pinned peer is named "nobody-here"/);
    assert.equal((await home.run(['peers', 'forget', '--profile', 'alice'])).code, 2);
  });

  test('connect --fingerprint: the right key connects, any other is refused, a malformed one is a usage error', async () => {
    await home.startDaemon('carol');
    const carolId = json<Identity>(await home.run(['id', '--profile', 'carol', '--json']));
    // bob has a peer pinned already: carol is a new key, and needs his invite. Her refusal of his
    // key below does not use it up: only a key let in does.
    assert.equal((await home.run(['invite', '--profile', 'bob'])).code, 0);

    const wrong = await home.run(['connect', '--profile', 'carol', String(bob.port), '--fingerprint', aliceId.fingerprint]);
    assert.equal(wrong.code, 1);
    assert.ok(wrong.stderr.includes(formatFingerprint(bobId.fingerprint)) && wrong.stderr.includes(formatFingerprint(aliceId.fingerprint)), wrong.stderr);
    assert.match(wrong.stderr, /--fingerprint/);
    const carolPeers = json<{ peers: Array<{ name: string }> }>(await home.run(['peers', '--profile', 'carol', '--json'])).peers;
    assert.deepEqual(carolPeers, [], 'a refused key is not pinned');

    const malformed = await home.run(['connect', '--profile', 'carol', String(bob.port), '--fingerprint', 'abc']);
    assert.equal(malformed.code, 2);

    // As a person would paste it: upper case, in groups.
    const right = await home.run(['connect', '--profile', 'carol', String(bob.port), '--fingerprint', formatFingerprint(bobId.fingerprint).toUpperCase()]);
    assert.equal(right.code, 0, right.stderr);
    const bobPeers = json<{ peers: Array<{ name: string; fingerprint: string }> }>(await home.run(['peers', '--profile', 'bob', '--json'])).peers;
    assert.equal(bobPeers.find((peer) => peer.name === 'carol')?.fingerprint, carolId.fingerprint);
    assert.equal((await home.run(['disconnect', '--profile', 'carol'])).code, 0);
  });
});
