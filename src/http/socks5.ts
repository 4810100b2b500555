/**
 * The SOCKS5 handshake (RFC 1928, username/password from RFC 1929) for a tunnel. `socks5h://`
 * lets the proxy resolve the target's name; `socks5://` resolves it here, as curl does.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { proxyDisplay } from './proxy.js';
import { proxyError, type Handshake } from './tunnel.js';

const REPLIES: Record<number, string> = {
  1: 'general failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

export const socks5Connect: Handshake = async (reader, socket, target, proxy) => {
  const shown = proxyDisplay(proxy);
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  const withAuth = user !== '' || password !== '';
  socket.write(Buffer.from(withAuth ? [5, 2, 0, 2] : [5, 1, 0]));
  const [version, method] = await reader.read(2);
  if (version !== 5) throw proxyError(`proxy ${shown} does not speak SOCKS5`);
  if (method === 2 && withAuth) {
    const u = Buffer.from(user);
    const p = Buffer.from(password);
    if (u.length > 255 || p.length > 255) throw proxyError(`SOCKS5 credentials for ${shown} are longer than 255 bytes`);
    socket.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
    const [, status] = await reader.read(2);
    if (status !== 0) throw proxyError(`proxy ${shown} refused the SOCKS5 credentials`);
  } else if (method !== 0) {
    throw proxyError(`proxy ${shown} accepts none of our SOCKS5 authentication methods${withAuth ? '' : ' (it may need credentials)'}`);
  }
  socket.write(Buffer.concat([Buffer.from([5, 1, 0]), await address(target.hostname, proxy.protocol === 'socks5h:'), Buffer.from([target.port >> 8, target.port & 0xff])]));
  const [, reply, , type] = await reader.read(4);
  if (reply !== 0) throw proxyError(`proxy ${shown} refused to connect to ${target.hostname}:${target.port}: ${REPLIES[reply!] ?? `SOCKS5 reply ${reply}`}`, undefined, reply);
  // The bound address that follows is of no use to us, but must be read past.
  const length = type === 1 ? 4 : type === 4 ? 16 : (await reader.read(1))[0]!;
  await reader.read(length + 2);
};

async function address(hostname: string, remoteDns: boolean): Promise<Buffer> {
  let host = hostname;
  if (isIP(host) === 0 && !remoteDns) {
    // One address goes to the proxy, so no happy eyeballs: IPv4 first, as most proxies reach it.
    const addresses = await lookup(host, { all: true });
    host = (addresses.find((a) => a.family === 4) ?? addresses[0]!).address;
  }
  const family = isIP(host);
  if (family === 4) return Buffer.from([1, ...host.split('.').map(Number)]);
  if (family === 6) return Buffer.concat([Buffer.from([4]), ipv6Bytes(host)]);
  const name = Buffer.from(host);
  if (name.length > 255) throw proxyError(`host name ${host.slice(0, 40)}… is too long for SOCKS5`);
  return Buffer.concat([Buffer.from([3, name.length]), name]);
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const groups = (text: string) => (text === '' ? [] : text.split(':'));
  let parts = groups(head);
  let rest = groups(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const last = (rest.length > 0 ? rest : parts).at(-1) ?? '';
  if (last.includes('.')) {
    const [a, b, c, d] = last.split('.').map(Number) as [number, number, number, number];
    const v4 = [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    if (rest.length > 0) rest = [...rest.slice(0, -1), ...v4];
    else parts = [...parts.slice(0, -1), ...v4];
  }
  const all = address.includes('::') ? [...parts, ...Array<string>(8 - parts.length - rest.length).fill('0'), ...rest] : parts;
  const out = Buffer.alloc(16);
  all.forEach((group, i) => out.writeUInt16BE(Number.parseInt(group, 16), i * 2));
  return out;
}
