import { describe, expect, it } from 'vitest';
import { parseProxyUrl, proxyDisplay, proxyFor, resolveProxySettings } from '../../src/http/proxy.js';

const settings = (env: NodeJS.ProcessEnv) => resolveProxySettings(undefined, env);
const via = (url: string, env: NodeJS.ProcessEnv) => {
  const s = settings(env);
  return s === undefined ? undefined : proxyFor(new URL(url), s)?.href;
};

describe('proxy variables, read as curl reads them', () => {
  it('http_proxy for http URLs, https_proxy for https URLs, ALL_PROXY for what is left', () => {
    const env = { http_proxy: 'http://h:1', HTTPS_PROXY: 'http://s:2', ALL_PROXY: 'socks5h://a:3' };
    expect(via('http://example.com/f', env)).toBe('http://h:1/');
    expect(via('https://example.com/f', env)).toBe('http://s:2/');
    expect(via('https://example.com/f', { ALL_PROXY: 'socks5h://a:3' })).toBe('socks5h://a:3');
    expect(via('http://example.com/f', { all_proxy: 'http://a:3' })).toBe('http://a:3/');
  });

  it('lower case wins over upper case; empty values count as unset', () => {
    expect(via('http://example.com/', { http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:1' })).toBe('http://lower:1/');
    expect(via('http://example.com/', { http_proxy: '', HTTP_PROXY: 'http://upper:1' })).toBe('http://upper:1/');
    expect(settings({ http_proxy: ' ' })).toBeUndefined();
  });

  it('https_proxy does not serve http URLs (and http_proxy not https ones)', () => {
    expect(via('http://example.com/', { https_proxy: 'http://s:2' })).toBeUndefined();
    expect(via('https://example.com/', { http_proxy: 'http://h:1' })).toBeUndefined();
  });

  it('a value without a scheme is http://, as curl takes it', () => {
    expect(via('http://example.com/', { http_proxy: 'proxy.local:3128' })).toBe('http://proxy.local:3128/');
  });

  it('an explicit proxy replaces the variables; false ignores them', () => {
    const env = { http_proxy: 'http://h:1', no_proxy: 'example.com' };
    const explicit = resolveProxySettings(new URL('http://x:9'), env)!;
    expect(proxyFor(new URL('https://other.org/'), explicit)?.href).toBe('http://x:9/');
    expect(proxyFor(new URL('http://example.com/'), explicit)).toBeUndefined(); // NO_PROXY still applies, as in curl
    expect(resolveProxySettings(false, env)).toBeUndefined();
  });
});

describe('NO_PROXY matching', () => {
  const P = { http_proxy: 'http://p:1', https_proxy: 'http://p:1' };
  it.each([
    ['example.com', 'http://example.com/', true],
    ['example.com', 'http://www.example.com/', true],
    ['example.com', 'http://notexample.com/', false],
    ['.example.com', 'http://example.com/', true],
    ['.example.com', 'http://a.b.example.com/', true],
    ['*.example.com', 'http://a.example.com/', true],
    ['EXAMPLE.com', 'http://Example.COM./', true],
    ['*', 'http://anything.at.all/', true],
    ['example.com:8080', 'http://example.com:8080/', true],
    ['example.com:8080', 'http://example.com/', false],
    ['example.com:443', 'https://example.com/', true],
    ['127.0.0.1', 'http://127.0.0.1:5000/', true],
    ['127.0.0.1', 'http://127.0.0.2/', false],
    ['10.0.0.0/8', 'http://10.1.2.3/', true],
    ['10.0.0.0/8', 'http://11.1.2.3/', false],
    ['::1', 'http://[::1]:80/', true],
    ['[::1]:8080', 'http://[::1]:8080/', true],
    ['[::1]:8080', 'http://[::1]:8081/', false],
    ['fd00::/8', 'http://[fd12::1]/', true],
    ['0:0:0:0:0:0:0:1', 'http://[::1]/', true],
    ['localhost, .internal ,foo.org', 'http://x.internal/', true],
    ['localhost .internal', 'http://localhost/', true],
    ['192.168.0.0/16', 'http://example.com/', false],
  ])('NO_PROXY=%j, %s bypasses: %s', (list, url, bypassed) => {
    expect(via(url, { ...P, NO_PROXY: list })).toBe(bypassed ? undefined : 'http://p:1/');
  });
});

describe('proxy URLs', () => {
  it('accepts http, https, socks5 and socks5h with credentials', () => {
    for (const text of ['http://u:p@h:1', 'https://h', 'socks5://h:1080', 'socks5h://u:p@h:1080/']) expect(() => parseProxyUrl(text)).not.toThrow();
  });

  it.each([
    ['no scheme', 'h:3128', /needs a scheme/],
    ['no scheme with credentials (not echoed)', 'alice:pw@h:3128', /needs a scheme .*got \*\*\*@h:3128$/],
    ['a path', 'http://h:1/x', /must not have a path/],
    ['an unsupported scheme', 'socks4://h:1', /socks4: is not supported/],
    ['garbage', 'http://', /not a valid URL/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseProxyUrl(text)).toThrow(message);
  });

  it('displays without the password', () => {
    expect(proxyDisplay(new URL('http://alice:hunter2@h:1'))).toBe('http://***@h:1');
    expect(proxyDisplay(new URL('socks5h://h:1080'))).toBe('socks5h://h:1080');
  });

  it('a bad variable names itself', () => {
    expect(() => settings({ https_proxy: 'ftp://h:1' })).toThrow(/^HTTPS_PROXY URL scheme ftp:/);
  });
});
