import { formatFingerprint } from '../control/fingerprint.ts';
import type { StatusResult } from '../control/protocol.ts';
import { printable } from './output.ts';

/** `chat daemon status` for a person: one aligned key/value row per line. */
export function formatStatus(status: StatusResult): string {
  const peer = status.peer
    ? `${printable(status.peer.name)} (${status.peer.address}, ${status.peer.direction === 'out' ? 'we dialled' : 'they dialled'})`
    : '-';
  const rows: Array<[string, string]> = [
    ['status', 'running'],
    ['pid', String(status.pid)],
    ['name', printable(status.name)],
    ['identity', formatFingerprint(status.fingerprint)],
    ['profile', status.profile],
    ['listening', `${status.host}:${status.port}`],
    ['connection', status.connection],
    ['peer', peer],
    ...(status.peer ? [['peer key', formatFingerprint(status.peer.fingerprint)] as [string, string]] : []),
    ['downloads', status.downloads],
    ['log', status.log],
  ];
  return rows.map(([key, value]) => `${key.padEnd(11)} ${value}`).join('\n');
}

export function notRunningLine(profile: string): string {
  return `chat daemon is not running for profile "${profile}"`;
}
