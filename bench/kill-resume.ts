/**
 * What a kill -9 in the middle of a big transfer costs: one pair of real daemons, alice sending to
 * bob through a fault proxy that counts the bytes; the receiver's or the sender's daemon is killed
 * at a point of the file, started again, and the transfer completes by itself (or, with `--side
 * link`, the connection is reset there and alice redials). Reports the bytes
 * that crossed beyond the file (sent twice, plus TLS and frame overhead) and the time, and exits 1
 * when a run is over the 16 MiB the issue allows.
 *
 *   npm run build && node bench/kill-resume.ts [--size MIB] [--at FRACTION] [--side receiver|sender|link|both] [--json]
 *
 * Defaults: 1024 MiB, killed at 0.5 of the file, both sides in turn (test/e2e/kill-resume.test.ts
 * is the 64 MiB version that npm test runs).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ChatHome } from '../test/helpers/chat.ts';
import { KillResumePair, type KilledSide, type KillRun } from '../test/helpers/kill-resume.ts';
import { writeRandomFile } from '../test/helpers/random-data.ts';

const MiB = 1024 * 1024;
/** The issue's bound on what a kill costs: bytes beyond the file (re-sent, and overhead). Over it, exit 1. */
const RESENT_LIMIT = 16 * MiB;
/** One run must be done long before this: a hang is reported, not waited out. */
const RUN_TIMEOUT_MS = 600_000;

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1024' },
    at: { type: 'string', default: '0.5' },
    side: { type: 'string', default: 'both' },
    json: { type: 'boolean', default: false },
  },
});
const size = Number(values.size) * MiB;
const at = Number(values.at);
const sides: KilledSide[] = values.side === 'both' ? ['receiver', 'sender'] : [values.side as KilledSide];
if (!Number.isSafeInteger(size) || size <= 0 || !(at > 0 && at < 1) || sides.some((side) => !['receiver', 'sender', 'link'].includes(side))) {
  console.error('usage: node bench/kill-resume.ts [--size MIB] [--at FRACTION between 0 and 1] [--side receiver|sender|link|both] [--json]');
  process.exit(2);
}

const home = await ChatHome.create();
const results: KillRun[] = [];
try {
  const source = path.join(home.dir, 'big.bin');
  const sha256 = await writeRandomFile(source, size);
  const pair = await KillResumePair.start(home);
  try {
    for (const side of sides) {
      const result = await pair.run(source, sha256, size, side, Math.floor(size * at), RUN_TIMEOUT_MS);
      results.push(result);
      if (!values.json) {
        console.log(`${side === 'link' ? 'link reset' : `${side} killed`} at ${(result.killedAt / MiB).toFixed(1)} MiB of ${size / MiB} MiB: ` +
          `${(result.resent / MiB).toFixed(2)} MiB beyond the file, complete and verified after ${(result.ms / 1000).toFixed(1)} s (${(result.resumedMs / 1000).toFixed(1)} s after it)`);
      }
    }
  } finally {
    await pair.close();
  }
} finally {
  await home.cleanup();
}
if (values.json) console.log(JSON.stringify({ size, at, results }, null, 2));
const over = results.filter((result) => result.resent >= RESENT_LIMIT);
for (const result of over) {
  console.error(`kill-resume: ${result.side} killed: ${(result.resent / MiB).toFixed(2)} MiB beyond the file, over the ${RESENT_LIMIT / MiB} MiB limit`);
}
if (over.length > 0) process.exitCode = 1;
