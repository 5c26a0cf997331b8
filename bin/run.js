#!/usr/bin/env node
import { ensureSupportedNode } from './node-version.js';

ensureSupportedNode(import.meta.url);
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
