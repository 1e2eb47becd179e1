/**
 * The one undici Dispatcher mlcache uses for the Hub (and hands to the transfer engine): a
 * keep-alive Agent, or undici's EnvHttpProxyAgent when proxy settings are given. The proxy values
 * always come from `Settings` (src/config is the only reader of process.env): every option is
 * passed explicitly, with '' for "unset", because EnvHttpProxyAgent falls back to process.env on
 * `undefined`.
 */
import { isIP } from 'node:net';
import { Agent, EnvHttpProxyAgent, Pool, type Dispatcher } from 'undici';
import type { ProxySettings } from '../config/settings.js';
import { ProxyConnectError } from '../util/net.js';
import { registerSecret } from '../util/redact.js';

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
  for (const url of [proxy.http, proxy.https]) registerProxySecrets(url);
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const dispatcher = new EnvHttpProxyAgent({
    ...agentOptions,
    httpProxy: proxy.http ?? '',
    httpsProxy: proxy.https ?? '',
    noProxy: proxy.noProxy ?? '',
    // The connection to the proxy itself: TLS (https:// proxy) within the connect timeout.
    proxyTls: { timeout: connectTimeoutMs },
    // EnvHttpProxyAgent passes its options on to each ProxyAgent, which builds its client to the
    // proxy with this factory.
    clientFactory: (origin: URL, opts: object) => createProxyClient(origin, opts, connectTimeoutMs),
  });
  proxies.set(dispatcher, proxy);
  return dispatcher;
}

/**
 * The password of a proxy URL (raw and percent-decoded) is a secret: redact() masks it in every
 * output. (Not the user name: a common word registered as a secret would mask ordinary text.)
 */
function registerProxySecrets(url: string | undefined): void {
  if (!url) return;
  try {
    const { password } = new URL(url);
    registerSecret(password);
    registerSecret(safeDecode(password));
  } catch {
    // not a URL: undici refuses it when the agent is built
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

type ConnectFn = (options: Dispatcher.ConnectOptions) => Promise<Dispatcher.ConnectData>;

/**
 * The client undici's ProxyAgent sends each CONNECT through, with every failure turned into a
 * ProxyConnectError.
 *
 * Why: ProxyAgent hands a failed CONNECT to the origin client's connect callback as is. When the
 * proxy closes the connection without answering (what a proxy does when it cannot reach the
 * target), that is undici's SocketError, code UND_ERR_SOCKET, which the client treats as a
 * recoverable socket error (undici lib/dispatcher/client.js onError): it keeps the request queued
 * and connects again at once, forever, without backoff — 3,200 CONNECTs a second against a loopback
 * proxy, and a queue that never drains, so the process outlives Ctrl-C. A ProxyConnectError carries
 * no such code, so the client fails the queued request, and the Hub client and the engine retry it
 * with their own bounded, backed-off budget (util/net.ts networkRetryLimit). A non-200 answer is
 * typed here too (with its status), instead of undici's RequestAbortedError, which looks like our
 * own abort. The CONNECT's answer must come within the connect timeout (undici's default would be
 * its 300 s headers timeout).
 */
function createProxyClient(origin: URL, opts: object, connectTimeoutMs: number): Dispatcher {
  const pool = new Pool(origin, { ...opts, headersTimeout: connectTimeoutMs, bodyTimeout: connectTimeoutMs });
  const proxy = origin.host; // host:port, never the credentials
  const withCredentials = origin.username !== '' || origin.password !== '';
  const original = pool.connect.bind(pool);
  const connect: ConnectFn = (options) => original(options);
  const guarded: ConnectFn = async (options) => {
    const target = options.path ?? '';
    // ProxyAgent names the proxy's host as the TLS servername even when it is an IP address, which
    // Node answers with a DeprecationWarning on stderr (DEP0123, RFC 6066 §3 forbids IP literals
    // in SNI). Without it undici derives the servername itself and leaves IPs out.
    const { servername } = options as { servername?: unknown };
    const params = typeof servername === 'string' && isIP(servername) !== 0 ? { ...options, servername: undefined } : options;
    let data: Dispatcher.ConnectData;
    try {
      data = await connect(params);
    } catch (error) {
      throw new ProxyConnectError({ proxy, target, withCredentials }, { cause: error });
    }
    if (data.statusCode !== 200) {
      data.socket.on('error', () => undefined).destroy();
      throw new ProxyConnectError({ proxy, target, status: data.statusCode, withCredentials });
    }
    return data;
  };
  (pool as unknown as { connect: ConnectFn }).connect = guarded;
  // This client only carries CONNECT handshakes (a tunnel's socket leaves it once established).
  // When the dispatcher closes, a handshake still in flight has no one left to wait for it — its
  // request was aborted (Ctrl-C) or already failed — so closing ends it instead of waiting for a
  // silent proxy's timeout: the run then unwinds at once.
  (pool as unknown as { close: () => Promise<void> }).close = () => pool.destroy();
  return pool;
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
