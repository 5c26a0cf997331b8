import { formatFingerprint } from '../identity/fingerprint-notation.ts';
import type { StatusResult } from '../control/protocol.ts';
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
    ['connection', status.connection],
    ['peer', peer],
    ...(status.peer ? [['peer key', formatFingerprint(status.peer.fingerprint)] as [string, string]] : []),
    ['downloads', status.downloads],
    ['log', status.log],
  ];
  return joinLines(rows.map(([key, value]) => human`${key.padEnd(11)} ${value}`));
}

export function notRunningLine(profile: string): HumanText {
  return human`chat daemon is not running for profile "${profile}"`;
}
