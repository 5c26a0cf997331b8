// Who may connect, through the built CLI and real daemons: the seed's first contact still works
// (over IPv6 too, to a daemon on `::` that lists the addresses to give a peer); once a peer is
// pinned a stranger is refused with the hint and shows in `chat tail`; `chat invite` prints a line
// the stranger pastes as it is; `daemon status` shows the mode and the invite; `--accept known`
// with `chat peers add` lets in exactly the key added.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChatHome, historyOf } from '../helpers/chat.ts';

const json = <T>(result: { code: number | null; stdout: string; stderr: string }): T => {
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as T;
};

describe('who may connect: consent, chat invite, chat peers add', { timeout: 120_000 }, () => {
  const home = ChatHome.forSuite();
  let alice: { port: number };
  let bob: { port: number };
  let carolFingerprint: string;

  test('the seed flow on fresh daemons: bob dials alice on [::1]; alice, on ::, lists where to dial her', async () => {
    const started = await home.run(['daemon', 'start', '--profile', 'alice', '--host', '::']);
    assert.equal(started.code, 0, started.stderr);
    alice = { port: Number(started.stdout.trim()) };
    assert.match(started.stderr, new RegExp(`listening on \\[::\\]:${alice.port} `));
    const dial = /a peer on another machine dials: (.+)\n/.exec(started.stderr);
    assert.ok(dial, started.stderr);
    for (const address of dial[1]!.split(', ')) {
      assert.match(address, new RegExp(`^(\\d+\\.\\d+\\.\\d+\\.\\d+|\\[[0-9a-f:]+\\]):${alice.port}$`), 'HOST:PORT, IPv6 in brackets');
    }
    bob = await home.startDaemon('bob', ['--host', '::']);
    await home.startDaemon('carol');

    const connected = await home.run(['connect', '--profile', 'bob', `[::1]:${alice.port}`]);
    assert.equal(connected.code, 0, connected.stderr);
    assert.match(connected.stdout, new RegExp(`^connected to alice \\(\\[::1\\]:${alice.port}\\)\n`));
    // alice was dialled: her "already connected" names bob's listening address, not his ephemeral port.
    const again = await home.run(['connect', '--profile', 'alice', `[::1]:${bob.port}`]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`^already connected to bob \\(\\[::1\\]:${bob.port}\\)\n`));
    // An IPv6 address in an error is written the way it is typed, not "::1:1".
    const nobody = await home.run(['connect', '--profile', 'carol', '[::1]:1']);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /^chat: cannot connect to \[::1\]:1: connection refused/);

    const status = json<{ host: string; addresses: string[]; accept: string; invite: unknown; peer: { listenAddress: string } }>(
      await home.run(['daemon', 'status', '--profile', 'alice', '--json']));
    assert.deepEqual({ host: status.host, accept: status.accept, invite: status.invite, listenAddress: status.peer.listenAddress },
      { host: '::', accept: 'invited', invite: null, listenAddress: `[::1]:${bob.port}` });
    assert.deepEqual(status.addresses, dial[1]!.split(', '));
    const human = (await home.run(['daemon', 'status', '--profile', 'alice'])).stdout;
    assert.match(human, new RegExp(`^listening   \\[::\\]:${alice.port}$`, 'm'));
    assert.match(human, new RegExp(`^dial at     ${status.addresses[0]!.replace(/[[\]]/g, '\\$&')}$`, 'm'));
    assert.match(human, /^accept      invited$/m);
    assert.equal((await home.run(['disconnect', '--profile', 'bob'])).code, 0);
  });

  test('a stranger is refused with the hint and shows in chat tail; the invite line lets it in once', async () => {
    carolFingerprint = json<{ fingerprint: string }>(await home.run(['id', '--profile', 'carol', '--json'])).fingerprint;
    const refused = await home.run(['connect', '--profile', 'carol', String(alice.port)]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `chat: 127.0.0.1:${alice.port} refused: busy: alice is not accepting new peers; ask alice to run: chat invite\n`);
    const knocked = (await historyOf(home, 'alice')).findLast((event) => event.type === 'peer' && event.state === 'refused');
    assert.deepEqual({ from: knocked?.from, fingerprint: knocked?.fingerprint }, { from: 'carol', fingerprint: carolFingerprint });
    const tail = await home.run(['tail', '--profile', 'alice', '--no-follow', '-n', '1']);
    assert.match(tail.stdout, /refused carol/);

    const invite = await home.run(['invite', '--profile', 'alice', '--for', '5m']);
    assert.equal(invite.code, 0, invite.stderr);
    const line = invite.stdout.trim();
    assert.match(line, /^chat connect \S+ --fingerprint [0-9a-f]{64}$/);
    assert.equal(invite.stdout.split('\n').length, 2, 'one line to paste');
    assert.match(invite.stderr, /^invite open for 5 min, for one new peer/);
    assert.match((await home.run(['daemon', 'status', '--profile', 'alice'])).stdout, /^accept      invited \(invite open, 5 min left\)$/m);
    const status = json<{ invite: { expiresInMs: number } }>(await home.run(['daemon', 'status', '--profile', 'alice', '--json']));
    assert.ok(status.invite.expiresInMs > 0 && status.invite.expiresInMs <= 300_000, JSON.stringify(status.invite));

    // carol pastes the line as it is (after "chat").
    const pasted = await home.run([...line.split(' ').slice(1), '--profile', 'carol']);
    assert.equal(pasted.code, 0, pasted.stderr);
    assert.match(pasted.stdout, /^connected to alice /);
    assert.equal(json<{ invite: unknown }>(await home.run(['daemon', 'status', '--profile', 'alice', '--json'])).invite, null, 'used up');
    assert.equal((await home.run(['disconnect', '--profile', 'carol'])).code, 0);

    // --json gives the fields and the line; --cancel closes it.
    const fields = json<{ command: string; fingerprint: string; addresses: string[]; invite: { expiresAt: string } }>(
      await home.run(['invite', '--profile', 'alice', '--json']));
    assert.equal(fields.command, `chat connect ${fields.addresses[0]} --fingerprint ${fields.fingerprint}`);
    assert.equal((await home.run(['invite', '--profile', 'alice', '--cancel'])).stdout, 'invite cancelled\n');
    assert.equal((await home.run(['invite', '--profile', 'alice', '--cancel'])).stdout, 'no invite was open\n');
    assert.equal((await home.run(['invite', '--profile', 'alice', '--for', 'soon'])).code, 2);
  });

  test('--accept known refuses a new key on first contact; chat peers add lets in exactly that key', async () => {
    const dave = await home.startDaemon('dave', ['--accept', 'known']);
    const refused = await home.run(['connect', '--profile', 'carol', String(dave.port)]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`refused: busy: dave accepts only peers it has pinned \\(--accept known\\); to let this key in, dave runs: chat peers add "carol" --fingerprint ${carolFingerprint}\n$`));
    const notInviting = await home.run(['invite', '--profile', 'dave']);
    assert.equal(notInviting.code, 1);
    assert.match(notInviting.stderr, /--accept known/);

    const added = await home.run(['peers', 'add', 'carol', '--fingerprint', carolFingerprint, '--profile', 'dave']);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^pinned carol \(fingerprint [0-9a-f ]+\)\n$/);
    const wrongKey = await home.run(['peers', 'add', 'carol', '--fingerprint', '0'.repeat(64), '--profile', 'dave']);
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /"carol" is pinned to another key/);
    assert.equal((await home.run(['peers', 'add', 'carol', '--fingerprint', 'nope', '--profile', 'dave'])).code, 2);

    const connected = await home.run(['connect', '--profile', 'carol', String(dave.port)]);
    assert.equal(connected.code, 0, connected.stderr);
    assert.match((await home.run(['daemon', 'status', '--profile', 'dave'])).stdout, /^accept      known$/m);
    // bob's key is not the one added: still refused.
    assert.equal((await home.run(['disconnect', '--profile', 'carol'])).code, 0);
    assert.match((await home.run(['connect', '--profile', 'bob', String(dave.port)])).stderr, /dave accepts only peers it has pinned/);
  });
});
