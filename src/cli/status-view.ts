/** `chat daemon status` as a person reads it. */
import { formatFingerprint } from '../identity/fingerprint-notation.ts';
import type { ReconnectSummary, StatusResult } from '../control/protocol.ts';
import { human, joinLines, type HumanText } from './output.ts';

/** `chat daemon status` for a person: one aligned key/value row per line. */
export function formatStatus(status: StatusResult): HumanText {
  const peer = status.peer
    ? human`${status.peer.name} (${status.peer.address}, ${status.peer.direction === 'out' ? 'we dialled' : 'they dialled'})`
    : '-';
  const rows: Array<[string, HumanText | string]> = [
    ['status', 'running'],
    ['pid', String(status.pid)],
    ['name', status.name],
    ['identity', formatFingerprint(status.fingerprint)],
    ['profile', status.profile],
    ['listening', `${status.host}:${status.port}`],
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

/** `reconnecting to bob (attempt 5, next in 16 s)`, or `(attempt 5, dialling now)` while it runs. */
export function reconnectLine(reconnect: ReconnectSummary): HumanText {
  const when = reconnect.nextAttemptInMs === null ? 'dialling now' : `next in ${Math.ceil(reconnect.nextAttemptInMs / 1000)} s`;
  return human`reconnecting to ${reconnect.name} (attempt ${String(reconnect.attempt)}, ${when})`;
}

export function notRunningLine(profile: string): HumanText {
  return human`chat daemon is not running for profile "${profile}"`;
}
