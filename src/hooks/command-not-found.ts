import type { Hook } from '@oclif/core';

/** An unknown command is a usage error: one line, exit 2, and where to look. */
const hook: Hook.CommandNotFound = async function (options) {
  process.stderr.write(`chat: unknown command "${options.id.replaceAll(':', ' ')}"; see: chat --help\n`);
  process.exit(2);
};

export default hook;
