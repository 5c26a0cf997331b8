/** Known peers (known_peers.json): each peer name pinned to the key it first presented, capped in number. */
import { readFileSync } from 'node:fs';
import { checkPrivateFile, writePrivateFile } from '../files/owner-only.ts';

/** A peer name bound to the key it presented the first time (trust on first use). */
export interface PinnedPeer {
  name: string;
  /** 64 lowercase hex digits: SHA-256 of the peer's public key. */
  fingerprint: string;
  /** ISO 8601, when the pin was made. */
  firstSeen: string;
  /** ISO 8601, the last completed handshake. */
  lastSeen: string;
}

export type PinCheck =
  | { status: 'new' }
  | { status: 'known'; pinned: PinnedPeer }
  | { status: 'changed'; pinned: PinnedPeer };

const FILE_VERSION = 1;
/**
 * Most names kept pinned. Every name a new key connects under is pinned, so without a cap a
 * stranger cycling through fresh keys and names would grow this file (rewritten on every
 * connection) for ever; 1000 names is far more peers than a person talks to, and under 1 MB.
 * Past it a new name is refused; names pinned already are never dropped.
 */
export const MAX_PINNED_PEERS = 1000;
const FINGERPRINT_PATTERN = /^[0-9a-f]{64}$/;

/**
 * The profile's pinned peers (like SSH's known_hosts with accept-new): a name seen for the first
 * time is pinned to its key; the same name with another key is refused until the pin is
 * forgotten. Kept in memory, written through on every change (owner-only, atomically).
 */
export class KnownPeers {
  private readonly file: string;
  private readonly peers: Map<string, PinnedPeer>;

  private constructor(file: string, peers: Map<string, PinnedPeer>) {
    this.file = file;
    this.peers = peers;
  }

  /** Reads the file if it exists. A damaged file is an error: silently dropping pins would re-trust every key. */
  static open(file: string): KnownPeers {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new KnownPeers(file, new Map());
      throw error;
    }
    checkPrivateFile(file, 'the pinned peers file');
    const peers = new Map<string, PinnedPeer>();
    for (const peer of parseKnownPeers(text, file)) peers.set(peer.name, peer);
    return new KnownPeers(file, peers);
  }

  check(name: string, fingerprint: string): PinCheck {
    const pinned = this.peers.get(name);
    if (!pinned) return { status: 'new' };
    return { status: pinned.fingerprint === fingerprint ? 'known' : 'changed', pinned };
  }

  /** Whether some name is pinned to this key: the peer is known, whatever name it uses now. */
  hasKey(fingerprint: string): boolean {
    for (const pinned of this.peers.values()) if (pinned.fingerprint === fingerprint) return true;
    return false;
  }

  /**
   * Pins a name to a key given by the user before any contact (`chat peers add`); `known` when
   * that name has that key already. Throws as `remember` does for another key, or a full file.
   */
  add(name: string, fingerprint: string, time: string): 'pinned' | 'known' {
    if (this.check(name, fingerprint).status === 'known') return 'known';
    return this.remember(name, fingerprint, time) === 'pinned' ? 'pinned' : 'known';
  }

  /** How many names are pinned. */
  get size(): number {
    return this.peers.size;
  }

  /** Whether another name can be pinned (fewer than MAX_PINNED_PEERS are). */
  get full(): boolean {
    return this.peers.size >= MAX_PINNED_PEERS;
  }

  /**
   * Pins a new name or updates when a known one was last seen. Returns whether it pinned. Throws
   * for a name pinned to another key, and for a new name when the file is `full`.
   */
  remember(name: string, fingerprint: string, time: string): 'pinned' | 'seen' {
    const pinned = this.peers.get(name);
    if (pinned && pinned.fingerprint !== fingerprint) throw new Error(`"${name}" is pinned to another key`);
    if (!pinned && this.full) throw new Error(`not pinning "${name}": ${MAX_PINNED_PEERS} names are pinned already`);
    this.peers.set(name, { name, fingerprint, firstSeen: pinned?.firstSeen ?? time, lastSeen: time });
    this.save();
    return pinned ? 'seen' : 'pinned';
  }

  forget(name: string): PinnedPeer | undefined {
    const pinned = this.peers.get(name);
    if (!pinned) return undefined;
    this.peers.delete(name);
    this.save();
    return pinned;
  }

  list(): PinnedPeer[] {
    return [...this.peers.values()].sort((a, b) => a.firstSeen.localeCompare(b.firstSeen) || a.name.localeCompare(b.name));
  }

  private save(): void {
    writePrivateFile(this.file, `${JSON.stringify({ version: FILE_VERSION, peers: this.list() }, null, 2)}\n`);
  }
}

function parseKnownPeers(text: string, file: string): PinnedPeer[] {
  const damaged = (why: string) =>
    new Error(`the pinned peers file ${file} is damaged (${why}); repair it or move it away (every peer is then new again)`);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw damaged('not JSON');
  }
  const { version, peers } = (document ?? {}) as { version?: unknown; peers?: unknown };
  if (version !== FILE_VERSION || !Array.isArray(peers)) throw damaged(`expected {"version": ${FILE_VERSION}, "peers": [...]}`);
  return peers.map((entry: unknown, index) => {
    const { name, fingerprint, firstSeen, lastSeen } = (entry ?? {}) as Record<string, unknown>;
    if (
      typeof name !== 'string' || typeof fingerprint !== 'string' || !FINGERPRINT_PATTERN.test(fingerprint) ||
      typeof firstSeen !== 'string' || typeof lastSeen !== 'string'
    ) {
      throw damaged(`entry ${index + 1} needs name, a 64-hex-digit fingerprint, firstSeen and lastSeen`);
    }
    return { name, fingerprint, firstSeen, lastSeen };
  });
}
