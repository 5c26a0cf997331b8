import { Args, Flags } from '@oclif/core';
import { formatFingerprint, parseFingerprint } from '../identity/fingerprint-notation.ts';
import { CONNECT_TIMEOUT_MS } from '../control/client.ts';
import type { ConnectResult } from '../control/protocol.ts';
import { BaseCommand } from '../cli/base-command.ts';
import { UsageError } from '../cli/errors.ts';
import { human, paint } from '../cli/output.ts';
import { parsePeerTarget } from '../cli/target.ts';

/** TCP connect (10 s in the daemon), then TLS + HELLO (another 10 s), with room to spare. */

export default class Connect extends BaseCommand {
  static override summary = 'Connect to your peer\'s daemon by port or host:port.';
  static override description =
    'Exits 0 once the handshake is complete and prints the peer\'s name. One side connecting is enough: ' +
    'after that both can send. Connecting to a peer you are already connected to succeeds at once.';
  static override examples = [
    { description: 'Peer on this machine, port 7002', command: '<%= config.bin %> <%= command.id %> 7002' },
    { description: 'Peer on another machine', command: '<%= config.bin %> <%= command.id %> 192.168.1.20:7002' },
    { description: 'IPv6', command: '<%= config.bin %> <%= command.id %> [::1]:7002' },
    {
      description: 'Only accept the peer whose fingerprint you were told (by phone, in person)',
      command: '<%= config.bin %> <%= command.id %> 7002 --fingerprint "3f2a 9c01 …"',
    },
  ];
  static override enableJsonFlag = true;
  static override flags = {
    fingerprint: Flags.string({
      description: 'The peer\'s fingerprint as "chat id" shows it on their side; any other key is refused. Spaces and colons are ignored.',
    }),
  };
  static override args = {
    target: Args.string({ description: 'PORT, HOST:PORT or [IPv6]:PORT of the peer\'s daemon', required: true }),
  };

  async run(): Promise<ConnectResult> {
    const { args, flags } = await this.parse(Connect);
    const target = parsePeerTarget(args.target);
    const fingerprint = flags.fingerprint === undefined ? undefined : parseFingerprint(flags.fingerprint);
    if (flags.fingerprint !== undefined && fingerprint === undefined) {
      throw new UsageError(`invalid --fingerprint "${flags.fingerprint}": expected 64 hex digits (SHA-256), as "chat id" prints it`);
    }
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const result = await client.request('connect', { ...target, ...(fingerprint ? { fingerprint } : {}) }, CONNECT_TIMEOUT_MS);
    const { peer } = result;
    this.say(human`${result.alreadyConnected ? 'already connected to' : 'connected to'} ${paint('name', peer.name)} (${peer.listenAddress ?? peer.address})`);
    this.say(human`fingerprint ${formatFingerprint(peer.fingerprint)}`);
    return result;
  }
}
