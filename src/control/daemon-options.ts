/**
 * The options that `chatd` and `chat daemon start` share, checked by one set of rules with one
 * wording, so that both refuse the same values with the same line.
 */
import { peerNameProblem } from '../wire/peer-name.ts';
import { MAX_PORT } from '../wire/limits.ts';
import { DEFAULT_MAX_FILE_SIZE, parseByteSize } from '../text/sizes.ts';
import { ACCEPT_MODES, DEFAULT_ACCEPT_MODE, type AcceptMode } from './protocol.ts';

/** A daemon option that cannot be used; the message names the option and what it takes. */
export class DaemonOptionError extends Error {
  override name = 'DaemonOptionError';
}

/** --ping-interval bounds in seconds: below, pings would be most of the traffic; above, a dead peer would go unnoticed for hours. */
export const MIN_PING_INTERVAL_SECONDS = 0.05;
export const MAX_PING_INTERVAL_SECONDS = 3600;

/** --port: 0 (any free port) to MAX_PORT. */
export function parseListenPort(text: string): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port > MAX_PORT) throw new DaemonOptionError(`invalid --port "${text}": use 0-${MAX_PORT}`);
  return port;
}

/** --name: the display name sent in HELLO. */
export function checkDisplayName(name: string): string {
  const problem = peerNameProblem(name);
  if (problem) throw new DaemonOptionError(`invalid --name: ${problem}`);
  return name;
}

/** --max-file-size: bytes, or a size such as 500M; DEFAULT_MAX_FILE_SIZE when not given. */
export function parseMaxFileSize(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MAX_FILE_SIZE;
  const bytes = parseByteSize(text);
  if (bytes === undefined) throw new DaemonOptionError(`invalid --max-file-size "${text}": use bytes or a size such as 500M, 2G`);
  return bytes;
}

/** --ping-interval: seconds between pings of a quiet peer. */
export function parsePingInterval(text: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds < MIN_PING_INTERVAL_SECONDS || seconds > MAX_PING_INTERVAL_SECONDS) {
    throw new DaemonOptionError(`invalid --ping-interval "${text}": use seconds from ${MIN_PING_INTERVAL_SECONDS} to ${MAX_PING_INTERVAL_SECONDS}`);
  }
  return seconds;
}

/** --no-reconnect, as both chatd and `chat daemon start` describe it. */
export const NO_RECONNECT_DESCRIPTION = 'Redial nobody by itself: neither the last peer when the daemon starts, nor the peer after a drop.';

/** Whether the daemon redials by itself, from --no-reconnect (a flag: given or not). */
export function reconnectEnabled(noReconnect: boolean | undefined): boolean {
  return noReconnect !== true;
}

/** --accept, as both chatd and `chat daemon start` describe it. */
export const ACCEPT_DESCRIPTION =
  'Who may connect: "known", only peers pinned already (chat peers add); "invited", also a new peer on first contact, ' +
  'one you dialled, or one while "chat invite" is open; "any", every peer.';

/** --accept: one of ACCEPT_MODES; DEFAULT_ACCEPT_MODE when not given. */
export function parseAcceptMode(text: string | undefined): AcceptMode {
  if (text === undefined) return DEFAULT_ACCEPT_MODE;
  if (!(ACCEPT_MODES as readonly string[]).includes(text)) {
    throw new DaemonOptionError(`invalid --accept "${text}": use ${ACCEPT_MODES.join(', ')}`);
  }
  return text as AcceptMode;
}
