// The bare transport chat is measured against: file -> TCP over loopback -> file and nothing else
// (no framing, no hashing, no fsync), with the read and write sizes that made it fastest here: 1 MiB
// reads, and a 4 MiB write buffer, so that what the socket delivers goes to the file in a few large
// writev calls (2026-12-03, tmpfs, 512 MiB, 3-4 runs each: 64 KiB reads and the default 16 KiB
// buffer 1.4-2.7 s; 1 MiB and 1 MiB 0.87-1.58 s; 1 MiB and 4 MiB 0.69-0.77 s). Prints the seconds taken.
// With --fsync the destination is on disk before the clock stops, as chat's is before it acknowledges
// a file, and written back as it comes, as chat's receiver does (file-sink.ts).
// usage: node bench/baselines/tcp-pipe.ts SOURCE DESTINATION [--fsync]
import { createReadStream } from 'node:fs';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { fileSink } from './file-sink.ts';

const [source, destination, flag] = process.argv.slice(2);
if (!source || !destination) {
  process.stderr.write('usage: tcp-pipe.ts SOURCE DESTINATION\n');
  process.exit(2);
}
const READ_BYTES = 1024 * 1024;

const started = performance.now();
const received = new Promise<void>((resolve, reject) => {
  const server = net.createServer((socket) => {
    server.close();
    pipeline(socket, fileSink(destination, flag === '--fsync')).then(resolve, reject);
  });
  server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    pipeline(createReadStream(source, { highWaterMark: READ_BYTES }), client).catch(reject);
  });
});
await received;
process.stdout.write(`${((performance.now() - started) / 1000).toFixed(4)}\n`);
