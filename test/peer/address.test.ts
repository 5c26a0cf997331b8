// How addresses are written (IPv6 in brackets, IPv4-mapped ones as IPv4) and which ones a peer
// can dial: the interfaces of a wildcard listener, without loopback or link-local ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dialAddresses, formatAddress, hostOf, listenAddressOf, type InterfaceAddress } from '../../src/peer/address.ts';

const interfaces: NodeJS.Dict<InterfaceAddress[]> = {
  lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }, { address: '::1', family: 'IPv6', internal: true }],
  eth0: [
    { address: '192.0.2.2', family: 'IPv4', internal: false },
    { address: 'fd00::2', family: 'IPv6', internal: false },
    { address: 'fe80::fc:ff:fe00:1', family: 'IPv6', internal: false },
  ],
  wlan0: [{ address: '198.51.100.7', family: 4, internal: false }],
};

test('formatAddress: IPv6 in brackets, IPv4-mapped IPv6 as the IPv4 address it is; hostOf reads it back', () => {
  assert.equal(formatAddress('127.0.0.1', 7001), '127.0.0.1:7001');
  assert.equal(formatAddress('::', 45971), '[::]:45971');
  assert.equal(formatAddress('::1', 1), '[::1]:1');
  assert.equal(formatAddress('::ffff:192.0.2.7', 7001), '192.0.2.7:7001');
  assert.equal(formatAddress(undefined, 1), 'unknown');
  assert.equal(hostOf(formatAddress('fd00::2', 7001)), 'fd00::2');
});

test('listenAddressOf: the connection\'s host with the port the peer announced; null when it does not listen', () => {
  assert.equal(listenAddressOf('127.0.0.1:47916', 7002), '127.0.0.1:7002');
  assert.equal(listenAddressOf('[::1]:47916', 7002), '[::1]:7002');
  assert.equal(listenAddressOf('127.0.0.1:47916', 0), null);
});

test('dialAddresses: a wildcard host lists each non-loopback interface, IPv4 first; any other host is itself', () => {
  assert.deepEqual(dialAddresses('0.0.0.0', 7001, interfaces), ['192.0.2.2:7001', '198.51.100.7:7001']);
  assert.deepEqual(dialAddresses('::', 7001, interfaces), ['192.0.2.2:7001', '198.51.100.7:7001', '[fd00::2]:7001']);
  assert.deepEqual(dialAddresses('127.0.0.1', 7001, interfaces), ['127.0.0.1:7001']);
  assert.deepEqual(dialAddresses('::1', 7001, interfaces), ['[::1]:7001']);
  assert.deepEqual(dialAddresses('192.0.2.2', 7001, interfaces), ['192.0.2.2:7001']);
});

test('dialAddresses: with only loopback, this machine\'s loopback address', () => {
  const lo = { lo: interfaces.lo };
  assert.deepEqual(dialAddresses('0.0.0.0', 7001, lo), ['127.0.0.1:7001']);
  assert.deepEqual(dialAddresses('::', 7001, lo), ['[::1]:7001']);
});
