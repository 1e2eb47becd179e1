/**
 * The one undici Dispatcher mlcache uses for the Hub (and hands to the transfer engine): a
 * keep-alive Agent, or undici's EnvHttpProxyAgent when proxy settings are given. The proxy values
 * always come from `Settings` (src/config is the only reader of process.env): every option is
 * passed explicitly, with '' for "unset", because EnvHttpProxyAgent falls back to process.env on
 * `undefined`.
 */
import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici';
import type { ProxySettings } from '../config/settings.js';

export interface DispatcherOptions {
  /** Keep-alive connections per origin. @default 32 */
  connectionsPerOrigin?: number;
  /** Alias of `connectionsPerOrigin` (undici's own option name). */
  connections?: number;
  /** TCP+TLS connect timeout in ms. @default 10000 */
  connectTimeoutMs?: number;
  /** How long an idle socket stays open in ms. @default 30000 */
  keepAliveTimeoutMs?: number;
  /** Headers timeout in ms (time to first response byte). @default 60000 */
  headersTimeoutMs?: number;
  /** Body inactivity timeout in ms. @default 60000 */
  bodyTimeoutMs?: number;
}

const proxies = new WeakMap<Dispatcher, ProxySettings>();

export function hasProxy(proxy: ProxySettings | undefined): boolean {
  return Boolean(proxy?.http || proxy?.https);
}

export function createDispatcher(proxy: ProxySettings | undefined, options: DispatcherOptions = {}): Dispatcher {
  const agentOptions = {
    connections: options.connectionsPerOrigin ?? options.connections ?? 32,
    // One request at a time per socket: pipelining breaks on Hub/CDN errors mid-stream.
    pipelining: 1,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: options.headersTimeoutMs ?? 60_000,
    bodyTimeout: options.bodyTimeoutMs ?? 60_000,
    connect: { timeout: options.connectTimeoutMs ?? 10_000 },
  };
  if (!proxy || !hasProxy(proxy)) return new Agent(agentOptions);
  const dispatcher = new EnvHttpProxyAgent({
    ...agentOptions,
    httpProxy: proxy.http ?? '',
    httpsProxy: proxy.https ?? '',
    noProxy: proxy.noProxy ?? '',
  });
  proxies.set(dispatcher, proxy);
  return dispatcher;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * Whether NO_PROXY exempts `url`, with EnvHttpProxyAgent's rules: comma/space list, `*` = all,
 * optional `:port`, a leading `.` or `*.` matches subdomains, and a bare name matches itself and
 * its subdomains. Pure.
 */
export function isNoProxy(url: string, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  if (noProxy.trim() === '*') return true;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const hostname = parsed.host.replace(/:\d*$/, '').toLowerCase();
  const port = Number.parseInt(parsed.port, 10) || DEFAULT_PORTS[parsed.protocol] || 0;
  for (const raw of noProxy.split(/[,\s]/)) {
    if (!raw) continue;
    const m = /^(.+):(\d+)$/.exec(raw);
    const host = (m ? (m[1] ?? '') : raw).replace(/^\*?\./, '').toLowerCase();
    const entryPort = m ? Number.parseInt(m[2] ?? '0', 10) : 0;
    if (entryPort && entryPort !== port) continue;
    if (hostname === host || hostname.endsWith(`.${host}`)) return true;
  }
  return false;
}

/**
 * The proxy a request to `url` goes through with this dispatcher (as created by createDispatcher),
 * or undefined for a direct connection. Used to classify failures as NETWORK_PROXY.
 */
export function proxyForUrl(dispatcher: Dispatcher, url: string): string | undefined {
  const proxy = proxies.get(dispatcher);
  if (!proxy || isNoProxy(url, proxy.noProxy)) return undefined;
  const isHttps = url.startsWith('https:');
  // EnvHttpProxyAgent: https URLs use HTTPS_PROXY, else fall back to HTTP_PROXY.
  return (isHttps ? proxy.https || proxy.http : proxy.http) || undefined;
}
