/** oclif hook: an unknown command gets one clear line, exit 2, and where to look. */
import type { Hook } from '@oclif/core';
import { human } from '../cli/output.ts';
import { writeHuman } from '../cli/terminal.ts';

/** An unknown command is a usage error: one line, exit 2, and where to look. */
const hook: Hook.CommandNotFound = async function (options) {
  writeHuman('stderr', human`chat: unknown command "${options.id.replaceAll(':', ' ')}"; see: chat --help`);
  process.exit(2);
};

export default hook;
