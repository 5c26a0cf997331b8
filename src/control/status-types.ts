/** What `status` tells about a running daemon and its peer: the types of its result, and the accept modes and invites it reports. */

export interface PeerSummary {
  name: string;
  /** Address of the connection, host:port. */
  address: string;
  /** `out` when this daemon dialled. */
  direction: 'in' | 'out';
  /** The peer's own listening port. */
  listenPort: number;
  /** Peer protocol version in use. */
  protocolVersion: number;
  /** SHA-256 of the peer's public key, 64 lowercase hex digits: who it really is. */
  fingerprint: string;
  /** Where the peer can be dialled: the connection's host with its `listenPort`; null when it does not listen. */
  listenAddress: string | null;
}

/** A peer name pinned to a key (`chat peers`). */
export interface PinnedPeerSummary {
  name: string;
  fingerprint: string;
  /** ISO 8601. */
  firstSeen: string;
  /** ISO 8601, the last completed handshake. */
  lastSeen: string;
}

/** The peer this daemon is redialling after a drop (peer-protocol.md, *Reconnecting*). */
export interface ReconnectSummary {
  /** The peer's name when it was last connected. */
  name: string;
  /** The key the redial expects (64 lowercase hex digits): any other is refused. */
  fingerprint: string;
  /** host:port being dialled. */
  address: string;
  /** The redial under way or next, counted from 1 in this outage. */
  attempt: number;
  /** When that redial starts, ISO 8601 UTC; null while it is under way. */
  nextAttemptAt: string | null;
  /** Milliseconds from now until then; null while it is under way. */
  nextAttemptInMs: number | null;
  /** Why the last redial failed; null before the first has. */
  lastError: string | null;
}

/** The service managers `status` recognises (daemon/supervisor.ts says how). */
export type Supervisor = 'systemd' | 'launchd' | 'init';

/**
 * Who may connect (`chat daemon start --accept`): `known`, only keys pinned already; `invited`,
 * also a new key on first contact, one this daemon dialled, or one while an invite is open; `any`,
 * every key. docs/security.md, *Who may connect*.
 */
export const ACCEPT_MODES = ['known', 'invited', 'any'] as const;
export type AcceptMode = (typeof ACCEPT_MODES)[number];
export const DEFAULT_ACCEPT_MODE: AcceptMode = 'invited';
/** How long `invite` stays open when `forMs` is not given (`chat invite --for`'s default): time to send a line and have it pasted. */
export const DEFAULT_INVITE_MS = 600_000;
/** The longest invite: a day. A door left open longer is `--accept any`, and should say so. */
export const MAX_INVITE_MS = 86_400_000;

/** An open invite: it lets in the next one new key until it expires. */
export interface InviteSummary {
  /** ISO 8601 UTC. */
  expiresAt: string;
  /** Milliseconds from now until then. */
  expiresInMs: number;
}

/** A running daemon's --max-file-size (bytes), --ping-interval (seconds) and whether it redials (no --no-reconnect). */
export interface DaemonSettings {
  maxFileSize: number;
  pingInterval: number;
  reconnect: boolean;
}

export interface StatusResult {
  pid: number;
  name: string;
  /** This profile's own fingerprint (64 lowercase hex digits). */
  fingerprint: string;
  profile: string;
  host: string;
  port: number;
  /**
   * Where a peer can dial this daemon, `HOST:PORT` (IPv6 as `[addr]:port`): for a wildcard --host
   * (0.0.0.0, ::) each non-loopback interface address, otherwise the listening address itself.
   */
  addresses: string[];
  /** Who may connect (--accept). */
  accept: AcceptMode;
  /** The open invite; null when none is. */
  invite: InviteSummary | null;
  downloads: string;
  /** What it was started with that the other fields do not show (`chat daemon start` compares them). */
  settings: DaemonSettings;
  /** `connected` once a peer has completed the handshake. */
  connection: 'connected' | 'disconnected';
  peer: PeerSummary | null;
  /** Set while the link dropped and this daemon redials the peer by itself; else null. */
  reconnect: ReconnectSummary | null;
  /** Messages in the outbox: queued and not yet acknowledged by their peer, for every key. */
  queued: number;
  home: string;
  log: string;
  startedAt: string;
  version: string;
  /** The service manager that runs the daemon (`systemd`, `launchd`, `init`), or null. */
  supervisor: Supervisor | null;
}
