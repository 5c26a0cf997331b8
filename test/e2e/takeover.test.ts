// A connection is its authenticated key: a third key that claims what it learned of a connected
// peer (its instance, a look-alike name) cannot replace it, on any path, and every refusal is
// recorded where the user looks (chat tail).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { PEER_ALPN } from '../../src/peer/secure-transport.ts';
import { ChatHome, historyOf, type RunResult } from '../helpers/chat.ts';
import { FramePeer } from '../helpers/frame-peer.ts';
import { connectTlsPeer, createTestIdentity } from '../helpers/tls-peer.ts';

interface Daemon { profile: string; port: number; fingerprint: string; instance: string }
type TestIdentity = Awaited<ReturnType<typeof createTestIdentity>>;

function json<T>(result: RunResult): T {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** What any stranger learns from one HELLO exchange: the daemon's instance. Nothing is confirmed, so nothing is pinned. */
async function probeInstance(port: number, identity: TestIdentity): Promise<string> {
  const probe = await connectTlsPeer(port, identity);
  probe.autoConfirm = false;
  probe.hello({ name: 'probe' });
  const hello = await probe.waitFor('hello');
  probe.close();
  return hello.instance;
}

describe('a connection is its authenticated key', { timeout: 120_000 }, () => {
  let home: ChatHome;
  let mallory: TestIdentity;
  /** The daemon that dialled, whose peer the attacker tries to replace. */
  let victim: Daemon;
  /** The peer it is connected to; its instance sorts below the victim's, so the old tie-break favoured it. */
  let target: Daemon;

  before(async () => {
    mallory = await createTestIdentity();
    home = await ChatHome.create();
    const daemons: Daemon[] = [];
    for (const profile of ['alice', 'bob']) {
      // --accept any: the attacker's key must reach the slot rule (by default it is refused as a stranger first).
      const { port } = await home.startDaemon(profile, ['--accept', 'any']);
      const { fingerprint } = json<{ fingerprint: string }>(await home.run(['id', '--profile', profile, '--json']));
      daemons.push({ profile, port, fingerprint, instance: await probeInstance(port, mallory) });
    }
    daemons.sort((a, b) => (a.instance < b.instance ? -1 : 1));
    [target, victim] = daemons as [Daemon, Daemon];
  });
  after(async () => {
    await home.cleanup();
    await mallory.remove();
  });

  /** Connects victim → target (optionally with --fingerprint) and checks both sides agree. */
  async function connectPair(extra: string[] = []): Promise<void> {
    await home.run(['disconnect', '--profile', victim.profile]);
    json(await home.run(['connect', '--profile', victim.profile, String(target.port), ...extra, '--json']));
    await assertConnectedToTarget();
  }

  async function assertConnectedToTarget(): Promise<void> {
    const status = json<{ connection: string; peer: { fingerprint: string; name: string } | null }>(
      await home.run(['daemon', 'status', '--profile', victim.profile, '--json']),
    );
    assert.equal(status.connection, 'connected');
    assert.equal(status.peer?.fingerprint, target.fingerprint, 'the victim is still connected to the target key');
    assert.equal(status.peer?.name, target.profile);
  }

  /** The attacker's HELLO on the victim's port, claiming the target's instance under a look-alike name. */
  async function attack(name: string): Promise<FramePeer> {
    const attacker = await connectTlsPeer(victim.port, mallory);
    attacker.hello({ name, instance: target.instance });
    return attacker;
  }

  /** `shown`: the name as human output prints it (escaped). */
  async function assertRefusedAndRecorded(attacker: FramePeer, name: string, shown = name): Promise<void> {
    const bye = await attacker.waitFor('bye');
    assert.match(bye.reason, new RegExp(`^busy: already connected to ${target.profile}$`));
    assert.equal(attacker.frames.some((frame) => frame.kind === 'hello'), false, 'the attacker got no HELLO: it was refused at once');
    await attacker.waitClosed();
    await assertConnectedToTarget();
    const refused = (await historyOf(home, victim.profile)).filter(
      (event) => event.type === 'peer' && event.state === 'refused' && event.from === name,
    );
    assert.equal(refused.length, 1, 'the refusal is in the history');
    assert.equal(refused[0]!.fingerprint, mallory.fingerprint);
    const tail = await home.run(['tail', '--profile', victim.profile, '--no-follow', '-n', '50']);
    assert.equal(tail.code, 0, tail.stderr);
    assert.ok(tail.stdout.includes(shown), `chat tail shows who knocked:\n${tail.stdout}`);
  }

  /** A message from the victim still reaches the target, and only the target. */
  async function assertMessagesReachTarget(text: string): Promise<void> {
    json(await home.run(['send', '--profile', victim.profile, '--json', text]));
    const received = (await historyOf(home, target.profile)).filter((event) => event.type === 'message' && event.text === text);
    assert.equal(received.length, 1);
  }

  test('another key claiming the connected peer\'s instance is refused as busy and recorded', async () => {
    await connectPair();
    const name = `${target.profile}\u200b`;
    await assertRefusedAndRecorded(await attack(name), name, `${target.profile}\\u200b`);
    await assertMessagesReachTarget('still to the target');
  });

  test('the same attack on a connection made with --fingerprint', async () => {
    await connectPair(['--fingerprint', target.fingerprint]);
    const name = `${target.profile}-2`;
    await assertRefusedAndRecorded(await attack(name), name);
    await assertMessagesReachTarget('still to the pinned target');
  });

  test('an outgoing connection to another key while connected is refused and recorded too', async () => {
    await connectPair();
    // Mallory listens on the target's port at another loopback address: the same port, so the
    // daemon dials, and only the key tells it is not the peer it has.
    const server = tls.createServer({
      key: mallory.key, cert: mallory.cert, requestCert: true, rejectUnauthorized: false,
      minVersion: 'TLSv1.3', ALPNProtocols: [PEER_ALPN],
    });
    const accepted: FramePeer[] = [];
    server.on('secureConnection', (socket) => {
      const peer = new FramePeer(socket);
      peer.autoConfirm = false;
      accepted.push(peer);
      peer.waitFor('hello').then(() => peer.hello({ name: 'listening-mallory', instance: target.instance, listenPort: target.port }), () => undefined);
    });
    server.listen(target.port, '127.0.0.2');
    await once(server, 'listening');
    try {
      const result = await home.run(['connect', '--profile', victim.profile, `127.0.0.2:${target.port}`]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`already connected to ${target.profile}`));
      assert.equal(accepted.length, 1);
      const bye = await accepted[0]!.waitFor('bye');
      assert.match(bye.reason, /^busy: /);
      await assertConnectedToTarget();
      const refused = (await historyOf(home, victim.profile)).filter(
        (event) => event.type === 'peer' && event.state === 'refused' && event.from === 'listening-mallory',
      );
      assert.equal(refused.length, 1, 'the refusal is in the history');
      assert.equal(refused[0]!.direction, 'out');
    } finally {
      for (const peer of accepted) peer.close();
      server.close();
    }
  });

  test('both users connecting at once keep exactly one connection, the same on both ends', async () => {
    await home.run(['disconnect', '--profile', victim.profile]);
    const [a, b] = await Promise.all([
      home.run(['connect', '--profile', victim.profile, String(target.port), '--json']),
      home.run(['connect', '--profile', target.profile, String(victim.port), '--json']),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const statusOf = async (daemon: Daemon) =>
      json<{ connection: string; peer: { fingerprint: string; address: string; direction: string } | null }>(
        await home.run(['daemon', 'status', '--profile', daemon.profile, '--json']),
      );
    // The loser is closed right after the handshake: wait (bounded) until each side has settled.
    const deadline = Date.now() + 10_000;
    let victimStatus = await statusOf(victim);
    let targetStatus = await statusOf(target);
    while ((victimStatus.connection !== 'connected' || targetStatus.connection !== 'connected' ||
      victimStatus.peer?.direction === targetStatus.peer?.direction) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      victimStatus = await statusOf(victim);
      targetStatus = await statusOf(target);
    }
    assert.equal(victimStatus.peer?.fingerprint, target.fingerprint);
    assert.equal(targetStatus.peer?.fingerprint, victim.fingerprint);
    assert.notEqual(victimStatus.peer?.direction, targetStatus.peer?.direction, 'both ends kept the same connection');
    // The survivor is the one dialled by the smaller fingerprint.
    const dialler = victim.fingerprint < target.fingerprint ? victim : target;
    assert.equal((dialler === victim ? victimStatus : targetStatus).peer?.direction, 'out');
    await assertMessagesReachTarget('one connection, one copy');
  });

  test('both connecting at once with messages queued on both sides: each arrives once, in order, on the surviving connection', async () => {
    await home.run(['disconnect', '--profile', victim.profile]);
    const queue = async (from: Daemon, text: string) => {
      const result = await home.run(['send', '--profile', from.profile, '--no-wait', text]);
      assert.equal(result.code, 4, `${text} is queued: ${result.stdout}${result.stderr}`);
    };
    const texts = (from: Daemon) => [1, 2, 3].map((n) => `queued ${n} from ${from.profile}`);
    for (const text of texts(victim)) await queue(victim, text);
    for (const text of texts(target)) await queue(target, text);
    const [a, b] = await Promise.all([
      home.run(['connect', '--profile', victim.profile, String(target.port)]),
      home.run(['connect', '--profile', target.profile, String(victim.port)]),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const queued = async (daemon: Daemon) => json<{ peers: unknown[] }>(await home.run(['outbox', '--profile', daemon.profile, '--json'])).peers.length;
    const deadline = Date.now() + 20_000;
    while ((await queued(victim)) + (await queued(target)) > 0) {
      assert.ok(Date.now() < deadline, 'the outboxes empty within 20 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const daemon of [victim, target]) {
      const messages = (await historyOf(home, daemon.profile)).filter((event) => event.type === 'message' && String(event.text).startsWith('queued '));
      for (const from of [victim, target]) {
        assert.deepEqual(messages.filter((event) => event.from === from.profile).map((event) => event.text), texts(from), `${daemon.profile} holds ${from.profile}'s, each once, in order`);
      }
    }
  });
});
