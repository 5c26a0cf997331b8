/** A peer address as users type it: PORT, HOST:PORT or [IPv6]:PORT. */
import { MAX_PORT } from '../control/protocol.ts';
import { UsageError } from './errors.ts';

const DEFAULT_HOST = '127.0.0.1';

/** Parses `PORT`, `HOST:PORT` or `[IPv6]:PORT`; anything else is a usage error (exit 2). */
export function parsePeerTarget(target: string): { host: string; port: number } {
  const text = target.trim();
  let host = DEFAULT_HOST;
  let portText = text;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2]!;
  } else if (text.includes(':')) {
    const at = text.lastIndexOf(':');
    host = text.slice(0, at);
    portText = text.slice(at + 1);
    if (host === '' || host.includes(':')) throw new UsageError(`invalid peer address "${target}": use PORT, HOST:PORT or [IPv6]:PORT`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > MAX_PORT) {
    // A bare word is not "port abc in abc": say what the argument can be.
    if (portText === text) throw new UsageError(`invalid peer address "${target}": use a port (1-${MAX_PORT}), HOST:PORT or [IPv6]:PORT`);
    throw new UsageError(`invalid port "${portText}" in "${target}": use a number from 1 to ${MAX_PORT}`);
  }
  return { host, port: Number(portText) };
}
