/**
 * Network failure classification and retry policy, shared by the Hub client and the transfer
 * engine. Failures are classified by their error code (undici wraps system errors in `cause`),
 * never by message. Retry policy is data: which statuses and which codes are worth retrying.
 */
import { NetworkError, type ErrorCode } from '../errors.js';

/** Statuses worth retrying (huggingface_hub http_backoff: 408, 429, 500, 502, 503, 504). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

const CODE_SETS = {
  NETWORK_DNS: new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']),
  NETWORK_REFUSED: new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']),
  NETWORK_RESET: new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE']),
  NETWORK_TIMEOUT: new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']),
} satisfies Partial<Record<ErrorCode, ReadonlySet<string>>>;

function isTlsCode(code: string): boolean {
  return TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.startsWith('CERT_');
}

const CODE_CLASSES: ReadonlyArray<[ErrorCode, ReadonlySet<string>]> = [
  ['NETWORK_DNS', CODE_SETS.NETWORK_DNS],
  ['NETWORK_REFUSED', CODE_SETS.NETWORK_REFUSED],
  ['NETWORK_RESET', CODE_SETS.NETWORK_RESET],
  ['NETWORK_TIMEOUT', CODE_SETS.NETWORK_TIMEOUT],
];

const TLS_CODES: ReadonlySet<string> = new Set([
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

const RETRYABLE_CLASSES: ReadonlySet<ErrorCode> = new Set(['NETWORK_RESET', 'NETWORK_TIMEOUT', 'NETWORK_REFUSED', 'NETWORK_DNS', 'NETWORK_PROXY', 'NETWORK']);

/** The first `code` found on the error or its `cause` chain. */
export function errorCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function allCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

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

/**
 * Reaching a proxy or getting a tunnel through it failed: the proxy refused the connection, could
 * not be resolved, failed the TLS handshake, closed the connection without answering the CONNECT,
 * answered something that is not HTTP, did not answer in time, or answered with a status other
 * than 200. Thrown by the dispatcher (src/hub/create-dispatcher.ts) around undici's CONNECT, so the
 * failure is typed where it happens instead of guessed from codes later. `proxy` is host:port only:
 * a proxy URL may carry user:password, which must never reach a message.
 */
export class ProxyConnectError extends Error {
  override readonly name = 'ProxyConnectError';
  /** host:port of the proxy (never its credentials). */
  readonly proxy: string;
  /** host:port the CONNECT asked for. */
  readonly target: string;
  /** The proxy's answer to the CONNECT, when it answered with a status other than 200. */
  readonly status: number | undefined;
  /** Whether the proxy URL carried credentials (a 407 then means they were rejected). */
  readonly withCredentials: boolean;

