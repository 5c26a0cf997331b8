// kill -9 of the receiver's or the sender's daemon at random points of a 64 MiB transfer, ten
// times: each time the daemon is started again and the transfer completes by itself, the SHA-256
// matches, and less than 16 MiB crosses beyond the file (counted by the fault proxy). The points
// come from a seed, printed in the test's name: KILL_RESUME_SEED=N replays a failure.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChatHome } from '../helpers/chat.ts';
import { KillResumePair, type KilledSide } from '../helpers/kill-resume.ts';
import { seededRandom, writeRandomFile } from '../helpers/random-data.ts';

const MiB = 1024 * 1024;
const FILE_BYTES = 64 * MiB;
const RUNS = 10;
/** What may cross twice: what was in flight (socket buffers, the receiver's 4 MiB, the proxy) when the daemon died. */
const RESENT_BOUND = 16 * MiB;
const RUN_TIMEOUT_MS = 60_000;
const SEED = Number(process.env.KILL_RESUME_SEED) || Math.floor(Math.random() * 2 ** 31);

describe('kill -9 at random points of a 64 MiB transfer', { timeout: 300_000 }, () => {
  let home: ChatHome;
  let pair: KillResumePair;
  let source: string;
  let sha256: string;

  before(async () => {
    home = await ChatHome.create();
    source = path.join(home.dir, 'big.bin');
    sha256 = await writeRandomFile(source, FILE_BYTES);
    pair = await KillResumePair.start(home);
  });
  after(async () => {
    await pair?.close();
    await home.cleanup();
  });

  test(`seed ${SEED} (KILL_RESUME_SEED=${SEED} replays it): ${RUNS} runs, the receiver and the sender in turn`, async (t) => {
    const random = seededRandom(SEED);
    for (let run = 0; run < RUNS; run++) {
      const side: KilledSide = run % 2 === 0 ? 'receiver' : 'sender';
      // Anywhere from the first bytes to the last MiB of the file.
      const killAt = Math.floor(64 * 1024 + random() * (FILE_BYTES - MiB));
      const result = await pair.run(source, sha256, FILE_BYTES, side, killAt, RUN_TIMEOUT_MS);
      t.diagnostic(`run ${run + 1}: ${side} killed at ${(result.killedAt / MiB).toFixed(1)} MiB, ${(result.resent / MiB).toFixed(2)} MiB beyond the file, ${(result.ms / 1000).toFixed(1)} s`);
      assert.ok(result.resent < RESENT_BOUND, `run ${run + 1} (${side} killed at ${killAt}): ${(result.resent / MiB).toFixed(1)} MiB beyond the file`);
    }
  });
});
