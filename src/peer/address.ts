/** The addresses of a peer link: where a connected peer listens, and where a peer can dial this daemon. */
import os from 'node:os';
import { formatAddress, hostOf, isWildcardHost } from '../text/host-port.ts';

export { formatAddress, hostOf } from '../text/host-port.ts';

/** Where a peer we are connected to can be dialled: the host of this connection, with the port its HELLO announced; null when it does not listen. */
export function listenAddressOf(connection: string, listenPort: number): string | null {
  const host = hostOf(connection);
  return host && listenPort > 0 ? formatAddress(host, listenPort) : null;
}

/** One interface address, as os.networkInterfaces() lists it. */
export interface InterfaceAddress {
  address: string;
  family: string | number;
  internal: boolean;
}

/**
 * Where a peer can dial a daemon listening on host:port. A wildcard host (0.0.0.0, or :: which
 * also takes IPv4) listens on every interface: the addresses of each one that is not loopback,
 * IPv4 first; IPv6 link-local ones (fe80::) are left out, as they mean nothing without the
 * dialler's own interface name. With no such interface, loopback (this machine only). Any other
 * host is the one address.
 */
export function dialAddresses(
  host: string,
  port: number,
  interfaces: NodeJS.Dict<InterfaceAddress[]> = os.networkInterfaces(),
): string[] {
  if (!isWildcardHost(host)) return [formatAddress(host, port)];
  const wildcard6 = host !== '0.0.0.0';
  const all = Object.values(interfaces).flatMap((list) => list ?? []).filter((entry) => !entry.internal);
  const ipv4 = all.filter((entry) => entry.family === 'IPv4' || entry.family === 4).map((entry) => entry.address);
  const ipv6 = wildcard6
    ? all.filter((entry) => (entry.family === 'IPv6' || entry.family === 6) && !/^fe[89ab]/i.test(entry.address)).map((entry) => entry.address)
    : [];
  const addresses = [...new Set([...ipv4, ...ipv6])].map((address) => formatAddress(address, port));
  if (addresses.length > 0) return addresses;
  return [formatAddress(wildcard6 ? '::1' : '127.0.0.1', port)];
}
