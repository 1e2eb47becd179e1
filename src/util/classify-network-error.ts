/**
 * A low-level network failure as a NetworkError a person understands: its class (by code, never by
 * message), a message naming the host (and the proxy, never its credentials) and a hint.
 */
import { NetworkError, type ErrorCode } from '../errors.js';
import { allCodes, CODE_CLASSES, isTlsCode } from './network-codes.js';
import { describeProxyFailure, proxyConnectErrorOf } from './proxy-connect-error.js';

const HINTS: Partial<Record<ErrorCode, (host: string) => string>> = {
  NETWORK_DNS: (h) => `Could not resolve ${h}: check the endpoint (--endpoint / HF_ENDPOINT) and your DNS or internet connection.`,
  NETWORK_REFUSED: (h) => `${h} refused the connection: check the endpoint, or that a proxy or mirror is running.`,
  NETWORK_RESET: (h) => `The connection to ${h} was reset: run the command again; completed files and ranges are kept.`,
  NETWORK_TIMEOUT: (h) => `${h} did not answer in time: check your connection and run the command again to resume.`,
  NETWORK_TLS: (h) => `The TLS certificate of ${h} was not accepted: if you are behind an inspecting proxy, set NODE_EXTRA_CA_CERTS to its CA bundle.`,
  NETWORK_PROXY: () => 'The proxy refused or failed the request: check HTTPS_PROXY / HTTP_PROXY / NO_PROXY.',
  NETWORK: (h) => `Talking to ${h} failed: check your connection and run the command again.`,
};

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  NETWORK_DNS: 'DNS lookup failed',
  NETWORK_REFUSED: 'connection refused',
  NETWORK_RESET: 'connection reset',
  NETWORK_TIMEOUT: 'connection timed out',
  NETWORK_TLS: 'TLS handshake failed',
  NETWORK_PROXY: 'proxy error',
  NETWORK: 'network error',
};

/**
 * Codes that, when the request went through a proxy, mean the proxy itself failed. A dispatcher
 * built by createDispatcher (src/hub) reports every CONNECT failure as a ProxyConnectError, which
 * classifyNetworkError recognises first; this guess by code is the fallback for a request that
 * went through an injected proxy dispatcher (a library caller's ProxyAgent), where undici reports a
 * non-200 CONNECT as a RequestAbortedError (UND_ERR_ABORTED: callers must rule out their own abort).
 */
const PROXY_CONNECT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'UND_ERR_ABORTED', 'UND_ERR_CONNECT_TIMEOUT',
]);

export interface ClassifyNetworkErrorOptions {
  /** The proxy the request went through, if any (connection failures then mean NETWORK_PROXY). */
  proxy?: string | undefined;
}

/** Map a low-level failure to a NetworkError, by code. `host` is what the user will read. */
export function classifyNetworkError(error: unknown, host: string, options: ClassifyNetworkErrorOptions = {}): NetworkError {
  if (error instanceof NetworkError) return error;
  const proxyFailure = proxyConnectErrorOf(error);
  if (proxyFailure !== undefined) {
    const { message, hint, systemCode } = describeProxyFailure(proxyFailure, host);
    return new NetworkError('NETWORK_PROXY', message, { systemCode, host }, { hint, cause: error });
  }
  const codes = allCodes(error);
  let kind: ErrorCode = 'NETWORK';
  const isProxy =
    codes.some((c) => c.includes('PROXY')) ||
    (error instanceof Error && error.name === 'ProxyError') ||
    codes.includes('UND_ERR_PRX_TLS') ||
    (options.proxy !== undefined && codes.some((c) => PROXY_CONNECT_CODES.has(c)));
  if (isProxy) kind = 'NETWORK_PROXY';
  else {
    for (const [cls, set] of CODE_CLASSES) {
      if (codes.some((c) => set.has(c))) {
        kind = cls;
        break;
      }
    }
    if (kind === 'NETWORK' && codes.some(isTlsCode)) kind = 'NETWORK_TLS';
  }
  const systemCode = codes.find((c) => c !== 'UND_ERR' && c.length > 0);
  const via = kind === 'NETWORK_PROXY' && options.proxy !== undefined ? ` through the proxy ${proxyHost(options.proxy)}` : '';
  const message = `${MESSAGES[kind] ?? 'network error'} while talking to ${host}${via}${systemCode ? ` (${systemCode})` : ''}.`;
  return new NetworkError(kind, message, { systemCode, host }, { hint: HINTS[kind]?.(host), cause: error });
}

/** host:port of a proxy URL, never its credentials. */
function proxyHost(proxy: string): string {
  try {
    return new URL(proxy).host;
  } catch {
    return '(unparsable proxy URL)';
  }
}
