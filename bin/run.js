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
  await execute({ args: argv, dir: import.meta.url });
}
