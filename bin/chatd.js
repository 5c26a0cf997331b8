#!/usr/bin/env node
// chatd: the chat daemon in the foreground (for systemd, launchd or a terminal).
// "chat daemon start" runs this same file in the background.
import { ensureSupportedNode } from './node-version.js';

await ensureSupportedNode(import.meta.url, { forwardSigint: true });
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { runDaemon } = await import('../dist/daemon/main.js');
await runDaemon(process.argv.slice(2));
