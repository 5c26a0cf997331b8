// A daemon that wakes from a freeze (SIGSTOP, a suspended laptop) reads and records what waits in
// its socket before its keepalive judges the peer: the link survives, and no message is lost.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { ChatHome, type RunResult } from '../helpers/chat.ts';
import { copies, eventsOf, lastSeq, nextEvent, peerState } from '../helpers/history-db.ts';

let home: ChatHome;
before(async () => {
  home = await ChatHome.create();
});
after(async () => {
  await home.cleanup();
});

test('a peer frozen four times its silence limit reads the message waiting in its socket on waking, and keeps the link', { timeout: 60_000 }, async () => {
  // alice would wait two minutes for a sign of life; bob, with 0.5 s checks and a 2 s limit, judges first.
  await home.startDaemon('alice', ['--ping-interval', '30']);
  const bob = await home.startDaemon('bob', ['--ping-interval', '0.5']);
  const connected = await home.run(['connect', '--profile', 'alice', String(bob.port)]);
  assert.equal(connected.code, 0, connected.stderr);
  await nextEvent(home, 'bob', 0, peerState('connected'));
  const seq = { alice: lastSeq(home, 'alice'), bob: lastSeq(home, 'bob') };
  process.kill(bob.pid, 'SIGSTOP');
  let sent: Promise<RunResult>;
  try {
    // The message waits in bob's socket; bob's keepalive check, due every 0.5 s, comes 8 s late.
    sent = home.run(['send', '--profile', 'alice', 'while bob was frozen']);
    await delay(8_000);
  } finally {
    process.kill(bob.pid, 'SIGCONT');
  }
  const result = await sent;
  assert.equal(result.code, 0, `the send was acknowledged once bob woke: ${result.stderr}`);
  assert.equal(copies(home, 'bob', 'while bob was frozen'), 1);
  assert.equal(copies(home, 'alice', 'while bob was frozen'), 1);
  const back = await home.run(['send', '--profile', 'bob', 'awake']);
  assert.equal(back.code, 0, back.stderr);
  for (const profile of ['alice', 'bob'] as const) {
    assert.deepEqual(eventsOf(home, profile).filter((event) => event.seq > seq[profile] && event.type === 'peer'), [], `${profile}: the link never dropped`);
  }
});
