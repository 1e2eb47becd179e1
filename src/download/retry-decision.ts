/**
 * Retry policy as data (style.md §10): which answers are worth another attempt, which mean the
 * signed CDN URL expired, and which are final. Pure.
 */
import { HubHttpError, type ErrorCode } from '../errors.js';
import { backoffDelay, RETRYABLE_STATUSES } from '../util/net.js';
import { redactUrl } from '../util/redact.js';
import type { RetryPolicy } from './types.js';

export type StatusVerdict = 'ok' | 'expired' | 'redirect' | 'retry' | 'fatal';

/** Redirects the engine never follows itself (the source's headers may carry Authorization). */
const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * 403/410 from a signed CDN URL usually means the signature expired (S3/CloudFront answer 403
 * "Request has expired"; hfd/aria2 users hit it after ~1 h): resolve the URL again once.
 */
export function classifyStatus(status: number): StatusVerdict {
  if (status === 200 || status === 206) return 'ok';
  if (status === 403 || status === 410) return 'expired';
  // A source URL that redirects (a Hub resolve URL fetched directly that turned out to be an LFS
  // file, or a moved repo): resolve the URL again rather than follow it with our headers.
  if (REDIRECTS.has(status)) return 'redirect';
  if (RETRYABLE_STATUSES.has(status) || (status >= 500 && status <= 599)) return 'retry';
  return 'fatal';
}

const CODES: Record<number, ErrorCode> = { 401: 'FORBIDDEN', 403: 'FORBIDDEN', 404: 'ENTRY_NOT_FOUND', 410: 'ENTRY_NOT_FOUND', 416: 'PROTOCOL', 429: 'RATE_LIMITED' };

/** The typed error for a final (or finally exhausted) HTTP status. */
export function statusError(
  status: number,
  url: string,
  fields: { requestId?: string | undefined; retryAfter?: number | undefined; label?: string } = {},
): HubHttpError {
  const code: ErrorCode = CODES[status] ?? (status >= 500 ? 'SERVER_ERROR' : status >= 300 && status < 400 ? 'PROTOCOL' : 'BAD_REQUEST');
  const what = fields.label ? ` for ${fields.label}` : '';
  const hints: Partial<Record<ErrorCode, string>> = {
    FORBIDDEN: 'Check your token and that you accepted the repository\'s terms on the Hub, then run the command again.',
    ENTRY_NOT_FOUND: 'The file is gone from the server: check the revision, then run the command again.',
    PROTOCOL: 'The server does not follow the HTTP range protocol; run the command again, or report the mirror/proxy you use.',
    RATE_LIMITED: 'You are being rate limited: wait a few minutes (or log in with a token) and run the command again.',
    SERVER_ERROR: 'The server keeps failing: try again later; finished ranges are kept.',
    BAD_REQUEST: 'The server rejected the request: run the command again, and report it if it persists.',
  };
  return new HubHttpError(
    code,
    `HTTP ${status}${what} from ${redactUrl(url)}.`,
    { status, url: redactUrl(url), requestId: fields.requestId, retryAfter: fields.retryAfter },
    { hint: hints[code] },
  );
}

/**
 * Delay before attempt number `attempt` (1 = first retry). A server-announced wait (Retry-After /
 * RateLimit, seconds) wins over backoff, capped at 10 minutes so a bogus header cannot hang a run.
 */
export function retryDelayMs(
  attempt: number,
  policy: RetryPolicy,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterSeconds !== undefined) return Math.min(600_000, Math.max(0, retryAfterSeconds * 1000));
  return backoffDelay(attempt - 1, policy.baseDelayMs, policy.maxDelayMs, random);
}
