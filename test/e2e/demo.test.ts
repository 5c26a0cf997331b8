// The README walkthrough, run with real daemons and the built CLI: Alice and Bob start, connect
// to each other, chat both ways, send a file, and read their history (also after a restart).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChatHome, historyOf, isAlive } from '../helpers/chat.ts';

describe('Alice and Bob walkthrough', { timeout: 180_000 }, () => {
  let home: ChatHome;
  let alice: { port: number; pid: number; downloads: string };
  let bob: { port: number; pid: number; downloads: string };

  before(async () => {
    home = await ChatHome.create();
  });
  after(async () => {
    await home.cleanup();
  });

  test('each daemon starts in the background and prints its port', async () => {
    const human = await home.run(['daemon', 'start', '--profile', 'alice']);
    assert.equal(human.code, 0, human.stderr);
    const humanPort = Number(human.stdout.trim());
    assert.ok(Number.isInteger(humanPort) && humanPort > 0, `port line: ${human.stdout}`);
    alice = await home.startDaemon('alice');
    assert.equal(alice.port, humanPort, 'a second start reports the running daemon');
    bob = await home.startDaemon('bob');
    assert.notEqual(alice.port, bob.port);
    assert.ok(isAlive(alice.pid) && isAlive(bob.pid));
  });

  test('status shows the daemon, not yet connected', async () => {
    const result = await home.run(['daemon', 'status', '--profile', 'alice', '--json']);
    assert.equal(result.code, 0);
    const status = JSON.parse(result.stdout);
    assert.equal(status.pid, alice.pid);
    assert.equal(status.port, alice.port);
    assert.equal(status.name, 'alice');
    assert.equal(status.connection, 'disconnected');
    assert.equal(status.peer, null);
    assert.equal(status.downloads, path.join(home.profileDir('alice'), 'downloads'));
    const human = await home.run(['daemon', 'status', '--profile', 'alice']);
    assert.match(human.stdout, new RegExp(`${alice.port}`));
    assert.match(human.stdout, /disconnected/);
  });

  test('Alice connects to Bob, then Bob to Alice (the seed way); both print the peer', async () => {
    const aliceToBob = await home.run(['connect', '--profile', 'alice', String(bob.port)]);
    assert.equal(aliceToBob.code, 0, aliceToBob.stderr);
    assert.match(aliceToBob.stdout, /bob/);
    const bobToAlice = await home.run(['connect', '--profile', 'bob', `127.0.0.1:${alice.port}`]);
    assert.equal(bobToAlice.code, 0, bobToAlice.stderr);
    assert.match(bobToAlice.stdout, /alice/);
    for (const [profile, peer] of [['alice', 'bob'], ['bob', 'alice']] as const) {
      const status = JSON.parse((await home.run(['daemon', 'status', '--profile', profile, '--json'])).stdout);
      assert.equal(status.connection, 'connected');
      assert.equal(status.peer.name, peer);
    }
  });

  test('messages flow both ways and are acknowledged', async () => {
    const fromAlice = await home.run(['send', '--profile', 'alice', 'hello', 'Bob']);
    assert.equal(fromAlice.code, 0, fromAlice.stderr);
    const fromBob = await home.run(['send', '--profile', 'bob', '--json', 'hi Alice']);
    assert.equal(fromBob.code, 0, fromBob.stderr);
    assert.equal(JSON.parse(fromBob.stdout).to, 'alice');

    const bobSees = await historyOf(home, 'bob');
    const received = bobSees.find((event) => event.type === 'message' && event.direction === 'in');
    assert.ok(received, JSON.stringify(bobSees));
    assert.equal(received.text, 'hello Bob');
    assert.equal(received.from, 'alice');
    assert.ok(!Number.isNaN(Date.parse(String(received.time))) && String(received.time).endsWith('Z'));
    const aliceSees = await historyOf(home, 'alice');
    assert.ok(aliceSees.some((event) => event.type === 'message' && event.direction === 'in' && event.text === 'hi Alice' && event.from === 'bob'));
    assert.ok(aliceSees.some((event) => event.type === 'message' && event.direction === 'out' && event.text === 'hello Bob' && event.from === 'alice'));
  });

  test('Alice sends Bob a file; Bob holds an identical copy; a second copy is numbered', async () => {
    const source = path.join(home.dir, 'holiday photo.jpg');
    const content = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(source, content);
    const sha256 = createHash('sha256').update(content).digest('hex');

    const sent = await home.run(['transfer', '--profile', 'alice', source, '--json']);
    assert.equal(sent.code, 0, sent.stderr);
    const result = JSON.parse(sent.stdout);
    assert.equal(result.name, 'holiday photo.jpg');
    assert.equal(result.size, content.length);
    assert.equal(result.sha256, sha256);
    assert.deepEqual(await readFile(path.join(bob.downloads, 'holiday photo.jpg')), content);

    const human = await home.run(['transfer', '--profile', 'alice', source]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(sha256));
    assert.match(human.stdout, /holiday photo\.jpg/);
    assert.deepEqual(await readFile(path.join(bob.downloads, 'holiday photo (1).jpg')), content);
    assert.deepEqual((await readdir(bob.downloads)).sort(), ['holiday photo (1).jpg', 'holiday photo.jpg']);

    const files = (await historyOf(home, 'bob')).filter((event) => event.type === 'file');
    assert.equal(files.length, 2);
    assert.deepEqual(
      { ...files[0], seq: 0, id: '', time: '' },
      {
        seq: 0, id: '', time: '', type: 'file', direction: 'in', from: 'alice', to: 'bob',
        name: 'holiday photo.jpg', size: content.length, sha256, path: path.join(bob.downloads, 'holiday photo.jpg'),
      },
    );
    assert.equal((await stat(String(files[1]!.path))).size, content.length);
  });

  test('tail prints the last N events in human form', async () => {
    const result = await home.run(['tail', '--profile', 'bob', '--no-follow', '-n', '4']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  bob: hi Alice$/);
    assert.match(lines[1]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  \* delivered to alice \(message [0-9a-f-]{36}\)$/);
    assert.match(lines[3]!, /alice sent you holiday photo \(1\)\.jpg/);
  });

  test('history survives a daemon restart, and the restarted daemon redials its peer', async () => {
    const before = await historyOf(home, 'bob');
    const aliceBefore = (await historyOf(home, 'alice')).at(-1)!.seq as number;
    const stopped = await home.run(['daemon', 'stop', '--profile', 'bob']);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(isAlive(bob.pid), false, 'stop waits until the process is gone');
    const down = await home.run(['daemon', 'status', '--profile', 'bob']);
    assert.equal(down.code, 3);

    bob = await home.startDaemon('bob');
    const afterRestart = await historyOf(home, 'bob');
    // The stop itself adds a "disconnected" event; everything before it is unchanged.
    assert.deepEqual(afterRestart.slice(0, before.length), before);
    assert.ok(afterRestart.slice(before.length).some((event) => event.type === 'peer' && event.state === 'disconnected'));
    const aliceSaw = async () => (await historyOf(home, 'alice')).filter((event) => (event.seq as number) > aliceBefore && event.type === 'peer');
    assert.equal((await aliceSaw())[0]?.state, 'disconnected', 'Alice noticed Bob leaving');
    // Bob dialled Alice before: started again (on another port), he dials her again by himself.
    const deadline = Date.now() + 20_000;
    while (!(await aliceSaw()).some((event) => event.state === 'connected') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const aliceStatus = JSON.parse((await home.run(['daemon', 'status', '--profile', 'alice', '--json'])).stdout);
    assert.equal(aliceStatus.connection, 'connected', 'reconnected without a chat connect');
    assert.equal(aliceStatus.peer.name, 'bob');
  });

  test('a single connect is enough for both to send', async () => {
    const connected = await home.run(['connect', '--profile', 'bob', String(alice.port)]);
    assert.equal(connected.code, 0, connected.stderr);
    const fromAlice = await home.run(['send', '--profile', 'alice', 'after restart']);
    assert.equal(fromAlice.code, 0, fromAlice.stderr);
    const fromBob = await home.run(['send', '--profile', 'bob', 'welcome back']);
    assert.equal(fromBob.code, 0, fromBob.stderr);
    const bobSees = await historyOf(home, 'bob', 3);
    assert.ok(bobSees.some((event) => event.text === 'after restart' && event.direction === 'in'));
  });

  test('disconnect ends the connection on both sides', async () => {
    const result = await home.run(['disconnect', '--profile', 'alice']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /bob/);
    // Not lost: queued for alice, the last peer, until she is connected again.
    const send = await home.run(['send', '--profile', 'bob', '--timeout', '0.2', 'anyone?']);
    assert.equal(send.code, 4, send.stderr);
    assert.equal(send.stdout, 'queued for alice, not delivered yet: it will be sent when alice is reachable (chat outbox)\n');
  });
});
