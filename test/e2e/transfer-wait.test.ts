// `chat transfer` need not wait for the end: --no-wait answers once the daemon has recorded the
// transfer, --timeout once it has not finished by then, `chat disconnect` under it ends the wait,
// and Ctrl-C stops it (exit 4, 4, 4 and 130), each saying that the daemon goes on, which it does. Transfers that continue from an
// offset, and transfers given up, are history events on both sides, in `chat tail` and `--json`.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChatHome, collect, historyOf } from '../helpers/chat.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';
import { sha256Of, writeRandomFile } from '../helpers/random-data.ts';
import { waitFor } from '../helpers/wait.ts';

const MiB = 1024 * 1024;

describe('chat transfer --no-wait, --timeout, Ctrl-C; transfer events', { timeout: 120_000 }, () => {
  let home: ChatHome;
  let proxy: FaultProxy;
  let bobDownloads: string;

  before(async () => {
    home = await ChatHome.create();
    await home.startDaemon('alice');
    const bob = await home.startDaemon('bob');
    bobDownloads = bob.downloads;
    proxy = await FaultProxy.start(bob.port);
    const connected = await home.run(['connect', '--profile', 'alice', String(proxy.port)]);
    assert.equal(connected.code, 0, connected.stderr);
  });
  after(async () => {
    await proxy.close();
    await home.cleanup();
  });

  const unfinishedCount = async () => JSON.parse((await home.run(['transfers', '--profile', 'alice', '--json'])).stdout).transfers.length as number;

  /** A file of `size` random bytes in the test directory; its SHA-256. */
  async function file(name: string, size: number): Promise<{ path: string; sha256: string }> {
    const filePath = path.join(home.dir, name);
    return { path: filePath, sha256: await writeRandomFile(filePath, size) };
  }

  /** `chat transfer` of a new 8 MiB file, waiting while the link holds everything; once the daemon has recorded it. */
  async function waitingTransfer(name: string) {
    const source = await file(name, 8 * MiB);
    await waitFor(async () => (await unfinishedCount()) === 0, 'no transfer left from before');
    proxy.silence();
    const child = home.spawn(['transfer', '--profile', 'alice', source.path]);
    const done = collect(child, undefined, 30_000);
    await waitFor(async () => (await unfinishedCount()) === 1, 'the daemon to record it');
    return { source, child, done };
  }

  test('--no-wait exits 4 once the transfer is recorded, and the daemon finishes it', async () => {
    const source = await file('nowait.bin', 8 * MiB);
    proxy.silence();
    const started = performance.now();
    const result = await home.run(['transfer', '--profile', 'alice', '--no-wait', source.path]);
    assert.equal(result.code, 4, result.stderr);
    assert.ok(performance.now() - started < 10_000);
    assert.match(result.stdout, /^nowait\.bin is not complete yet \(0 B of 8\.0 MiB sent\): the daemon goes on until bob has it \(see chat transfers\); do not send it again$/m);
    assert.equal(await unfinishedCount(), 1);
    proxy.heal();
    await waitFor(() => existsSync(path.join(bobDownloads, 'nowait.bin')), 'the daemon to finish it');
    assert.equal(await sha256Of(path.join(bobDownloads, 'nowait.bin')), source.sha256);
    await waitFor(async () => (await unfinishedCount()) === 0, 'the record to go');
  });

  test('--timeout exits 4 with the line once it has not finished by then; --json gives the unfinished result', async () => {
    const source = await file('timeout.bin', 8 * MiB);
    proxy.silence();
    const started = performance.now();
    const result = await home.run(['transfer', '--profile', 'alice', '--timeout', '0.5', '--json', source.path]);
    const took = performance.now() - started;
    assert.equal(result.code, 4, result.stderr);
    assert.ok(took >= 500 && took < 10_000, `answered after ${took.toFixed(0)} ms`);
    const answer = JSON.parse(result.stdout);
    assert.equal(answer.state, 'unfinished');
    assert.equal(answer.waiting, 'time');
    assert.equal(answer.reason, 'not finished within 0.5 s');
    assert.equal(answer.size, 8 * MiB);
    const human = await home.run(['transfer', '--profile', 'alice', '--timeout', 'soon', source.path]);
    assert.equal(human.code, 2, 'a timeout that is not seconds is a usage error');
    proxy.heal();
    await waitFor(() => existsSync(path.join(bobDownloads, 'timeout.bin')), 'the daemon to finish it');
    assert.equal(await sha256Of(path.join(bobDownloads, 'timeout.bin')), source.sha256);
  });

  test('Ctrl-C stops the wait with one line and exit 130; the daemon finishes the transfer', async () => {
    const { source, child, done } = await waitingTransfer('interrupted.bin');
    child.kill('SIGINT');
    const result = await done;
    assert.equal(result.code, 130, `${result.stdout}${result.stderr}`);
    assert.equal(result.stderr, 'chat: stopped waiting: the daemon goes on with the transfer of interrupted.bin (see chat transfers; chat transfers cancel ID gives it up)\n');
    proxy.heal();
    await waitFor(() => existsSync(path.join(bobDownloads, 'interrupted.bin')), 'the daemon to finish it');
    assert.equal(await sha256Of(path.join(bobDownloads, 'interrupted.bin')), source.sha256);
  });

  test('chat disconnect under a transfer: exit 4, it continues on the next connection', async () => {
    const { source, done } = await waitingTransfer('disconnected.bin');
    const disconnected = await home.run(['disconnect', '--profile', 'alice']);
    assert.equal(disconnected.code, 0, disconnected.stderr);
    const result = await done;
    assert.equal(result.code, 4, `${result.stdout}${result.stderr}`);
    assert.match(result.stdout, /^disconnected\.bin is not complete: peer connection closed: disconnected by user; it continues when bob is connected again \(see chat transfers\)$/m);
    proxy.heal();
    const connected = await home.run(['connect', '--profile', 'alice', String(proxy.port)]);
    assert.equal(connected.code, 0, connected.stderr);
    await waitFor(() => existsSync(path.join(bobDownloads, 'disconnected.bin')), 'the transfer to continue on the new connection');
    assert.equal(await sha256Of(path.join(bobDownloads, 'disconnected.bin')), source.sha256);
  });

  test('a transfer that continues after a cut records "resumed" with its offset on both sides; one given up records "cancelled"', async () => {
    const resumed = await file('resumed.bin', 64 * MiB);
    await waitFor(async () => (await unfinishedCount()) === 0, 'no transfer left from before');
    proxy.cutAfter(16 * MiB);
    const sent = await home.run(['transfer', '--profile', 'alice', resumed.path], { timeoutMs: 60_000 });
    assert.equal(sent.code, 0, sent.stderr);
    const [aliceEvents, bobEvents] = await Promise.all([historyOf(home, 'alice'), historyOf(home, 'bob')]);
    const out = aliceEvents.find((event) => event.type === 'transfer' && event.state === 'resumed' && event.name === 'resumed.bin');
    const into = bobEvents.find((event) => event.type === 'transfer' && event.state === 'resumed' && event.name === 'resumed.bin');
    assert.ok(out && into, 'both record it');
    assert.equal(out.id, into.id);
    assert.equal(out.direction, 'out');
    assert.equal(into.direction, 'in');
    assert.equal(out.offset, into.offset);
    assert.ok((into.offset as number) > 0 && (into.offset as number) < 64 * MiB, `offset ${into.offset}`);
    const bobTail = await home.run(['tail', '--profile', 'bob', '--no-follow', '-n', '50']);
    assert.match(bobTail.stdout, new RegExp(`^\\S+ \\S+  \\* transfer of resumed\\.bin from alice resumed at \\d+\\.\\d (KiB|MiB) of 64\\.0 MiB \\(transfer ${into.id}\\)$`, 'm'));

    // Given up while the link holds it: alice records it, and bob once alice's cancel reaches him.
    const cancelled = await file('cancelled.bin', 64 * MiB);
    proxy.silenceAfter(8 * MiB);
    const started = await home.run(['transfer', '--profile', 'alice', '--no-wait', '--json', cancelled.path]);
    assert.equal(started.code, 4, started.stderr);
    const { id } = JSON.parse(started.stdout);
    await waitFor(() => proxy.bytes.up + proxy.bytes.down > 8 * MiB, 'the link to hold it mid-transfer');
    const cancel = await home.run(['transfers', 'cancel', '--profile', 'alice', id]);
    assert.equal(cancel.code, 0, cancel.stderr);
    proxy.heal();
    await waitFor(async () => (await historyOf(home, 'bob')).some((event) => event.type === 'transfer' && event.state === 'cancelled' && event.id === id), 'bob to record the cancel');
    const aliceCancel = (await historyOf(home, 'alice')).find((event) => event.type === 'transfer' && event.state === 'cancelled' && event.id === id);
    assert.equal(aliceCancel?.reason, 'cancelled by alice (chat transfers cancel)');
    assert.equal(aliceCancel?.direction, 'out');
    const cancelEvents = (await historyOf(home, 'alice')).filter((event) => event.type === 'transfer' && event.id === id);
    assert.deepEqual(cancelEvents.map((event) => event.state), ['cancelled'], 'cancelled here: not also failed');
    const aliceTail = await home.run(['tail', '--profile', 'alice', '--no-follow', '-n', '5']);
    assert.match(aliceTail.stdout, new RegExp(`\\* transfer of cancelled\\.bin to bob cancelled: cancelled by alice \\(chat transfers cancel\\) \\(transfer ${id}\\)$`, 'm'));
  });

  test('a transfer the daemon cannot record is refused with one line and not sent: --no-wait never promises what a restart forgets', async () => {
    await waitFor(async () => (await unfinishedCount()) === 0, 'no transfer left from before');
    // transfers.json cannot be replaced (a directory with an entry stands in its place): the record cannot be written.
    const records = path.join(home.profileDir('alice'), 'transfers.json');
    rmSync(records, { force: true });
    mkdirSync(records);
    writeFileSync(path.join(records, 'keep'), '');
    try {
      const source = await file('unrecorded.bin', 1 * MiB);
      const result = await home.run(['transfer', '--profile', 'alice', '--no-wait', source.path]);
      assert.equal(result.code, 1, result.stdout);
      const line = `chat: transfer of ${source.path} failed: cannot record the transfer in ${records}: `;
      assert.ok(result.stderr.startsWith(line), result.stderr);
      assert.ok(result.stderr.endsWith('; it was not sent (free space in the profile, then send it again)\n'), result.stderr);
      assert.equal(result.stderr.split('\n').length, 2, 'one line');
      assert.equal(await unfinishedCount(), 0, 'nothing is left to send');
      assert.deepEqual(readdirSync(home.profileDir('alice')).filter((name) => name.startsWith('transfers.json.')), [], 'no temporary file is left');
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(existsSync(path.join(bobDownloads, 'unrecorded.bin')), false, 'it was not sent');
    } finally {
      rmSync(records, { recursive: true, force: true });
    }
  });

  test('the receiver cancels: in progress, the sender is told and gives it up; while the sender is away, its next offer is declined; no partial file stays', async () => {
    await waitFor(async () => (await unfinishedCount()) === 0, 'no transfer left from before');
    const bobTransfers = async () => JSON.parse((await home.run(['transfers', '--profile', 'bob', '--json'])).stdout).transfers as Array<{ id: string; direction: string }>;
    const partials = () => readdirSync(bobDownloads).filter((name) => name.startsWith('.chat-'));

    // In progress: bob holds part of it, alice is connected.
    const first = await file('cancel-in.bin', 64 * MiB);
    proxy.silenceAfter(8 * MiB);
    const started = await home.run(['transfer', '--profile', 'alice', '--no-wait', '--json', first.path]);
    assert.equal(started.code, 4, started.stderr);
    const { id } = JSON.parse(started.stdout);
    await waitFor(async () => (await bobTransfers()).some((transfer) => transfer.id === id && transfer.direction === 'in'), 'bob to list it');
    // Cancelled while the link holds the rest: bob's answer reaches alice once it heals.
    const cancel = await home.run(['transfers', 'cancel', '--profile', 'bob', id]);
    assert.equal(cancel.code, 0, cancel.stderr);
    proxy.heal();
    await waitFor(async () => (await unfinishedCount()) === 0, 'alice to give it up');
    const transferEvents = async (profile: string, transfer: string) => (await historyOf(home, profile))
      .filter((event) => event.type === 'transfer' && event.id === transfer).map((event) => [event.state, event.direction, event.reason]);
    assert.deepEqual(await transferEvents('bob', id), [['cancelled', 'in', 'cancelled by bob (chat transfers cancel)']]);
    assert.deepEqual(await transferEvents('alice', id), [['failed', 'out', 'peer could not store the file: cancelled by bob (chat transfers cancel)']]);
    const tail = await home.run(['tail', '--profile', 'alice', '--no-follow', '-n', '1']);
    assert.equal(tail.stdout.replace(/^\S+ \S+ /, ''), ` * transfer of cancel-in.bin to bob failed: peer could not store the file: cancelled by bob (chat transfers cancel) (transfer ${id})\n`);
    assert.deepEqual(await bobTransfers(), []);
    await waitFor(() => partials().length === 0, "bob's partial file to go");
    assert.equal(existsSync(path.join(bobDownloads, 'cancel-in.bin')), false);

    // The sender away (chat disconnect): bob removes what he holds and marks it, and alice's next
    // offer, on the next connection, is declined for good.
    const second = await file('cancel-away.bin', 64 * MiB);
    proxy.silenceAfter(8 * MiB);
    const away = JSON.parse((await home.run(['transfer', '--profile', 'alice', '--no-wait', '--json', second.path])).stdout).id as string;
    await waitFor(async () => (await bobTransfers()).some((transfer) => transfer.id === away), 'bob to list it');
    assert.equal((await home.run(['disconnect', '--profile', 'alice'])).code, 0);
    proxy.heal();
    await waitFor(async () => JSON.parse((await home.run(['daemon', 'status', '--profile', 'bob', '--json'])).stdout).connection === 'disconnected', 'bob to see alice go');
    assert.equal((await home.run(['transfers', 'cancel', '--profile', 'bob', away])).code, 0);
    assert.deepEqual(partials().filter((name) => name.endsWith('.part')), [], 'the partial file goes at once');
    assert.equal(await unfinishedCount(), 1, 'alice does not know yet');
    const reconnected = await home.run(['connect', '--profile', 'alice', String(proxy.port)]);
    assert.equal(reconnected.code, 0, reconnected.stderr);
    await waitFor(async () => (await unfinishedCount()) === 0, 'alice to give it up once bob declines it');
    assert.deepEqual(await transferEvents('alice', away), [['failed', 'out', 'peer declined the file: the receiver cancelled this transfer (chat transfers cancel)']]);
    // Only its record stays, marked, so that an offer repeated (its decline lost) is declined too;
    // it goes with the stale partial files.
    assert.deepEqual(partials(), [`.chat-${away}.state`]);
    assert.equal(existsSync(path.join(bobDownloads, 'cancel-away.bin')), false);
  });
});
