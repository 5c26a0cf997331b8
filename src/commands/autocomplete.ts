import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.ts';
import { COMPLETION_SHELLS, completionScript, flagSpellings, type CompletableCommand, type CompletionShell, type ManifestFlag } from '../cli/completion.ts';
import { humanLines } from '../cli/output.ts';

export default class Autocomplete extends BaseCommand {
  static override summary = 'Print a completion script for bash, zsh or PowerShell.';
  static override description =
    'Completes command names, flags and, for "chat transfer", file names. The script is written from the ' +
    'commands of this version of chat: load it again after an update.';
  static override examples = [
    { description: 'Complete in this bash', command: 'source <(<%= config.bin %> <%= command.id %> bash)' },
    { description: 'In every new bash', command: 'echo \'source <(<%= config.bin %> <%= command.id %> bash)\' >> ~/.bashrc' },
    { description: 'zsh (after compinit)', command: 'source <(<%= config.bin %> <%= command.id %> zsh)' },
    { description: 'PowerShell', command: '<%= config.bin %> <%= command.id %> powershell | Out-String | Invoke-Expression' },
  ];
  static override args = {
    shell: Args.string({ description: `The shell: ${COMPLETION_SHELLS.join(', ')}`, options: [...COMPLETION_SHELLS], required: true }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Autocomplete);
    const commands: CompletableCommand[] = this.config.commands
      .filter((command) => !command.hidden)
      .map((command) => ({
        id: command.id.replaceAll(':', ' '),
        ...flagSpellings(command.flags as Record<string, ManifestFlag>),
        takesFile: Object.keys(command.args ?? {}).includes('file'),
      }));
    this.say(humanLines(completionScript(args.shell as CompletionShell, this.config.bin, commands).trimEnd()));
  }
}
