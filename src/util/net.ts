/**
 * Network failures and retries, shared by the Hub client, the registry client and the transfer
 * engine. One import for the pieces, which live in:
 * - network-codes.ts: the error codes of each failure class (pure);
 * - proxy-connect-error.ts: a failed CONNECT through a proxy, and what to say about it;
 * - classify-network-error.ts: a low-level failure → NetworkError (by code, never by message);
 * - retry-policy.ts: retryable statuses and failures, retry counts, Retry-After / RateLimit;
 * - backoff.ts: the backoff delay (equal jitter) and an abortable sleep.
 */
export { errorCodeOf } from './network-codes.js';
export { ProxyConnectError, proxyConnectErrorOf } from './proxy-connect-error.js';
export { classifyNetworkError, type ClassifyNetworkErrorOptions } from './classify-network-error.js';
export { isRetryableNetworkError, networkRetryLimit, RETRYABLE_STATUSES, retryAfterSeconds, SHORT_NETWORK_RETRIES } from './retry-policy.js';
export { backoffDelay, sleep } from './backoff.js';
