/** How logs and events write a connection's address: host:port, with IPv6 hosts in brackets. */
export function formatAddress(host: string | undefined, port: number | undefined): string {
  if (!host) return 'unknown';
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
