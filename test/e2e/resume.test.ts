// Transfers continue where they stopped: a link cut mid-transfer and a receiver killed with -9 and
// started again both end with the whole file, verified, and less than 16 MiB sent twice (counted by
// the fault proxy); a source file changed meanwhile fails with the reason on both sides; a partial
// file nobody continues is removed after the limit.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { ControlClient } from '../../src/control/client.ts';
import { resolveProfilePaths } from '../../src/control/paths.ts';
import { ChatHome, collect, historyOf, isAlive } from '../helpers/chat.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';
import { sha256Of, writeRandomFile } from '../helpers/random-data.ts';
import { waitFor } from '../helpers/wait.ts';

const MiB = 1024 * 1024;
const FILE_BYTES = 64 * MiB;
/** What may cross twice: what was in flight (socket buffers, the proxy) when the link went. */
const RESENT_BOUND = 16 * MiB;

const partials = async (dir: string) => (await readdir(dir)).filter((name) => /^\.chat-.*\.(part|state)$/.test(name));

describe('transfers continue where they stopped', { timeout: 240_000 }, () => {
  let home: ChatHome;
  let source: string;
  let sourceSha256: string;
  let proxies: FaultProxy[] = [];

  before(async () => {
    home = await ChatHome.create();
    source = path.join(home.dir, 'big.bin');
    sourceSha256 = await writeRandomFile(source, FILE_BYTES);
  });
  afterEach(async () => {
    for (const proxy of proxies) await proxy.close();
    proxies = [];
  });
  after(async () => {
    await home.cleanup();
  });

  /** alice dials bob through a fault proxy; each test its own pair of profiles. */
  async function pair(tag: string, bobEnv?: NodeJS.ProcessEnv) {
    const alice = await home.startDaemon(`alice-${tag}`, ['--name', 'alice']);
    const bob = await home.startDaemon(`bob-${tag}`, ['--name', 'bob'], bobEnv);
    const proxy = await FaultProxy.start(bob.port);
    proxies.push(proxy);
    const connected = await home.run(['connect', '--profile', `alice-${tag}`, String(proxy.port)]);
    assert.equal(connected.code, 0, connected.stderr);
    return { alice, bob, proxy, aliceProfile: `alice-${tag}`, bobProfile: `bob-${tag}` };
  }

  test('a link cut at half the file: the transfer continues by itself, whole and verified, little sent twice', async (t) => {
    const { bob, proxy, aliceProfile } = await pair('cut');
    const transfer = collect(home.spawn(['transfer', '--profile', aliceProfile, source, '--json']), undefined, 180_000);
    await waitFor(() => proxy.bytes.up >= FILE_BYTES / 2, 'half the file to cross');
    proxy.cut('reset');
    const result = await transfer;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).sha256, sourceSha256);
    assert.equal(await sha256Of(path.join(bob.downloads, 'big.bin')), sourceSha256);
    assert.deepEqual(await partials(bob.downloads), [], 'nothing partial left');
    assert.equal(proxy.connections, 2, 'one redial');
    const resent = proxy.bytes.up - FILE_BYTES;
    t.diagnostic(`sent twice (with TLS and frame overhead): ${(resent / MiB).toFixed(2)} MiB`);
    assert.ok(resent < RESENT_BOUND, `bytes sent twice (and overhead): ${(resent / MiB).toFixed(1)} MiB`);
  });

  test('a transfer call with progress hears that it waits for the peer while the link is down', async () => {
    const { bob, proxy, aliceProfile } = await pair('waiting');
    const client = await ControlClient.connect(resolveProfilePaths({ home: home.dir, profile: aliceProfile }));
    try {
      const reports: Array<{ bytes: number; waiting?: string }> = [];
      let cut = false;
      client.onNotification('transfer.progress', (report) => {
        reports.push(report);
        if (!cut && report.bytes >= FILE_BYTES / 4) {
          cut = true;
          proxy.cut('reset');
        }
      });
      const result = await client.request('transfer', { path: source, progress: true }, 0);
      assert.equal(result.state, 'complete');
      assert.equal(result.state === 'complete' && result.sha256, sourceSha256);
      const waitingAt = reports.findIndex((report) => report.waiting !== undefined);
      assert.ok(waitingAt > 0, 'one report says it waits');
      assert.equal(reports[waitingAt]!.waiting, 'waiting for bob… (reconnecting)');
      assert.ok(reports.slice(waitingAt + 1).some((report) => report.waiting === undefined), 'then it goes on');
      assert.equal(reports.filter((report) => report.waiting !== undefined).length, 1);
      assert.equal(await sha256Of(path.join(bob.downloads, 'big.bin')), sourceSha256);
    } finally {
      client.close();
    }
  });

  test('the receiver killed with -9 at half the file and started again: the transfer completes by itself', async (t) => {
    const { bob, proxy, aliceProfile, bobProfile } = await pair('kill');
    const transfer = collect(home.spawn(['transfer', '--profile', aliceProfile, source, '--json']), undefined, 180_000);
    await waitFor(() => proxy.bytes.up >= FILE_BYTES / 2, 'half the file to cross');
    process.kill(bob.pid, 'SIGKILL');
    await waitFor(() => !isAlive(bob.pid), 'bob to die');
    // On the same port, so alice's redials through the proxy reach it; without its own redial,
    // so every byte crosses the proxy and is counted.
    const again = await home.startDaemon(bobProfile, ['--name', 'bob', '--port', String(bob.port), '--no-reconnect']);
    const result = await transfer;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).sha256, sourceSha256);
    assert.equal(await sha256Of(path.join(again.downloads, 'big.bin')), sourceSha256);
    assert.deepEqual(await partials(again.downloads), []);
    const resent = proxy.bytes.up - FILE_BYTES;
    t.diagnostic(`sent twice (with TLS and frame overhead): ${(resent / MiB).toFixed(2)} MiB`);
    assert.ok(resent < RESENT_BOUND, `bytes sent twice (and overhead): ${(resent / MiB).toFixed(1)} MiB`);
    assert.match(await readFile(path.join(home.profileDir(bobProfile), 'chatd.log'), 'utf8'), /resuming transfer [0-9a-f-]{36} of "big\.bin" at byte [1-9]\d* of 67108864/);
  });

  test('the receiver killed and started again redials the sender itself: the transfer completes on whichever link survives', async () => {
    const { alice, bob, proxy, aliceProfile, bobProfile } = await pair('redial');
    const transfer = collect(home.spawn(['transfer', '--profile', aliceProfile, source, '--json']), undefined, 180_000);
    await waitFor(() => proxy.bytes.up >= FILE_BYTES / 2, 'half the file to cross');
    process.kill(bob.pid, 'SIGKILL');
    await waitFor(() => !isAlive(bob.pid), 'bob to die');
    // bob redials alice directly (its last peer), while alice redials bob through the proxy.
    const again = await home.startDaemon(bobProfile, ['--name', 'bob', '--port', String(bob.port)]);
    const result = await transfer;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await sha256Of(path.join(again.downloads, 'big.bin')), sourceSha256);
    assert.deepEqual(await partials(again.downloads), []);
    assert.ok(isAlive(alice.pid) && isAlive(again.pid));
  });

  test('the sender killed with -9 at half the file and started again: it offers the transfer again by itself', async (t) => {
    const { alice, bob, proxy, aliceProfile } = await pair('sender');

    const transfer = collect(home.spawn(['transfer', '--profile', aliceProfile, source]), undefined, 60_000);
    await waitFor(() => proxy.bytes.up >= FILE_BYTES / 2, 'half the file to cross');
    process.kill(alice.pid, 'SIGKILL');
    assert.notEqual((await transfer).code, 0, 'the CLI lost its daemon');
    const upBefore = proxy.bytes.up;
    // alice redials bob (its last peer, through the proxy) and finds its transfer in transfers.json.
    await home.startDaemon(aliceProfile, ['--name', 'alice']);
    await waitFor(() => existsSync(path.join(bob.downloads, 'big.bin')), 'the file to arrive', 60_000);
    assert.equal(await sha256Of(path.join(bob.downloads, 'big.bin')), sourceSha256);
    await waitFor(async () => (await partials(bob.downloads)).length === 0, 'no partial file left', 10_000);
    const resent = proxy.bytes.up - FILE_BYTES;
    t.diagnostic(`sent twice (with TLS and frame overhead): ${(resent / MiB).toFixed(2)} MiB; after the restart ${((proxy.bytes.up - upBefore) / MiB).toFixed(2)} MiB`);
    assert.ok(resent < RESENT_BOUND, `bytes sent twice (and overhead): ${(resent / MiB).toFixed(1)} MiB`);
    await waitFor(async () => JSON.parse((await home.run(['transfers', '--profile', aliceProfile, '--json'])).stdout).transfers.length === 0, 'alice to forget it', 10_000);
    const events = await historyOf(home, aliceProfile, 100);
    assert.ok(events.some((event) => event.type === 'file' && event.direction === 'out' && event.name === 'big.bin' && event.sha256 === sourceSha256), 'alice records the file it finished after its restart');
    assert.ok(isAlive(bob.pid));
  });

  test('a source file changed while the link was down fails the transfer with the reason on both sides', async () => {
    const small = path.join(home.dir, 'changing.bin');
    await writeRandomFile(small, 16 * MiB);
    const { bob, proxy, aliceProfile, bobProfile } = await pair('changed');
    proxy.silenceAfter(4 * MiB);
    const transfer = collect(home.spawn(['transfer', '--profile', aliceProfile, small]), undefined, 120_000);
    await waitFor(() => proxy.bytes.up + proxy.bytes.down >= 4 * MiB, 'part of the file to cross');
    await appendFile(small, 'one more line\n');
    proxy.cut('reset');
    proxy.heal();
    const result = await transfer;
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /^chat: transfer of .*changing\.bin failed: .*changing\.bin changed since the transfer started \(size 16777216 → 16777230 bytes\): send it again$/m);
    const bobLog = path.join(home.profileDir(bobProfile), 'chatd.log');
    await waitFor(async () => /peer cancelled transfer .*changed since the transfer started/.test(await readFile(bobLog, 'utf8')), "bob's log to say why");
    await waitFor(async () => (await partials(bob.downloads)).length === 0, 'bob to drop the partial file', 10_000);
    assert.equal(existsSync(path.join(bob.downloads, 'changing.bin')), false);
  });

  test('chat transfers lists an unfinished transfer on both sides; chat transfers cancel ends it on both', async () => {
    const { bob, proxy, aliceProfile, bobProfile } = await pair('list');
    proxy.silenceAfter(8 * MiB);
    const transfer = collect(home.spawn(['transfer', '--profile', aliceProfile, source]), undefined, 60_000);
    await waitFor(() => proxy.bytes.up + proxy.bytes.down >= 8 * MiB, 'part of the file to cross');
    const partFile = async () => (await partials(bob.downloads)).find((name) => name.endsWith('.part'));
    await waitFor(async () => { const part = await partFile(); return part !== undefined && (await readFile(path.join(bob.downloads, part))).length > MiB; }, 'bob to hold part of it');

    const listed = async (profile: string) => {
      const result = await home.run(['transfers', '--profile', profile, '--json']);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout).transfers as Array<Record<string, unknown>>;
    };
    const [out] = await listed(aliceProfile);
    assert.ok(out, 'alice lists it');
    assert.deepEqual({ direction: out.direction, name: out.name, size: out.size, peer: out.peer }, { direction: 'out', name: 'big.bin', size: FILE_BYTES, peer: 'bob' });
    assert.ok(Number(out.bytes) > 0, `bytes sent: ${out.bytes}`);
    const [incoming] = await listed(bobProfile);
    assert.ok(incoming, 'bob lists it');
    assert.deepEqual({ id: incoming.id, direction: incoming.direction, name: incoming.name, peer: incoming.peer }, { id: out.id, direction: 'in', name: 'big.bin', peer: 'alice' });
    assert.ok(Number(incoming.bytes) > MiB && Number(incoming.bytes) < FILE_BYTES, `bytes held: ${incoming.bytes}`);
    const human = await home.run(['transfers', '--profile', bobProfile]);
    assert.match(human.stdout, /^in {2}big\.bin {2}\d+\.\d MiB of 64\.0 MiB {2}from alice$/m);

    const unknown = await home.run(['transfers', 'cancel', '--profile', aliceProfile, '00000000-0000-4000-8000-000000000000']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^chat: no unfinished transfer 00000000-0000-4000-8000-000000000000 \(see chat transfers\)$/m);

    const cancelled = await home.run(['transfers', 'cancel', '--profile', aliceProfile, String(out.id)]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /^cancelled outgoing transfer of big\.bin/);
    proxy.heal();
    const ended = await transfer;
    assert.equal(ended.code, 1);
    assert.match(ended.stderr, /^chat: transfer of .*big\.bin failed: cancelled by alice \(chat transfers cancel\)$/m);
    await waitFor(async () => (await partials(bob.downloads)).length === 0, 'bob to drop the partial file', 10_000);
    assert.deepEqual(await listed(aliceProfile), []);
    assert.deepEqual(await listed(bobProfile), []);
  });

  test('a partial file nobody continues is removed after the limit (CHATD_TEST_PARTIAL_MAX_AGE_MS)', async () => {
    const { alice, bob, proxy, aliceProfile } = await pair('orphan', { CHATD_TEST_PARTIAL_MAX_AGE_MS: '2000' });
    proxy.silenceAfter(4 * MiB);
    const transfer = collect(home.spawn(['transfer', '--profile', aliceProfile, source]), undefined, 60_000);
    await waitFor(async () => (await partials(bob.downloads)).length === 2, 'the partial file and its record');
    await waitFor(() => proxy.bytes.up + proxy.bytes.down >= 4 * MiB, 'part of the file to cross');
    // The sender is gone for good: nobody offers the transfer again.
    process.kill(alice.pid, 'SIGKILL');
    proxy.cut('reset');
    await transfer;
    await waitFor(async () => (await partials(bob.downloads)).length === 0, 'the stale partial file to be removed', 15_000);
    // The log line follows the last unlink: wait for it rather than read the log at once.
    const log = path.join(home.profileDir(`bob-orphan`), 'chatd.log');
    await waitFor(async () => /removed \d+ stale partial file\(s\)/.test(await readFile(log, 'utf8')), 'the removal to be logged', 5_000);
    assert.deepEqual((await readFile(log, 'utf8')).match(/removed \d+ stale partial file\(s\)/g), ['removed 2 stale partial file(s)']);
  });
});
