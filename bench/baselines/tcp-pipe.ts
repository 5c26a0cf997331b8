// The bare transport chat is measured against: file -> TCP over loopback -> file, with the same
// 64 KiB read size and nothing else (no framing, no hashing, no fsync). Prints the seconds taken.
// With --fsync the destination is flushed to disk before the clock stops, as chat does before it
// acknowledges a file.
// usage: node bench/baselines/tcp-pipe.ts SOURCE DESTINATION [--fsync]
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';

const [source, destination, flag] = process.argv.slice(2);
if (!source || !destination) {
  process.stderr.write('usage: tcp-pipe.ts SOURCE DESTINATION\n');
  process.exit(2);
}
const READ_BYTES = 64 * 1024;

const started = performance.now();
const received = new Promise<void>((resolve, reject) => {
  const server = net.createServer((socket) => {
    server.close();
    pipeline(socket, createWriteStream(destination)).then(resolve, reject);
  });
  server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    pipeline(createReadStream(source, { highWaterMark: READ_BYTES }), client).catch(reject);
  });
});
await received;
if (flag === '--fsync') {
  const handle = await open(destination, 'r+');
  await handle.sync();
  await handle.close();
}
process.stdout.write(`${((performance.now() - started) / 1000).toFixed(4)}\n`);
