/**
 * The peer a daemon redials, kept in the profile (`last_peer.json`, owner-only, replaced
 * atomically) so that a daemon that starts again (a restart, a reboot, kill -9) redials it too.
 */
import { readFileSync } from 'node:fs';
import { checkPrivateFile, writePrivateFile } from '../files/owner-only.ts';
import { MAX_PORT } from '../wire/limits.ts';
import { peerNameProblem } from '../wire/peer-name.ts';

export interface LastPeer {
  /** Its name when it was last connected (only shown: the fingerprint decides). */
  name: string;
  /** The key a redial expects, 64 lowercase hex digits: any other is refused. */
  fingerprint: string;
  /** Where to dial it. */
  host: string;
  port: number;
  /**
   * True when this daemon dialled it (`chat connect`, or a redial): it redials after a drop.
   * False when the peer dialled us: `host` is the connection's and `port` the one its HELLO
   * announced, dialled only when this daemon starts again.
   */
  dialled: boolean;
  /** `chat disconnect` on either side ended the last connection: nobody redials until the next connect. */
  userDisconnected: boolean;
}

const FILE_VERSION = 1;
const FINGERPRINT_PATTERN = /^[0-9a-f]{64}$/;
/** As `connect` takes it (src/control/params.ts). */
const MAX_HOST_LENGTH = 255;

export class LastPeerFile {
  private readonly file: string;
  private written: string | undefined;

  constructor(file: string) {
    this.file = file;
  }

  get path(): string {
    return this.file;
  }

  /**
   * The peer the file names; undefined when there is none. Throws, with a line that names the file
   * and what is wrong, when it is damaged or others could change it.
   */
  load(): LastPeer | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    checkPrivateFile(this.file, 'the last peer file');
    const peer = parseLastPeer(text, this.file);
    this.written = serialize(peer);
    return peer;
  }

  /** Replaces the file with `peer`, unless it holds exactly that already. Throws when it cannot be written. */
  save(peer: LastPeer): void {
    const text = serialize(peer);
    if (text === this.written) return;
    writePrivateFile(this.file, text);
    this.written = text;
  }
}

function serialize(peer: LastPeer): string {
  const { name, fingerprint, host, port, dialled, userDisconnected } = peer;
  return `${JSON.stringify({ version: FILE_VERSION, name, fingerprint, host, port, dialled, userDisconnected }, null, 2)}\n`;
}

/** The file's peer, checked field by field: whatever else is in it is not dialled. */
export function parseLastPeer(text: string, file: string): LastPeer {
  const damaged = (why: string) => new Error(`the last peer file ${file} is damaged (${why}); remove it (nothing is redialled at start then)`);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw damaged('not JSON');
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw damaged('not a JSON object');
  const { version, name, fingerprint, host, port, dialled, userDisconnected } = document as Record<string, unknown>;
  if (version !== FILE_VERSION) throw damaged(`expected "version": ${FILE_VERSION}`);
  if (typeof name !== 'string' || peerNameProblem(name)) throw damaged('"name" is not a peer name');
  if (typeof fingerprint !== 'string' || !FINGERPRINT_PATTERN.test(fingerprint)) throw damaged('"fingerprint" is not 64 lowercase hex digits');
  if (typeof host !== 'string' || host.length === 0 || host.length > MAX_HOST_LENGTH) throw damaged('"host" is not a host name or address');
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > MAX_PORT) throw damaged(`"port" is not 1-${MAX_PORT}`);
  if (typeof dialled !== 'boolean' || typeof userDisconnected !== 'boolean') throw damaged('"dialled" and "userDisconnected" must be true or false');
  return { name, fingerprint, host, port, dialled, userDisconnected };
}
