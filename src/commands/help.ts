import { Args, loadHelpClass } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.ts';
import { UsageError } from '../cli/errors.ts';
import { unknownCommandMessage } from '../cli/suggest-command.ts';

export default class Help extends BaseCommand {
  static override summary = 'Show help for chat, or for one command.';
  static override description = 'The same text as "chat COMMAND --help".';
  static override examples = ['<%= config.bin %> <%= command.id %> send', '<%= config.bin %> <%= command.id %> daemon start'];
  static override strict = false;
  static override args = {
    command: Args.string({ description: 'The command (its words, e.g. daemon start)', required: false }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(Help);
    const words = argv as string[];
    const id = words.join(':');
    if (words.length > 0 && !this.config.findCommand(id) && !this.config.findTopic(id)) {
      throw new UsageError(unknownCommandMessage(words.join(' '), this.config.commandIDs.map((commandId) => commandId.replaceAll(':', ' '))));
    }
    const HelpClass = await loadHelpClass(this.config);
    await new HelpClass(this.config, this.config.pjson.oclif.helpOptions).showHelp(words);
  }
}
