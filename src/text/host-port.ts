/** How a host and port are written as one address, `host:port` or `[IPv6]:port`, and read back. */

/**
 * `host:port`, or `[host]:port` for IPv6, as logs, events, `status` and `chat connect` write it. An
 * IPv4 peer of a listener on `::` arrives as `::ffff:192.0.2.7`: it is written as the IPv4 address it is.
 */
export function formatAddress(host: string | undefined, port: number | undefined): string {
  if (!host) return 'unknown';
  const ipv4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(host)?.[1];
  if (ipv4) return `${ipv4}:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The host of a `host:port` address as formatAddress writes it (IPv6 in brackets). */
export function hostOf(address: string): string | undefined {
  const match = /^\[([^\]]+)\]:\d+$/.exec(address) ?? /^([^:]+):\d+$/.exec(address);
  return match?.[1];
}

/** Whether `host` listens on every interface (0.0.0.0, or :: which also takes IPv4). */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '::0';
}
