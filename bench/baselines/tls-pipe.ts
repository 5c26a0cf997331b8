// The bare transport with chat's encryption: the TCP pipe of tcp-pipe.ts (file -> loopback -> file,
// 1 MiB reads, a 4 MiB write buffer, nothing else) with chat's own TLS in between: TLS 1.3, a
// certificate on both sides, the peer link's context and handshake (createPeerContext,
// secureAccepted, secureDialled), so the cipher suite and settings are exactly the daemons'.
// Both ends run in this one process, as in tcp-pipe.ts. The identities are read from the two
// directories (created there on first use; run.ts creates them before the first timed run) before
// the clock starts; the clock, like tcp-pipe.ts's, includes setting up the connection, here the
// TLS handshake. With --fsync the destination is on disk before the clock stops, and written back as
// it comes, as in tcp-pipe.ts (file-sink.ts).
// Node hands the decrypted data over in pieces of at most 16 KiB (one TLS record): with the default
// 16 KiB write buffer each became one file write, and that, not the cipher, was most of what this
// pipe lost against tcp-pipe.ts. The 4 MiB write buffer lets them go out in large writev calls
// (2026-12-03, tmpfs, 512 MiB, 3 runs each: 16 KiB buffer 3.0-4.1 s whatever the read size; 1 MiB
// reads and a 4 MiB buffer 0.93-1.01 s, the fastest of nine read/buffer pairs).
// --cipher SUITE limits both ends to one TLS 1.3 suite (bench/ciphers.ts compares them).
// Prints one JSON line: { seconds, handshakeMs, protocol, cipher }.
// usage: node bench/baselines/tls-pipe.ts SOURCE DESTINATION LISTENER_IDENTITY_DIR DIALLER_IDENTITY_DIR [--fsync] [--cipher SUITE]
import { createReadStream } from 'node:fs';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { loadOrCreateIdentity } from '../../src/identity/identity.ts';
import { createPeerContext, secureAccepted, secureDialled } from '../../src/peer/secure-transport.ts';
import { fileSink } from './file-sink.ts';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { fsync: { type: 'boolean', default: false }, cipher: { type: 'string' } } });
const [source, destination, listenerDir, diallerDir] = positionals;
if (!source || !destination || !listenerDir || !diallerDir || positionals.length > 4) {
  process.stderr.write('usage: tls-pipe.ts SOURCE DESTINATION LISTENER_IDENTITY_DIR DIALLER_IDENTITY_DIR [--fsync] [--cipher SUITE]\n');
  process.exit(2);
}
const READ_BYTES = 1024 * 1024;
const HANDSHAKE_TIMEOUT_MS = 30_000;

const listenerContext = createPeerContext(await loadOrCreateIdentity(listenerDir), values.cipher);
const diallerContext = createPeerContext(await loadOrCreateIdentity(diallerDir), values.cipher);

let handshakeMs = Number.NaN;
/** Read once the handshake is done: a closed TLSSocket no longer reports them. */
let negotiated: { protocol: string | null; cipher: string } | undefined;
const started = performance.now();
const received = new Promise<void>((resolve, reject) => {
  const server = net.createServer((socket) => {
    server.close();
    pipeline(secureAccepted(socket, listenerContext), fileSink(destination, values.fsync)).then(resolve, reject);
  });
  server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    client.once('error', reject);
    client.once('connect', () => {
      client.off('error', reject);
      secureDialled(client, diallerContext, HANDSHAKE_TIMEOUT_MS).then((secure) => {
        handshakeMs = performance.now() - started;
        const cipher = secure.getCipher();
        negotiated = { protocol: secure.getProtocol(), cipher: cipher.standardName ?? cipher.name };
        return pipeline(createReadStream(source, { highWaterMark: READ_BYTES }), secure);
      }).catch(reject);
    });
  });
});
await received;
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ seconds, handshakeMs, protocol: negotiated?.protocol ?? null, cipher: negotiated?.cipher ?? null })}\n`);
