#!/usr/bin/env node
import { ensureSupportedNode } from './node-version.js';

await ensureSupportedNode(import.meta.url);
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
// When the reader of stdout goes away (`chat status | head -1`: EPIPE), the command still does its
// job and ends with its own exit code; what it prints goes nowhere. oclif, though, then waits
// forever for a 'drain' that cannot come: once nothing else is left to do, that wait ends too.
const readerGone = new Promise((resolve) => {
  process.stdout.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    process.once('beforeExit', resolve);
  });
});
// `chat send`, `chat transfer`, `chat tail --no-follow` and `chat daemon status` skip oclif (see
// src/cli/fast-path.ts, loaded as one bundled file: scripts/bundle-fast-path.ts); the rest is oclif.
// Both get global flags given before the command (`chat -p alice send hi`) moved behind it.
const { moveGlobalFlags, runFastPath } = await import('../dist/fast-path.js');
const argv = moveGlobalFlags(process.argv.slice(2));
if (!(await runFastPath(argv))) {
  const { execute } = await import('@oclif/core');
  await Promise.race([execute({ args: argv, dir: import.meta.url }), readerGone]);
}
