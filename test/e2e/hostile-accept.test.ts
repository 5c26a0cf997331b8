// A hostile receiver's answers to an offer (an offset past the end, a negative one, a second
// ACCEPT) cost it its connection with a logged reason on every path an offer takes: the first
// offer, the offer again after a reconnection, after a wait for room and after a restart. The
// transfer stays recorded through all of it and completes once the receiver answers honestly.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChatHome, historyOf, isAlive } from '../helpers/chat.ts';
import type { FramePeer } from '../helpers/frame-peer.ts';
import { writeRandomFile } from '../helpers/random-data.ts';
import { connectTlsPeer, identityForSuite } from '../helpers/tls-peer.ts';
import { waitFor } from '../helpers/wait.ts';

const FILE_BYTES = 3 * 1024 * 1024;

describe('a hostile receiver\'s answers to offers, on every path an offer takes', { timeout: 90_000 }, () => {
  let home: ChatHome;
  const mallory = identityForSuite();
  const peers: FramePeer[] = [];

  before(async () => {
    home = await ChatHome.create({ env: { CHATD_TEST_TRANSFER_RETRY_MS: '100' } });
  });
  after(async () => {
    for (const peer of peers) peer.close();
    await home.cleanup();
  });

  /** mallory dials alice and completes the handshake. */
  async function dial(port: number): Promise<FramePeer> {
    const peer = await connectTlsPeer(port, mallory);
    peers.push(peer);
    peer.hello();
    await peer.waitFor('hello');
    return peer;
  }

  const log = () => readFile(path.join(home.profileDir('alice'), 'chatd.log'), 'utf8');
  const unfinished = async () => JSON.parse((await home.run(['transfers', '--profile', 'alice', '--json'])).stdout).transfers as Array<{ id: string }>;

  async function droppedFor(peer: FramePeer, reason: RegExp): Promise<void> {
    await peer.waitClosed();
    await waitFor(async () => reason.test(await log()), `alice's log to say ${reason}`, 10_000);
  }

  test('each bad answer drops the connection, the transfer stays recorded, and an honest answer completes it', async () => {
    let alice = await home.startDaemon('alice', ['--no-reconnect']);
    const source = path.join(home.dir, 'offered.bin');
    const sha256 = await writeRandomFile(source, FILE_BYTES);

    // The first offer: an ACCEPT offset past the file's end.
    const first = await dial(alice.port);
    const started = await home.run(['transfer', '--profile', 'alice', '--no-wait', '--json', source]);
    assert.equal(started.code, 4, started.stderr);
    const { id } = JSON.parse(started.stdout) as { id: string };
    await first.waitFor('fileOffer', (offer) => offer.id === id && offer.size === FILE_BYTES);
    first.send({ kind: 'fileAccept', id, offset: FILE_BYTES + 1 });
    await droppedFor(first, new RegExp(`accept offset ${FILE_BYTES + 1} beyond the file's end`));
    assert.deepEqual((await unfinished()).map((transfer) => transfer.id), [id]);

    // Offered again on the next connection: a second ACCEPT.
    const second = await dial(alice.port);
    await second.waitFor('fileOffer', (offer) => offer.id === id);
    second.send({ kind: 'fileAccept', id, offset: 0 });
    second.send({ kind: 'fileAccept', id, offset: 1024 });
    await droppedFor(second, /second answer to the offer of transfer/);
    assert.deepEqual((await unfinished()).map((transfer) => transfer.id), [id]);

    // "No room" first, so it is offered again on the same connection: a negative offset.
    const third = await dial(alice.port);
    await third.waitFor('fileOffer', (offer) => offer.id === id);
    third.send({ kind: 'fileDecline', id, reason: 'no room here', later: true });
    const offers = () => third.frames.filter((frame) => frame.kind === 'fileOffer' && frame.id === id).length;
    await waitFor(() => offers() >= 2, 'the offer again after "later"', 10_000);
    assert.ok(!third.frames.some((frame) => frame.kind === 'fileCancel'), 'a transfer waiting for room is not cancelled');
    third.send({ kind: 'fileAccept', id, offset: -1 });
    await droppedFor(third, /field "offset" must be between 0 and/);

    // Offered again by a restarted daemon, from transfers.json: an offset past the end again.
    const stopped = await home.run(['daemon', 'stop', '--profile', 'alice']);
    assert.equal(stopped.code, 0, stopped.stderr);
    alice = await home.startDaemon('alice', ['--no-reconnect']);
    const fourth = await dial(alice.port);
    await fourth.waitFor('fileOffer', (offer) => offer.id === id);
    fourth.send({ kind: 'fileAccept', id, offset: FILE_BYTES * 2 });
    await droppedFor(fourth, new RegExp(`accept offset ${FILE_BYTES * 2} beyond the file's end`));
    assert.ok(isAlive(alice.pid), 'alice stays up');

    // Credit (FILE_CREDIT) that breaks the rules, each on a connection of its own: before the
    // ACCEPT, past the file's end, and going back.
    const creditAttacks: Array<{ answer: (peer: FramePeer) => void; reason: RegExp }> = [
      { answer: (peer) => peer.send({ kind: 'fileCredit', id, until: 1024 }), reason: /credit for transfer \S+ before it was accepted/ },
      {
        answer: (peer) => { peer.send({ kind: 'fileAccept', id, offset: 0 }); peer.send({ kind: 'fileCredit', id, until: FILE_BYTES + 1 }); },
        reason: /credit for transfer \S+ beyond the file's end/,
      },
      {
        answer: (peer) => { peer.send({ kind: 'fileAccept', id, offset: 0 }); peer.send({ kind: 'fileCredit', id, until: 2048 }); peer.send({ kind: 'fileCredit', id, until: 1024 }); },
        reason: /credit for transfer \S+ went back from 2048 to 1024/,
      },
    ];
    for (const { answer, reason } of creditAttacks) {
      const peer = await dial(alice.port);
      await peer.waitFor('fileOffer', (offer) => offer.id === id);
      answer(peer);
      await droppedFor(peer, reason);
      assert.deepEqual((await unfinished()).map((transfer) => transfer.id), [id]);
    }
    assert.ok(isAlive(alice.pid), 'alice stays up');

    // An honest receiver at last: it gets the whole file, and the transfer is done on alice's side.
    const honest = await dial(alice.port);
    await honest.waitFor('fileOffer', (offer) => offer.id === id);
    honest.send({ kind: 'fileAccept', id, offset: 0 });
    honest.send({ kind: 'fileCredit', id, until: FILE_BYTES });
    const end = await honest.waitFor('fileEnd', (frame) => frame.id === id);
    const hash = createHash('sha256');
    for (const frame of honest.frames) if (frame.kind === 'fileChunk' && frame.id === id) hash.update(frame.data);
    assert.equal(hash.digest('hex'), sha256);
    assert.equal(end.sha256, sha256);
    honest.send({ kind: 'fileResult', id, ok: true, sha256, reason: '' });
    await waitFor(async () => (await unfinished()).length === 0, 'alice to forget the transfer', 10_000);
    assert.ok((await historyOf(home, 'alice')).some((event) => event.type === 'file' && event.id === id && event.sha256 === sha256));
  });
});
