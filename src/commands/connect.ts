import { Args } from '@oclif/core';
import type { ConnectResult } from '../control/protocol.ts';
import { BaseCommand } from '../cli/base-command.ts';
import { parsePeerTarget } from '../cli/target.ts';

/** Dial + handshake (10 s in the daemon) with room to spare. */
const CONNECT_TIMEOUT_MS = 25_000;

export default class Connect extends BaseCommand {
  static override summary = 'Connect to your peer\'s daemon by port or host:port.';
  static override description =
    'Exits 0 once the handshake is complete and prints the peer\'s name. One side connecting is enough: ' +
    'after that both can send. Connecting to a peer you are already connected to succeeds at once.';
  static override examples = [
    { description: 'Peer on this machine, port 7002', command: '<%= config.bin %> <%= command.id %> 7002' },
    { description: 'Peer on another machine', command: '<%= config.bin %> <%= command.id %> 192.168.1.20:7002' },
    { description: 'IPv6', command: '<%= config.bin %> <%= command.id %> [::1]:7002' },
  ];
  static override enableJsonFlag = true;
  static override args = {
    target: Args.string({ description: 'PORT, HOST:PORT or [IPv6]:PORT of the peer\'s daemon', required: true }),
  };

  async run(): Promise<ConnectResult> {
    const { args, flags } = await this.parse(Connect);
    const target = parsePeerTarget(args.target);
    const client = await this.connectDaemon(this.profilePaths(flags.profile));
    const result = await client.request('connect', target, CONNECT_TIMEOUT_MS);
    this.log(`${result.alreadyConnected ? 'already connected to' : 'connected to'} ${result.peer.name} (${result.peer.address})`);
    return result;
  }
}
