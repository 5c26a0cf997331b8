#!/usr/bin/env node
import { ensureSupportedNode } from './node-version.js';

await ensureSupportedNode(import.meta.url);
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
// `chat send` and `chat daemon status` skip oclif (see src/cli/fast-path.ts); the rest is oclif.
const { runFastPath } = await import('../dist/cli/fast-path.js');
if (!(await runFastPath(process.argv.slice(2)))) {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
