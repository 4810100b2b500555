/**
 * Refuses connections to private, loopback and link-local addresses when asked
 * (`blockPrivateAddresses`). The check runs on the socket's actual peer address after connect,
 * so DNS tricks (rebinding, 0x7f.1, 2130706433, ::ffff:127.0.0.1) resolve first and are judged by
 * where they really lead (catalogue case 48).
 */
import { BlockList, isIP } from 'node:net';
import { DownloadError } from '../errors.js';
import { lazyBuiltin } from '../lazy-builtin.js';

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

/** Whether `address` is loopback, private, link-local or unspecified (IPv4-mapped IPv6 included). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true; // not an address at all: refuse rather than guess
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The refusal for a socket connected to a private peer, or undefined when its peer is public. */
export function privatePeerError(socket: { remoteAddress?: string | undefined }, hostname: string): DownloadError | undefined {
  const peer = socket.remoteAddress ?? '';
  if (!isPrivateAddress(peer)) return undefined;
  return new DownloadError('ERR_BLOCKED_ADDRESS', `refused to connect to ${hostname} at private address ${peer}`);
}

/**
 * For requests through a proxy, which connects to the target itself: refuses a host that is,
 * or resolves here to, a private address. (The proxy may resolve differently; this is the best
 * judgement available on this side of it.)
 */
export async function assertPublicHost(hostname: string): Promise<void> {
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  // node:dns/promises only when a name must be resolved here (a proxied request under --block-private).
  const addresses = isIP(host) !== 0 ? [host] : (await (await lazyBuiltin('node:dns/promises')).lookup(host, { all: true })).map((a) => a.address);
  const blocked = addresses.find((address) => isPrivateAddress(address));
  if (blocked !== undefined) throw new DownloadError('ERR_BLOCKED_ADDRESS', `refused to connect to ${host} at private address ${blocked}`);
}
