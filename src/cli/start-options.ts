/** `chat daemon start` on a running daemon: the options given that it does not run with, and the error that lists them. */
import path from 'node:path';
import { DEFAULT_PROFILE } from '../control/paths.ts';
import type { StatusResult } from '../control/protocol.ts';
import type { DaemonStartOptions } from '../control/spawn.ts';
import { formatByteSize } from '../text/sizes.ts';
import { CliError } from './errors.ts';

/** The flags of `chat daemon start` that set a daemon option. */
export type StartFlag = 'port' | 'host' | 'name' | 'downloads' | 'max-file-size' | 'ping-interval' | 'no-reconnect' | 'accept';

/**
 * Each flag the user gave (`given`) whose value the running daemon does not have, as
 * `--port 7777 (it listens on 45001)`. A flag left at its default is not compared: `chat daemon
 * start` with no flags stays "already running", exit 0. --port 0 means any port: any is the same.
 */
export function differingOptions(requested: DaemonStartOptions, given: ReadonlySet<StartFlag>, status: StatusResult): string[] {
  const differences: string[] = [];
  if (given.has('port') && requested.port !== undefined && requested.port !== 0 && requested.port !== status.port) {
    differences.push(`--port ${requested.port} (it listens on port ${status.port})`);
  }
  if (given.has('host') && requested.host !== undefined && requested.host !== status.host) {
    differences.push(`--host ${requested.host} (it listens on ${status.host})`);
  }
  if (given.has('name') && requested.name !== undefined && requested.name !== status.name) {
    differences.push(`--name ${requested.name} (it is "${status.name}")`);
  }
  if (given.has('downloads') && requested.downloads !== undefined && path.resolve(requested.downloads) !== status.downloads) {
    differences.push(`--downloads ${requested.downloads} (it stores files in ${status.downloads})`);
  }
  if (given.has('accept') && requested.accept !== undefined && requested.accept !== status.accept) {
    differences.push(`--accept ${requested.accept} (it accepts ${status.accept})`);
  }
  // A daemon older than `settings` cannot say: its other options are not compared.
  const settings = status.settings;
  if (!settings) return differences;
  if (given.has('max-file-size') && requested.maxFileSize !== undefined && requested.maxFileSize !== settings.maxFileSize) {
    differences.push(`--max-file-size ${formatByteSize(requested.maxFileSize)} (it takes up to ${formatByteSize(settings.maxFileSize)})`);
  }
  if (given.has('ping-interval') && requested.pingInterval !== undefined && requested.pingInterval !== settings.pingInterval) {
    differences.push(`--ping-interval ${requested.pingInterval} (it pings every ${settings.pingInterval} s)`);
  }
  if (given.has('no-reconnect') && requested.reconnect === false && settings.reconnect) {
    differences.push('--no-reconnect (it redials by itself)');
  }
  return differences;
}

/** A daemon runs already, with other options than the ones asked for: exit 1, and how to restart it with them. */
export class OptionsDifferError extends CliError {
  override name = 'OptionsDifferError';

  constructor(profile: string, differences: string[]) {
    const flag = profile === DEFAULT_PROFILE ? '' : ` --profile ${profile}`;
    super(
      'options_differ',
      `chatd already runs for profile "${profile}" with other options: ${differences.join(', ')}; ` +
        `to change ${differences.length === 1 ? 'it' : 'them'}, stop it first (chat daemon stop${flag}), then start it again`,
    );
  }
}
