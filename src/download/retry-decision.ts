/**
 * Retry policy as data (docs/download.md): which answers are worth another attempt, which mean the
 * signed CDN URL expired, which are a deterministic lie, and which are final; and, per failed
 * attempt, what to do next (`decideRetry`). Pure: the range runner feeds it counters and clocks.
 */
import { HubHttpError, type ErrorCode } from '../errors.js';
import { backoffDelay, RETRYABLE_STATUSES } from '../util/net.js';
import { redactUrl } from '../util/redact.js';
import type { RetryPolicy } from './types.js';

export type StatusVerdict = 'ok' | 'expired' | 'redirect' | 'transient' | 'fatal';

/** Redirects the engine never follows itself (the source's headers may carry Authorization). */
const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * 403/410 from a signed CDN URL usually means the signature expired (S3/CloudFront answer 403
 * "Request has expired"; hfd/aria2 users hit it after ~1 h): resolve the URL again once.
 */
export function classifyStatus(status: number, options: { refreshOnUnauthorized?: boolean | undefined } = {}): StatusVerdict {
  if (status === 200 || status === 206) return 'ok';
  if (status === 403 || status === 410) return 'expired';
  // A registry's bearer token lives minutes (distribution's token server: expires_in 60–300 s); a
  // long pull sees 401 when it runs out. The source says so, and resolving again refreshes it.
  if (status === 401 && options.refreshOnUnauthorized === true) return 'expired';
  // A source URL that redirects (a Hub resolve URL fetched directly that turned out to be an LFS
  // file, or a moved repo): resolve the URL again rather than follow it with our headers.
  if (REDIRECTS.has(status)) return 'redirect';
  if (RETRYABLE_STATUSES.has(status) || (status >= 500 && status <= 599)) return 'transient';
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
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterSeconds !== undefined) return Math.min(600_000, Math.max(0, retryAfterSeconds * 1000));
  return backoffDelay(attempt - 1, policy.baseDelayMs, policy.maxDelayMs, random);
}

/**
 * How an attempt failed, as far as retrying goes:
 * - `transient`: resets, timeouts, stalls, 5xx, 429 — the same request may well work later: back
 *   off and retry, within the budget in attempts and time.
 * - `lie`: a deterministic protocol violation — a wrong Content-Range, a body longer or shorter
 *   than the size the Hub announced, a 200 instead of 206. The same URL will tell the same lie, so
 *   backing off only burns minutes (undici's RetryHandler likewise fails a mismatched
 *   Content-Range at once): one fresh attempt with a re-resolved URL (a new CDN node or signature),
 *   then the file fails.
 * - `expired` / `redirect`: the signed URL expired (403/410) or the source redirects: resolve the
 *   URL again, once per lack of progress.
 * - `fatal`: 401, 404, a disk error: no retry.
 */
export type FailureClass = 'transient' | 'lie' | 'expired' | 'redirect' | 'fatal';

export interface AttemptFailure {
  kind: FailureClass;
  /** Server-announced wait (Retry-After / RateLimit), seconds. */
  retryAfterSeconds?: number | undefined;
  /** The source generation the attempt used (bumped each time the URL is resolved again). */
  generation: number;
}

/** What a range has been through since its budget last started over (real progress resets it). */
export interface RetryBudgetState {
  /** Transient failures since the last real progress. */
  attempts: number;
  /** When the budget started (the range's first attempt, or its last real progress), ms. */
  since: number;
  /** Item-wide: the source generation a lie or expiry made us resolve; undefined if none yet. */
  refreshedGeneration: number | undefined;
}

export type RetryDecision =
  | { action: 'retry'; attempt: number; delayMs: number }
  | { action: 'refresh'; why: 'lie' | 'expired' | 'redirect' }
  | { action: 'fail'; why: string };

/**
 * The next step after a failed attempt. `now` and `random` are injected (pure). A server-announced
 * wait longer than what is left of the time budget fails at once instead of sleeping past it.
 */
export function decideRetry(
  failure: AttemptFailure,
  state: RetryBudgetState,
  policy: RetryPolicy,
  now: number,
  random: () => number = Math.random,
): RetryDecision {
  switch (failure.kind) {
    case 'fatal':
      return { action: 'fail', why: 'not retryable' };
    case 'lie':
    case 'expired':
    case 'redirect':
      // One fresh URL per lie or expiry; an attempt that already used it failing the same way is final.
      if (state.refreshedGeneration !== undefined && failure.generation >= state.refreshedGeneration) {
        return { action: 'fail', why: failure.kind === 'lie' ? 'the same answer again after a fresh URL' : 'again after a fresh URL' };
      }
      return { action: 'refresh', why: failure.kind };
    case 'transient': {
      const attempt = state.attempts + 1;
      if (attempt > policy.maxRetries) return { action: 'fail', why: `${policy.maxRetries} retries without progress` };
      const delayMs = retryDelayMs(attempt, policy, failure.retryAfterSeconds, random);
      const elapsed = now - state.since;
      if (elapsed + delayMs > policy.maxElapsedMs) {
        return { action: 'fail', why: `retrying for more than ${Math.round(policy.maxElapsedMs / 1000)} s without progress` };
      }
      return { action: 'retry', attempt, delayMs };
    }
  }
}
