// What TLS and the receiving rules protect against, shown with real daemons: an eavesdropper on
// the path, a flood of half-open connections, dead peers, hostile file names, oversized offers,
// and directories that belong to someone else.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { encodeFrame } from '../../src/wire/frames.ts';
import { ChatHome, historyOf, isAlive } from '../helpers/chat.ts';
import { errorLine } from '../helpers/error-line.ts';
import { residentBytes } from '../helpers/measure.ts';
import { connectTlsPeer, createTestIdentity } from '../helpers/tls-peer.ts';

const MiB = 1024 * 1024;

/** One chunk the proxy passed on: which way, and when. */
interface RelayedChunk {
  toTarget: boolean;
  at: number;
  bytes: number;
}

/** A TCP relay that keeps every byte it passes, in both directions, and when it passed them. */
async function startRecordingProxy(targetPort: number): Promise<{ port: number; recorded: () => Buffer; relayed: RelayedChunk[]; close: () => void }> {
  const chunks: Buffer[] = [];
  const relayed: RelayedChunk[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(from);
      from.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        relayed.push({ toTarget: from === client, at: Date.now(), bytes: chunk.length });
        to.write(chunk);
      });
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
      from.on('close', () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    recorded: () => Buffer.concat(chunks),
    relayed,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** --ping-interval of the keepalive test's daemons; chatd drops a peer after 4 silent intervals. */
const QUICK_PING_S = 0.2;
const QUICK_SILENCE_MS = 4 * QUICK_PING_S * 1000;

/** The handshake timeout of the flooded daemon (the real one is HANDSHAKE_TIMEOUT_MS, 10 s). */
const HANDSHAKE_MS = 3_000;

describe('security of the peer link', { timeout: 240_000 }, () => {
  const home = ChatHome.forSuite();

  test('a recording proxy between the daemons sees no message text and no file bytes', async () => {
    await home.startDaemon('alice');
    const bob = await home.startDaemon('bob');
    const proxy = await startRecordingProxy(bob.port);
    try {
      const connected = await home.run(['connect', '--profile', 'alice', String(proxy.port)]);
      assert.equal(connected.code, 0, connected.stderr);
      const secret = `the secret word is ${randomUUID()}`;
      assert.equal((await home.run(['send', '--profile', 'alice', secret])).code, 0);
      assert.equal((await home.run(['send', '--profile', 'bob', `reply: ${secret}`])).code, 0);
      // A file whose bytes are easy to spot: one marker repeated, 2 MiB.
      const marker = Buffer.from(`FILE-BYTES-${randomUUID()}-`);
      const content = Buffer.alloc(2 * MiB);
      for (let at = 0; at < content.length; at += marker.length) marker.copy(content, at);
      const file = path.join(home.dir, 'plain.txt');
      writeFileSync(file, content);
      const sent = await home.run(['transfer', '--profile', 'alice', file]);
      assert.equal(sent.code, 0, sent.stderr);

      const wire = proxy.recorded();
      assert.ok(wire.length > content.length, `the proxy carried the transfer (${wire.length} bytes)`);
      assert.equal(wire.includes(Buffer.from(secret)), false, 'message text in the clear');
      assert.equal(wire.includes(marker), false, 'file bytes in the clear');
      assert.equal(wire.includes(Buffer.from('plain.txt')), false, 'file name in the clear');
      assert.equal(wire.includes(Buffer.from('"name":"alice"')), false, 'HELLO in the clear');
      // And it did arrive, unchanged.
      const received = (await historyOf(home, 'bob')).find((event) => event.type === 'file');
      assert.equal(received?.sha256, createHash('sha256').update(content).digest('hex'));
      assert.ok((await historyOf(home, 'bob')).some((event) => event.text === secret));
    } finally {
      await home.run(['disconnect', '--profile', 'alice']);
      proxy.close();
    }
  });

  test('200 idle half-open sockets: a real peer still connects; they are closed after the handshake timeout; memory stays flat', async (t) => {
    // A shorter handshake timeout than the real 10 s (CHATD_TEST_HANDSHAKE_TIMEOUT_MS), so the
    // floods time out without the test waiting them out.
    const target = await home.startDaemon('target', [], { CHATD_TEST_HANDSHAKE_TIMEOUT_MS: String(HANDSHAKE_MS) });
    await home.startDaemon('friend');

    /** Opens `count` TCP connections that never say anything; resolves with when each closes. */
    async function flood(count: number): Promise<{ openedAt: number[]; closedAt: Array<Promise<number>> }> {
      const openedAt: number[] = [];
      const closedAt: Array<Promise<number>> = [];
      for (let i = 0; i < count; i++) {
        const socket = net.connect({ host: '127.0.0.1', port: target.port });
        socket.on('error', () => undefined);
        closedAt.push(new Promise((resolve) => socket.once('close', () => resolve(Date.now()))));
        await new Promise((resolve) => socket.once('connect', resolve));
        openedAt.push(Date.now());
      }
      return { openedAt, closedAt };
    }
    // Unref'd: 400 of these bounds, each past the handshake timeout, must not keep the file's
    // process alive (they held it ~9 s past its last test).
    const bounded = (promise: Promise<number>, ms: number) =>
      Promise.race([promise, delay(ms, Number.NaN, { ref: false })]);

    const baseline = residentBytes(target.pid);
    const first = await flood(200);
    const started = Date.now();
    const connected = await home.run(['connect', '--profile', 'friend', String(target.port)]);
    const connectedAt = Date.now();
    const connectMs = connectedAt - started;
    assert.equal(connected.code, 0, `the real peer connects during the flood: ${connected.stderr}`);
    t.diagnostic(`chat connect during the flood took ${connectMs} ms (including the CLI's own start-up)`);
    const closes = await Promise.all(first.closedAt.map((closed) => bounded(closed, HANDSHAKE_MS + 20_000)));
    assert.ok(closes.every((at) => !Number.isNaN(at)), 'every idle socket was closed');
    const lastOpened = first.openedAt.at(-1)!;
    const lastClosed = closes.at(-1)!;
    assert.ok(lastClosed - lastOpened >= HANDSHAKE_MS - 500, `the newest idle socket had its handshake time (${lastClosed - lastOpened} ms)`);
    // The friend did not wait for the flood to time out: it was connected before the newest idle
    // socket was dropped for its silence.
    assert.ok(connectedAt < lastClosed, `connected ${lastClosed - connectedAt} ms before the flood timed out`);
    const afterFirst = residentBytes(target.pid);

    const second = await flood(200);
    await Promise.all(second.closedAt.map((closed) => bounded(closed, HANDSHAKE_MS + 20_000)));
    const afterSecond = residentBytes(target.pid);
    t.diagnostic(`RSS: ${(baseline / MiB).toFixed(1)} MiB before, ${(afterFirst / MiB).toFixed(1)} after 200, ${(afterSecond / MiB).toFixed(1)} after 400`);
    assert.ok(afterSecond - afterFirst < 16 * MiB, 'a second flood does not add memory');
    assert.ok(afterFirst - baseline < 48 * MiB, 'a flood costs bounded memory');

    assert.ok(isAlive(target.pid));
    const status = JSON.parse((await home.run(['daemon', 'status', '--profile', 'target', '--json'])).stdout);
    assert.equal(status.peer?.name, 'friend', 'the real peer stayed connected through both floods');
    const log = readFileSync(path.join(home.profileDir('target'), 'chatd.log'), 'utf8');
    assert.match(log, /peer 127\.0\.0\.1:\d+: dropped unauthenticated connection to make room/);
    assert.match(log, /peer 127\.0\.0\.1:\d+: dropped before handshake: "no handshake within 3000 ms/);
    assert.equal((await home.run(['disconnect', '--profile', 'friend'])).code, 0);
  });

  test('a connected peer that stops answering is pinged, then dropped; a live one stays', async () => {
    const quick = ['--ping-interval', String(QUICK_PING_S)];
    // --accept any: "mute" below is a new key after hank, let in without an invite.
    const gina = await home.startDaemon('gina', [...quick, '--accept', 'any']);
    await home.startDaemon('hank', quick);
    // Through a relay, to see the pings (inside TLS) cross both ways while nobody says anything.
    const proxy = await startRecordingProxy(gina.port);
    try {
      assert.equal((await home.run(['connect', '--profile', 'hank', String(proxy.port)])).code, 0);
      const connectedAt = Date.now();
      // Records crossing both ways for twice the silence limit after the connection: keepalive,
      // answered, or the pair would have been dropped by then.
      const late = () => proxy.relayed.filter((chunk) => chunk.at - connectedAt >= QUICK_SILENCE_MS);
      const deadline = Date.now() + 20_000;
      while (!(late().some((chunk) => chunk.toTarget) && late().some((chunk) => !chunk.toTarget) &&
        proxy.relayed.at(-1)!.at - connectedAt >= 2 * QUICK_SILENCE_MS)) {
        assert.ok(Date.now() < deadline, `no keepalive traffic both ways for ${2 * QUICK_SILENCE_MS} ms (${late().length} late chunks)`);
        await delay(50);
      }
      for (const profile of ['gina', 'hank']) {
        const status = JSON.parse((await home.run(['daemon', 'status', '--profile', profile, '--json'])).stdout);
        assert.equal(status.connection, 'connected', `${profile}: two live daemons answer each other's pings`);
      }
      assert.equal((await home.run(['disconnect', '--profile', 'hank'])).code, 0);
    } finally {
      proxy.close();
    }

    const mute = await createTestIdentity();
    try {
      const peer = await connectTlsPeer(gina.port, mute);
      peer.hello({ name: 'mute' });
      await peer.waitFor('hello');
      await peer.waitClosed(10_000);
      assert.ok(peer.frames.some((frame) => frame.kind === 'ping' && frame.nonce > 0), 'it was pinged before being dropped');
      const bye = peer.frames.find((frame) => frame.kind === 'bye');
      assert.match(bye?.kind === 'bye' ? bye.reason : '', /ping timeout/);
      const events = await historyOf(home, 'gina');
      const gone = events.findLast((event) => event.type === 'peer' && event.state === 'disconnected');
      assert.equal(gone?.from, 'mute');
      assert.match(String(gone?.reason), /no sign of life .*ping timeout/);
      assert.match(readFileSync(path.join(home.profileDir('gina'), 'chatd.log'), 'utf8'), /peer 127\.0\.0\.1:\d+: "mute" disconnected: "no sign of life/);
    } finally {
      await mute.remove();
    }
  });

  test('hostile file names are all stored inside the downloads directory under safe names', async () => {
    const ivy = await home.startDaemon('ivy');
    const sender = await createTestIdentity();
    const names = ['../../x', '/etc/passwd', 'a\\b', 'CON', 'A'.repeat(10_000), '\u001b[31mred\u001b]0;title\u0007.txt', '..', 'con.txt'];
    try {
      const peer = await connectTlsPeer(ivy.port, sender);
      peer.hello({ name: 'sender' });
      await peer.waitFor('pong', (pong) => pong.nonce === 0);
      for (const name of names) {
        const id = randomUUID();
        const data = randomBytes(100);
        peer.send({ kind: 'fileOffer', id, name, size: data.length });
        await peer.waitFor('fileAccept', (frame) => frame.id === id);
        peer.send({ kind: 'fileChunk', id, data });
        peer.send({ kind: 'fileEnd', id, sha256: createHash('sha256').update(data).digest('hex') });
        const result = await peer.waitFor('fileResult', (frame) => frame.id === id);
        assert.equal(result.ok, true, `${JSON.stringify(name.slice(0, 40))}: ${result.reason}`);
      }
      peer.close();
    } finally {
      await sender.remove();
    }
    const downloads = ivy.downloads;
    const stored = readdirSync(downloads);
    assert.equal(stored.length, names.length, `one file per offer: ${JSON.stringify(stored)}`);
    for (const name of stored) {
      assert.doesNotMatch(name, /[/\\]/);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(name, /[\u0000-\u001f\u007f]/);
      assert.ok(name !== '.' && name !== '..' && !/^(con|prn|aux|nul)(\..*)?$/i.test(name), name);
      assert.ok(Buffer.byteLength(name) <= 255, `${name.length} characters`);
    }
    const events = (await historyOf(home, 'ivy')).filter((event) => event.type === 'file');
    assert.equal(events.length, names.length);
    for (const event of events) assert.equal(path.dirname(String(event.path)), downloads);
    assert.equal(existsSync(path.resolve(downloads, '../../x')), false);
    assert.equal(statSync(downloads).mode & 0o777, 0o700);
  });

  test('offers over --max-file-size or over the free space are declined; the sender\'s chat transfer prints why', async () => {
    const small = await home.startDaemon('small', ['--max-file-size', '1K']);
    await home.startDaemon('big-sender');
    assert.equal((await home.run(['connect', '--profile', 'big-sender', String(small.port)])).code, 0);
    const file = path.join(home.dir, 'two-kib.bin');
    writeFileSync(file, randomBytes(2048));
    const refused = await home.run(['transfer', '--profile', 'big-sender', file]);
    assert.equal(refused.code, 1);
    assert.match(errorLine(refused), /declined.*\(2\.0 KiB\) is larger than the receiver accepts \(1\.0 KiB/);
    assert.deepEqual(readdirSync(small.downloads), [], 'nothing stored');
    const fits = path.join(home.dir, 'one-kib.bin');
    writeFileSync(fits, randomBytes(1024));
    assert.equal((await home.run(['transfer', '--profile', 'big-sender', fits])).code, 0, 'at the limit is fine');
    assert.equal((await home.run(['disconnect', '--profile', 'big-sender'])).code, 0);

    // No disk holds 2 PiB: with the size limit raised that far, the free-space check is what declines.
    const roomy = await home.startDaemon('roomy', ['--max-file-size', '4000T']);
    const sender = await createTestIdentity();
    try {
      const peer = await connectTlsPeer(roomy.port, sender);
      peer.autoConfirm = false;
      peer.hello({ name: 'sender' });
      await peer.waitFor('hello');
      // The confirmation and an offer in one write: the offer already finds the connection active.
      const id = randomUUID();
      peer.write(Buffer.concat([
        encodeFrame({ kind: 'ping', nonce: 0 }),
        encodeFrame({ kind: 'fileOffer', id, name: 'huge.iso', size: 2 ** 51 }),
      ]));
      const declined = await peer.waitFor('fileDecline', (frame) => frame.id === id);
      assert.match(declined.reason, /not enough free space on the receiver: the file needs 2048\.0 TiB, .* available/);
      peer.close();
    } finally {
      await sender.remove();
    }
    assert.equal((await home.run(['daemon', 'start', '--profile', 'x', '--max-file-size', 'lots'])).code, 2);
  });

  test('the daemon refuses directories others can write to or that belong to another user, and a key others can read', async (t) => {
    const refusedStart = async (profile: string, extra: string[], pattern: RegExp) => {
      const result = await home.run(['daemon', 'start', '--profile', profile, ...extra]);
      assert.equal(result.code, 1, `start should fail: ${result.stdout}`);
      assert.match(errorLine(result), pattern);
    };
    // Prepare a profile, then break it in different ways.
    await home.startDaemon('victim');
    assert.equal((await home.run(['daemon', 'stop', '--profile', 'victim'])).code, 0);
    const dir = home.profileDir('victim');

    // The CLI refuses the socket's folder before it would connect (or start a daemon).
    chmodSync(path.join(dir, 'run'), 0o777);
    await refusedStart('victim', [], /refusing the control socket directory .*run: it is writable by other users \(mode 0777\).*chmod 700/);
    chmodSync(path.join(dir, 'run'), 0o700);

    chmodSync(path.join(dir, 'downloads'), 0o775);
    await refusedStart('victim', [], /downloads directory .*downloads is writable by other users \(mode 0775\)/);
    chmodSync(path.join(dir, 'downloads'), 0o700);

    const key = path.join(dir, 'identity', 'key.pem');
    chmodSync(key, 0o644);
    await refusedStart('victim', [], /identity key .*key\.pem is accessible to other users \(mode 0644\).*chmod 600/);
    chmodSync(key, 0o600);

    if (process.getuid?.() !== 0) {
      t.diagnostic('not root: cannot give a directory to another user; the ownership cases are skipped');
    } else {
      const stranger = 4242;
      chownSync(path.join(dir, 'run'), stranger, stranger);
      await refusedStart('victim', [], /refusing the control socket directory .*run: it belongs to another user \(uid 4242/);
      chownSync(path.join(dir, 'run'), 0, 0);
      const foreignDownloads = path.join(home.dir, 'foreign-downloads');
      await home.run(['daemon', 'start', '--profile', 'probe', '--downloads', foreignDownloads]);
      await home.run(['daemon', 'stop', '--profile', 'probe']);
      chownSync(foreignDownloads, stranger, stranger);
      await refusedStart('victim', ['--downloads', foreignDownloads], /downloads directory .* belongs to another user \(uid 4242/);
    }
    // Fixed, it starts again with the same identity.
    const started = await home.startDaemon('victim');
    assert.ok(isAlive(started.pid));
  });
});
