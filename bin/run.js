#!/usr/bin/env node
import { ensureSupportedNode } from './node-version.js';

await ensureSupportedNode(import.meta.url);
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
// `chat send` and `chat daemon status` skip oclif (see src/cli/fast-path.ts); the rest is oclif.
// Both get global flags given before the command (`chat -p alice send hi`) moved behind it.
const { moveGlobalFlags, runFastPath } = await import('../dist/cli/fast-path.js');
const argv = moveGlobalFlags(process.argv.slice(2));
if (!(await runFastPath(argv))) {
  const { execute } = await import('@oclif/core');
  // When the reader of stdout goes away (`chat help | head -1`: EPIPE), oclif waits forever for a
  // 'drain' that cannot come; once nothing else is left to do, end with the command's own exit code.
  const readerGone = new Promise((resolve) => {
    process.stdout.on('error', (error) => {
      if (error.code === 'EPIPE') process.once('beforeExit', resolve);
    });
  });
  await Promise.race([execute({ args: argv, dir: import.meta.url }), readerGone]);
}
