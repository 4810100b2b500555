/**
 * Sends each request the way its proxy settings say: directly (no proxy for that scheme, or a
 * NO_PROXY match), in absolute form to an HTTP proxy for http:// targets (what curl and wget do,
 * and what proxies that allow CONNECT only to port 443 need), or through a tunnel (CONNECT for
 * https:// targets, SOCKS5 for any). Loaded only when some proxy is configured.
 */
import type { Dispatcher } from 'undici';
import { assertPublicHost } from './address-guard.js';
import { Agent } from './undici-parts.js';
import { guardPausedEnd } from './connector.js';
import { proxyDisplay, proxyFor, type ProxySettings } from './proxy.js';
import { socks5Connect } from './socks5.js';
import { forwardConnector, httpConnect, proxyAuthorization, proxyError, tunnelConnector } from './tunnel.js';

export interface RouteOptions {
  proxy: ProxySettings;
  ca: string | Buffer | Array<string | Buffer> | undefined;
  connectTimeoutMs: number;
  blockPrivateAddresses: boolean;
  keepAliveTimeout: number;
}

type Handler = Dispatcher.DispatchHandler;

export function routedDispatcher(direct: Dispatcher, options: RouteOptions): Dispatcher {
  const forwards = new Map<string, Dispatcher>();
  const tunnels = new Map<string, Dispatcher>();
  const tls = options.ca === undefined ? {} : { ca: options.ca };
  const forwardFor = (proxy: URL) =>
    cached(forwards, proxy, () => new Agent({ keepAliveTimeout: options.keepAliveTimeout, connect: guardPausedEnd(forwardConnector(proxy, { ...tls, timeout: options.connectTimeoutMs })) }));
  const tunnelFor = (proxy: URL) =>
    cached(tunnels, proxy, () => {
      const handshake = proxy.protocol.startsWith('socks') ? socks5Connect : httpConnect;
      const connect = guardPausedEnd(tunnelConnector(proxy, { ...tls, timeout: options.connectTimeoutMs }, handshake));
      return new Agent({ keepAliveTimeout: options.keepAliveTimeout, connect });
    });

  return direct.compose((dispatch) => (opts, handler) => {
    const target = new URL(opts.origin!);
    const proxy = proxyFor(target, options.proxy);
    if (proxy === undefined) return dispatch(opts, handler);
    const send = (): boolean => {
      if (target.protocol === 'http:' && (proxy.protocol === 'http:' || proxy.protocol === 'https:')) {
        const auth = proxyAuthorization(proxy);
        const headers = { ...(opts.headers as Record<string, string>), host: target.host, ...(auth === undefined ? {} : { 'proxy-authorization': auth }) };
        return forwardFor(proxy).dispatch({ ...opts, origin: proxy.origin, path: `${target.origin}${opts.path}`, headers }, refuse407(handler, proxy));
      }
      return tunnelFor(proxy).dispatch(opts, handler);
    };
    if (!options.blockPrivateAddresses) return send();
    // The proxy connects to the target, so the guard cannot judge the socket's peer: judge the name here.
    assertPublicHost(target.hostname).then(send, (error: Error) => handler.onResponseError?.(undefined as never, error));
    return true;
  });
}

function cached(map: Map<string, Dispatcher>, proxy: URL, make: () => Dispatcher): Dispatcher {
  let dispatcher = map.get(proxy.href);
  if (dispatcher === undefined) {
    dispatcher = make();
    map.set(proxy.href, dispatcher);
  }
  return dispatcher;
}

/** A 407 from a forward proxy is the proxy's answer, not the server's. */
function refuse407(handler: Handler, proxy: URL): Handler {
  return {
    ...bind(handler),
    onResponseStart(controller, statusCode, headers, statusMessage) {
      if (statusCode === 407) {
        controller.abort(proxyError(`proxy ${proxyDisplay(proxy)} requires authentication (407)${proxy.username === '' ? '' : ': it refused the credentials given'}`, undefined, 407));
        return;
      }
      handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
    },
  };
}

function bind(handler: Handler): Handler {
  return {
    onRequestStart: handler.onRequestStart?.bind(handler),
    onRequestUpgrade: handler.onRequestUpgrade?.bind(handler),
    onResponseData: handler.onResponseData?.bind(handler),
    onResponseEnd: handler.onResponseEnd?.bind(handler),
    onResponseError: handler.onResponseError?.bind(handler),
  } as Handler;
}
