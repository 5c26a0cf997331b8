/** `chat daemon status` as a person reads it. */
import { formatFingerprint } from '../identity/fingerprint-notation.ts';
import type { InviteSummary, ReconnectSummary, StatusResult } from '../control/protocol.ts';
import { formatAddress, isWildcardHost } from '../text/host-port.ts';
import { human, joinLines, type HumanText } from './output.ts';

/** `chat daemon status` for a person: one aligned key/value row per line. */
export function formatStatus(status: StatusResult): HumanText {
  const peer = status.peer
    ? human`${status.peer.name} (${status.peer.listenAddress ?? status.peer.address}, ${status.peer.direction === 'out' ? 'we dialled' : 'they dialled'})`
    : '-';
  const rows: Array<[string, HumanText | string]> = [
    ['status', 'running'],
    ['pid', String(status.pid)],
    ['name', status.name],
    ['identity', formatFingerprint(status.fingerprint)],
    ['profile', status.profile],
    ['listening', listeningAddress(status)],
    ...(isWildcardHost(status.host) ? status.addresses.map((address, index) => [index === 0 ? 'dial at' : '', address] as [string, string]) : []),
    ['accept', acceptLine(status)],
    ['connection', status.reconnect ? reconnectLine(status.reconnect) : status.connection],
    ['peer', peer],
    ...(status.peer ? [['peer key', formatFingerprint(status.peer.fingerprint)] as [string, string]] : []),
    ['outbox', status.queued === 0 ? 'empty' : `${status.queued} ${status.queued === 1 ? 'message' : 'messages'} waiting (chat outbox)`],
    ['downloads', status.downloads],
    ['log', status.log],
    ['supervisor', status.supervisor ?? '-'],
  ];
  return joinLines(rows.map(([key, value]) => human`${key.padEnd(11)} ${value}`));
}

/** The address the daemon listens on, `[::]:7001` for IPv6. */
export function listeningAddress(status: Pick<StatusResult, 'host' | 'port'>): string {
  return formatAddress(status.host, status.port);
}

/** `invited (invite open, 9 min left)`. */
function acceptLine(status: StatusResult): string {
  return status.invite ? `${status.accept} (invite open, ${timeLeft(status.invite)} left)` : status.accept;
}

/** What is left of an invite, in the coarsest unit that says it: `95 s`, `9 min`, `2 h 5 min` (seconds below 2 min, where a minute is half of it). */
export function timeLeft(invite: InviteSummary): string {
  const seconds = Math.ceil(invite.expiresInMs / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}

/** `reconnecting to bob (attempt 5, next in 16 s)`, or `(attempt 5, dialling now)` while it runs. */
export function reconnectLine(reconnect: ReconnectSummary): HumanText {
  const when = reconnect.nextAttemptInMs === null ? 'dialling now' : `next in ${Math.ceil(reconnect.nextAttemptInMs / 1000)} s`;
  return human`reconnecting to ${reconnect.name} (attempt ${String(reconnect.attempt)}, ${when})`;
}

export function notRunningLine(profile: string): HumanText {
  return human`chat daemon is not running for profile "${profile}"`;
}
