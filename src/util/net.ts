/**
 * Network failure classification and retry policy, shared by the Hub client and the transfer
 * engine. Failures are classified by their error code (undici wraps system errors in `cause`),
 * never by message. Retry policy is data: which statuses and which codes are worth retrying.
 */
import { NetworkError, type ErrorCode } from '../errors.js';

/** Statuses worth retrying (huggingface_hub http_backoff: 408, 429, 500, 502, 503, 504). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

const CODE_CLASSES: ReadonlyArray<[ErrorCode, ReadonlySet<string>]> = [
  ['NETWORK_DNS', new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA'])],
  ['NETWORK_REFUSED', new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'])],
  ['NETWORK_RESET', new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE'])],
  [
    'NETWORK_TIMEOUT',
    new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']),
  ],
  [
    'NETWORK_TLS',
    new Set([
      'CERT_HAS_EXPIRED',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'ERR_SSL_WRONG_VERSION_NUMBER',
      'EPROTO',
    ]),
  ],
];

const RETRYABLE_CLASSES: ReadonlySet<ErrorCode> = new Set(['NETWORK_RESET', 'NETWORK_TIMEOUT', 'NETWORK_REFUSED', 'NETWORK_DNS', 'NETWORK']);

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
 * Codes that, when the request went through a proxy, mean the proxy itself failed: it could not be
 * reached, or it answered the CONNECT with a non-200 (undici's ProxyAgent reports that as a
 * RequestAbortedError, code UND_ERR_ABORTED — callers must rule out their own abort first).
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
      if (codes.some((c) => set.has(c) || (cls === 'NETWORK_TLS' && (c.startsWith('ERR_TLS') || c.startsWith('ERR_SSL') || c.startsWith('CERT_'))))) {
        kind = cls;
        break;
      }
    }
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

/**
 * How many retries a network failure deserves. A refused connection or an unknown host is usually
 * permanent (wrong endpoint, mirror down), so it gets two quick retries instead of the full backoff
 * budget that resets and timeouts get: a typo in --endpoint should fail in seconds, not half a minute.
 */
export function networkRetryLimit(error: NetworkError, maxRetries: number): number {
  return error.code === 'NETWORK_REFUSED' || error.code === 'NETWORK_DNS' || error.code === 'NETWORK_PROXY' ? Math.min(2, maxRetries) : maxRetries;
}

/** Whether a classified network failure is worth another attempt. */
export function isRetryableNetworkError(error: NetworkError): boolean {
  return RETRYABLE_CLASSES.has(error.code);
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
