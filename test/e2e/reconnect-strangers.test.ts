// Who we redial, and who gets what is sent meanwhile, is decided by the peer we mean to reach,
// never by whoever connected last: a stranger who dials in while our peer is away gets nothing
// sent for it and does not become the peer we redial; another peer holding the slot for a while
// does not end our peer's redials. (Found by attacking the outbox and reconnect work.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ChatHome, historyOf } from '../helpers/chat.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';

/** Polls `check` every 100 ms until it is true; fails naming `what` after `ms`. */
async function until(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

// The daemon the strangers dial runs with --accept any: by default they are refused before they get
// anywhere near the slot (test/e2e/invite.test.ts); these are the rules that hold when they are not.
const ANY = ['--accept', 'any'];

describe('reconnect and strangers', { timeout: 120_000 }, () => {
  const home = ChatHome.forSuite();
  const status = async (profile: string) => JSON.parse((await home.run(['daemon', 'status', '--profile', profile, '--json'])).stdout) as {
    peer: { name: string } | null;
    reconnect: { name: string } | null;
  };

  test('a message sent while bob is away, after a stranger dialled in and left, is for bob and reaches only bob', async () => {
    const alice = await home.startDaemon('alice', ANY);
    const bob = await home.startDaemon('bob');
    await home.startDaemon('mallory');
    assert.equal((await home.run(['connect', '--profile', 'alice', String(bob.port)])).code, 0);
    assert.equal((await home.run(['daemon', 'stop', '--profile', 'bob'])).code, 0);
    assert.equal((await home.run(['connect', '--profile', 'mallory', String(alice.port)])).code, 0);
    assert.equal((await home.run(['disconnect', '--profile', 'mallory'])).code, 0);
    await until(async () => (await status('alice')).peer === null, 'mallory gone from alice');
    const queued = await home.run(['send', '--profile', 'alice', '--no-wait', '--json', 'the secret for bob']);
    assert.equal(queued.code, 4, queued.stderr);
    assert.equal((JSON.parse(queued.stdout) as { to: string }).to, 'bob', 'queued for bob, not for whoever connected last');
    // Mallory comes back: it must not get the message.
    assert.equal((await home.run(['connect', '--profile', 'mallory', String(alice.port)])).code, 0);
    await delay(1_000);
    assert.ok(!(await historyOf(home, 'mallory')).some((event) => event.text === 'the secret for bob'), 'mallory never gets it');
    assert.equal((await home.run(['disconnect', '--profile', 'mallory'])).code, 0);
    // Bob comes back on his port: alice redials him and delivers it.
    await home.startDaemon('bob', ['--port', String(bob.port)]);
    await until(async () => (await historyOf(home, 'bob')).some((event) => event.text === 'the secret for bob'), 'bob receiving it', 40_000);
  });

  test('a stranger who dials in while the peer that dialled us is away does not become the peer we redial at restart', async () => {
    const carol = await home.startDaemon('carol', ANY);
    await home.startDaemon('dave');
    const eve = await home.startDaemon('eve');
    assert.equal((await home.run(['connect', '--profile', 'dave', String(carol.port)])).code, 0);
    assert.equal((await home.run(['daemon', 'stop', '--profile', 'dave'])).code, 0);
    assert.equal((await home.run(['connect', '--profile', 'eve', String(carol.port)])).code, 0);
    assert.equal((await home.run(['daemon', 'stop', '--profile', 'eve'])).code, 0);
    const lastPeer = JSON.parse(readFileSync(path.join(home.profileDir('carol'), 'last_peer.json'), 'utf8')) as { name: string };
    assert.equal(lastPeer.name, 'dave', 'dave stays the peer to reach again');
    void eve;
  });

  test('another peer holding the slot for a while does not end the redials: once it leaves, the link comes back', async () => {
    const frank = await home.startDaemon('frank', ANY);
    await home.startDaemon('gina');
    await home.startDaemon('hank');
    const proxy = await FaultProxy.start(frank.port);
    try {
      assert.equal((await home.run(['connect', '--profile', 'gina', String(proxy.port)])).code, 0);
      proxy.refuse(true);
      proxy.cut('reset');
      await until(async () => (await status('gina')).reconnect !== null, 'gina reconnecting');
      // Hank holds frank's slot while gina's redials come: they are answered busy.
      assert.equal((await home.run(['connect', '--profile', 'hank', String(frank.port)])).code, 0);
      proxy.refuse(false);
      await until(async () => readFileSync(path.join(home.profileDir('gina'), 'chatd.log'), 'utf8').includes('busy: already connected to hank'), 'a busy answer to gina');
      assert.ok((await status('gina')).reconnect !== null, 'gina still redials after a busy answer');
      assert.equal((await home.run(['disconnect', '--profile', 'hank'])).code, 0);
      await until(async () => (await status('gina')).peer?.name === 'frank', 'gina back with frank', 90_000);
    } finally {
      await proxy.close();
    }
  });
});
