/** What a daemon is started with: its profile, listening address, identity and limits, and the timings tests may shorten. */
import type { ProfilePaths } from '../control/paths.ts';
import type { AcceptMode, StatusResult } from '../control/protocol.ts';
import type { PinnedDirectory } from '../files/pinned-directory.ts';
import type { Identity } from '../identity/identity.ts';
import type { KnownPeers } from '../identity/known-peers.ts';
import type { KeepaliveOptions } from '../peer/session.ts';

export interface DaemonConfig {
  paths: ProfilePaths;
  name: string;
  host: string;
  port: number;
  /** Held open since the start (see PinnedDirectory): received files go into this very directory. */
  downloads: PinnedDirectory;
  version: string;
  /** The service manager running this daemon (supervisor.ts). Default: none. */
  supervisor?: StatusResult['supervisor'];
  identity: Identity;
  knownPeers: KnownPeers;
  /** Larger file offers are declined. */
  maxFileSize: number;
  /** Default: the peer protocol's PING_INTERVAL_MS / PEER_SILENCE_LIMIT_MS. */
  keepalive?: KeepaliveOptions;
  /** TLS and HELLO of one connection, dialled or accepted. Default: HANDSHAKE_TIMEOUT_MS. */
  handshakeTimeoutMs?: number;
  /** Default: the control protocol's CONTROL_IDLE_TIMEOUT_MS. */
  controlIdleTimeoutMs?: number;
  /** False with --no-reconnect: redial nobody by itself, neither the last peer at start nor after a drop. Default: true. */
  reconnect?: boolean;
  /** Partial files of incoming transfers not continued for this long are removed. Default: PARTIAL_MAX_AGE_MS. */
  partialMaxAgeMs?: number;
  /** Who may connect (--accept). Default: DEFAULT_ACCEPT_MODE. */
  accept?: AcceptMode;
  /** A transfer waiting for room on its receiver is offered again after this long, always. Default: TRANSFER_RETRY_FIRST_MS, doubling to TRANSFER_RETRY_MAX_MS. */
  transferRetryMs?: number;
  /** The reconnect backoff's first wait, doubling to RECONNECT_MAX_DELAY_MS. Default: RECONNECT_BASE_DELAY_MS. */
  reconnectBaseMs?: number;
}
