/** oclif hook: an unknown command gets one clear line, exit 2, and the nearest command or where to look. */
import type { Hook } from '@oclif/core';
import { ExitCode } from '../cli/errors.ts';
import { human } from '../cli/output.ts';
import { unknownCommandMessage } from '../cli/suggest-command.ts';
import { writeHuman } from '../cli/terminal.ts';

/** An unknown command is a usage error: one line, exit 2, "did you mean send?" when one is close. */
const hook: Hook.CommandNotFound = async function (options) {
  const ids = options.config.commandIDs.map((id) => id.replaceAll(':', ' '));
  writeHuman('stderr', human`chat: ${unknownCommandMessage(options.id.replaceAll(':', ' '), ids)}`);
  process.exit(ExitCode.usage);
};

export default hook;
