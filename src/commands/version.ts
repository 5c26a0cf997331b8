import { BaseCommand } from '../cli/base-command.ts';
import { human } from '../cli/output.ts';

interface VersionResult {
  name: string;
  version: string;
  /** `chat/0.1.0 linux-x64 node-v24.21.0`, what `chat --version` prints. */
  userAgent: string;
  node: string;
  platform: string;
  arch: string;
}

export default class Version extends BaseCommand {
  static override summary = 'Show the version of chat (also: chat --version, chat -v).';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];
  static override enableJsonFlag = true;

  async run(): Promise<VersionResult> {
    await this.parse(Version);
    this.say(human`${this.config.userAgent}`);
    return {
      name: this.config.name,
      version: this.config.version,
      userAgent: this.config.userAgent,
      node: process.versions.node,
      platform: process.platform,
      arch: process.arch,
    };
  }
}
