/**
 * Which proxy a request goes through, read the way curl reads it: `http_proxy`/`HTTP_PROXY` for
 * http URLs, `https_proxy`/`HTTPS_PROXY` for https URLs, `all_proxy`/`ALL_PROXY` for either when
 * those are unset (lower case wins), and `no_proxy`/`NO_PROXY` for the hosts that go direct.
 * Pure: no I/O, no sockets.
 */
import { BlockList, isIP } from 'node:net';
import { DownloadError } from '../errors.js';

export interface ProxySettings {
  /** For http:// targets. */
  http: URL | undefined;
  /** For https:// targets. */
  https: URL | undefined;
  /** The raw NO_PROXY list (kept for the pool key and for messages). */
  noProxy: string;
  bypass: NoProxyRule[];
}

export interface NoProxyRule {
  /** Lower-case host or domain without leading dots; '*' matches every host. */
  host: string;
  port: number | undefined;
  /** Set for `10.0.0.0/8`-style entries. */
  subnet: BlockList | undefined;
}

const PROTOCOLS = new Set(['http:', 'https:', 'socks5:', 'socks5h:']);
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** A proxy URL as the user wrote it, with any password replaced, for messages. */
export function proxyDisplay(proxy: URL): string {
  return `${proxy.protocol}//${proxy.username === '' ? '' : '***@'}${proxy.host}`;
}

/**
 * Parses a proxy URL. `assumeHttp` accepts `host:port` as `http://host:port`, as curl does for
 * the environment variables; a URL given as an option must say its scheme.
 */
export function parseProxyUrl(text: string, assumeHttp = false, source = 'proxy'): URL {
  const trimmed = text.trim();
  // Never echo what follows an '@': it may hold a password.
  const shown = trimmed.replace(/\/\/[^@/]*@/, '//***@');
  if (!HAS_SCHEME.test(trimmed)) {
    if (!assumeHttp) throw invalid(`${source} URL needs a scheme (http://, https://, socks5:// or socks5h://), got ${shown.replace(/^[^@/]*@/, '***@')}`);
    return parseProxyUrl(`http://${trimmed}`, false, source);
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw invalid(`${source} URL is not a valid URL: ${shown}`);
  }
  if (!PROTOCOLS.has(url.protocol)) throw invalid(`${source} URL scheme ${url.protocol} is not supported (http, https, socks5, socks5h)`);
  if (url.hostname === '') throw invalid(`${source} URL has no host: ${shown}`);
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '') throw invalid(`${source} URL must not have a path: ${shown}`);
  return url;
}

/** The proxies for `option` (a URL, `false` for none, undefined for the environment); undefined when no request would use one. */
export function resolveProxySettings(option: URL | false | undefined, env: NodeJS.ProcessEnv): ProxySettings | undefined {
  if (option === false) return undefined;
  const read = (name: string) => nonEmpty(env[name.toLowerCase()]) ?? nonEmpty(env[name.toUpperCase()]);
  const noProxy = read('no_proxy') ?? '';
  if (option !== undefined) return { http: option, https: option, noProxy, bypass: parseNoProxy(noProxy) };
  const fromEnv = (name: string) => {
    const value = read(name);
    return value === undefined ? undefined : parseProxyUrl(value, true, name.toUpperCase());
  };
  const all = fromEnv('all_proxy');
  const http = fromEnv('http_proxy') ?? all;
  const https = fromEnv('https_proxy') ?? all;
  if (http === undefined && https === undefined) return undefined;
  return { http, https, noProxy, bypass: parseNoProxy(noProxy) };
}

/** The proxy for a request to `target`, or undefined to connect directly. */
export function proxyFor(target: URL, settings: ProxySettings): URL | undefined {
  const proxy = target.protocol === 'https:' ? settings.https : settings.http;
  if (proxy === undefined) return undefined;
  return bypasses(target, settings.bypass) ? undefined : proxy;
}

/** Comma- or space-separated: `*`, `host`, `.domain`, `*.domain`, `host:port`, IPv4/IPv6 addresses (bracketed with a port), CIDR ranges. */
export function parseNoProxy(list: string): NoProxyRule[] {
  const rules: NoProxyRule[] = [];
  for (const raw of list.toLowerCase().split(/[\s,]+/)) {
    if (raw === '') continue;
    let entry = raw;
    let port: number | undefined;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed) {
      entry = bracketed[1]!;
      port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
    } else if (isIP(entry) !== 6 && !entry.includes('/') && /:\d+$/.test(entry)) {
      port = Number(entry.slice(entry.lastIndexOf(':') + 1));
      entry = entry.slice(0, entry.lastIndexOf(':'));
    }
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr && isIP(cidr[1]!) !== 0) {
      const family = isIP(cidr[1]!) === 4 ? 'ipv4' : 'ipv6';
      const prefix = Number(cidr[2]);
      if (prefix > (family === 'ipv4' ? 32 : 128)) continue;
      const subnet = new BlockList();
      subnet.addSubnet(cidr[1]!, prefix, family);
      rules.push({ host: entry, port, subnet });
      continue;
    }
    const host = entry.replace(/^\*?\.+/, '').replace(/\.$/, '');
    if (host !== '') rules.push({ host: entry === '*' ? '*' : host, port, subnet: undefined });
  }
  return rules;
}

function bypasses(target: URL, rules: readonly NoProxyRule[]): boolean {
  const host = target.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const family = isIP(host);
  return rules.some((rule) => {
    if (rule.port !== undefined && rule.port !== port) return false;
    if (rule.host === '*') return true;
    if (rule.subnet !== undefined) return family !== 0 && rule.subnet.check(host, family === 4 ? 'ipv4' : 'ipv6');
    if (family !== 0) return isIP(rule.host) === family && sameAddress(rule.host, host);
    return host === rule.host || host.endsWith(`.${rule.host}`);
  });
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const list = new BlockList();
  const family = isIP(a) === 4 ? 'ipv4' : 'ipv6';
  list.addAddress(a, family);
  return list.check(b, family);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function invalid(message: string): DownloadError {
  return new DownloadError('ERR_INVALID_OPTION', message);
}