  constructor(fields: { proxy: string; target: string; status?: number | undefined; withCredentials?: boolean | undefined }, options: { cause?: unknown } = {}) {
    super(
      fields.status !== undefined
        ? `The proxy ${fields.proxy} answered CONNECT ${fields.target} with ${fields.status}.`
        : `CONNECT ${fields.target} through the proxy ${fields.proxy} failed${codeSuffix(options.cause)}.`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.proxy = fields.proxy;
    this.target = fields.target;
    this.status = fields.status;
    this.withCredentials = fields.withCredentials ?? false;
  }
}

function codeSuffix(error: unknown): string {
  const code = errorCodeOf(error);
  return code ? ` (${code})` : '';
}

/** The ProxyConnectError on `error`'s cause chain, if any. */
export function proxyConnectErrorOf(error: unknown): ProxyConnectError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current && typeof current === 'object'; depth++) {
    if (current instanceof ProxyConnectError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether an error of this class (e.g. undici's HTTPParserError, which has no code) is on the cause chain. */
function hasErrorNamed(error: unknown, name: string): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
    if (current instanceof Error && current.name === name) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** How a proxy failed, from the codes under a ProxyConnectError. Pure. */
type ProxyFailureKind = 'status' | 'auth' | 'refused' | 'dns' | 'tls' | 'closed' | 'timeout' | 'garbage' | 'other';

function proxyFailureKind(failure: ProxyConnectError): ProxyFailureKind {
  if (failure.status === 407) return 'auth';
  if (failure.status !== undefined) return 'status';
  const codes = allCodes(failure.cause);
  const has = (set: ReadonlySet<string>) => codes.some((c) => set.has(c));
  if (has(CODE_SETS.NETWORK_REFUSED)) return 'refused';
  if (has(CODE_SETS.NETWORK_DNS)) return 'dns';
  if (codes.some(isTlsCode)) return 'tls';
  if (has(CODE_SETS.NETWORK_TIMEOUT)) return 'timeout';
  if (codes.some((c) => c.startsWith('HPE_')) || hasErrorNamed(failure.cause, 'HTTPParserError')) return 'garbage';
  if (has(CODE_SETS.NETWORK_RESET)) return 'closed';
  return 'other';
}

function describeProxyFailure(failure: ProxyConnectError, host: string): { message: string; hint: string; systemCode: string | undefined } {
  const { proxy, target } = failure;
  const kind = proxyFailureKind(failure);
  const code = failure.status !== undefined ? `HTTP_${failure.status}` : errorCodeOf(failure.cause);
  const check = 'check HTTPS_PROXY / HTTP_PROXY, or list hosts that need no proxy in NO_PROXY';
  switch (kind) {
    case 'auth':
      return failure.withCredentials
        ? {
            message: `The proxy ${proxy} rejected the credentials in the proxy URL (407 Proxy Authentication Required).`,
            hint: 'Check the user and password in HTTPS_PROXY / HTTP_PROXY (http://user:password@host:port; percent-encode special characters).',
            systemCode: code,
          }
        : {
            message: `The proxy ${proxy} asks for credentials (407 Proxy Authentication Required) to reach ${host}.`,
            hint: 'Put the proxy credentials in the proxy URL: HTTPS_PROXY=http://user:password@host:port (and HTTP_PROXY).',
            systemCode: code,
          };
    case 'status':
      return {
        message: `The proxy ${proxy} refused to open a tunnel to ${target} (it answered CONNECT with ${failure.status}).`,
        hint: `The proxy cannot or may not reach ${host}: ${check}.`,
        systemCode: code,
      };
    case 'refused':
      return { message: `The proxy ${proxy} refused the connection (${code}).`, hint: `Check that the proxy runs at that address: ${check}.`, systemCode: code };
    case 'dns':
      return { message: `The proxy host ${proxy} did not resolve (${code}).`, hint: `Check the proxy's host name: ${check}.`, systemCode: code };
    case 'tls':
      return {
        message: `The TLS handshake with the proxy ${proxy} failed (${code}).`,
        hint: 'If the proxy speaks plain HTTP, write its URL as http://host:port; if it has its own CA, set NODE_EXTRA_CA_CERTS.',
        systemCode: code,
      };
    case 'closed':
      return {
        message: `The proxy ${proxy} closed the connection without answering CONNECT ${target} (${code}).`,
        hint: `The proxy probably cannot reach ${host}: ${check}.`,
        systemCode: code,
      };
    case 'timeout':
      return { message: `The proxy ${proxy} did not answer CONNECT ${target} in time (${code}).`, hint: `Check the proxy: ${check}.`, systemCode: code };
    case 'garbage':
      return {
        message: `The proxy ${proxy} answered CONNECT ${target} with something that is not HTTP (${code}).`,
        hint: `Check that the proxy URL points at an HTTP proxy: ${check}.`,
        systemCode: code,
      };
    default:
      return { message: `CONNECT ${target} through the proxy ${proxy} failed${code ? ` (${code})` : ''}.`, hint: `Check the proxy: ${check}.`, systemCode: code };
  }
}

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

/** Retries a refused connection, an unknown host or a failing proxy gets (see networkRetryLimit). */
export const SHORT_NETWORK_RETRIES = 2;

/**
 * How many retries a network failure deserves. A refused connection, an unknown host or a failing
 * proxy is usually permanent (wrong endpoint, mirror down, proxy that cannot reach the Hub), so it
 * gets two quick retries instead of the full backoff budget that resets and timeouts get: a typo in
 * --endpoint or a broken HTTPS_PROXY should fail in seconds, not half a minute — and must not flood
 * a corporate proxy with CONNECTs.
 */
export function networkRetryLimit(error: NetworkError, maxRetries: number): number {
  return error.code === 'NETWORK_REFUSED' || error.code === 'NETWORK_DNS' || error.code === 'NETWORK_PROXY' ? Math.min(SHORT_NETWORK_RETRIES, maxRetries) : maxRetries;
}

/**
 * Whether a classified network failure is worth another attempt. A proxy's 4xx answer to the
 * CONNECT (407 wants credentials, 403 forbids the host) and a failed TLS handshake with the proxy
 * will be the same on every attempt; a proxy that closed, reset, timed out or answered 5xx may not.
 */
export function isRetryableNetworkError(error: NetworkError): boolean {
  if (!RETRYABLE_CLASSES.has(error.code)) return false;
  const proxyFailure = proxyConnectErrorOf(error);
  if (proxyFailure === undefined) return true;
  if (proxyFailure.status !== undefined) return proxyFailure.status >= 500;
  return proxyFailureKind(proxyFailure) !== 'tls';
}

/**
 * Seconds to wait before retrying a 429/503, as huggingface_hub does: the Hub's
 * `RateLimit: "<bucket>";r=<remaining>;t=<secs>` header → t + 1; else an integer Retry-After → n + 1.
 * HTTP-date Retry-After values are honoured too (huggingface_hub ignores them).
 */
export function retryAfterSeconds(headers: { get(name: string): string | null | undefined }, now = Date.now()): number | undefined {
  const rateLimit = headers.get('ratelimit');
  if (rateLimit) {
    const match = /(?:^|;)\s*t=(\d+)/.exec(rateLimit);
    if (match) return Number(match[1]) + 1;
  }
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter)) return Number(retryAfter) + 1;
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - now) / 1000));
  }
  return undefined;
}

/** Exponential backoff with full jitter: a random delay in [base·2^attempt / 2, base·2^attempt], capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Sleep that stops early (rejecting with the signal's reason) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
