/**
 * Retry policy as data, shared by the Hub client, the registry client and the transfer engine:
 * which statuses and which network failures are worth another attempt, how many, and how long a
 * server asks to wait.
 */
import type { ErrorCode, NetworkError } from '../errors.js';
import { proxyConnectErrorOf, proxyFailureKind } from './proxy-connect-error.js';

/** Statuses worth retrying (huggingface_hub http_backoff: 408, 429, 500, 502, 503, 504). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

const RETRYABLE_CLASSES: ReadonlySet<ErrorCode> = new Set(['NETWORK_RESET', 'NETWORK_TIMEOUT', 'NETWORK_REFUSED', 'NETWORK_DNS', 'NETWORK_PROXY', 'NETWORK']);

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
