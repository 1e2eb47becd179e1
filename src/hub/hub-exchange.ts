/**
 * The exchange with the Hub: one request, its retries and its redirects, on undici `request` with
 * the injected Dispatcher. It owns the rule "the token only goes to the Hub's origin": mlcache
 * follows redirects itself so it decides, per hop, who sees the token — `Authorization` goes only
 * to the Hub's own origin (same scheme, host and port as the endpoint), a CDN never sees it
 * (huggingface_hub file_download.py::_get_metadata_or_catch_error pops it on a cross-host
 * redirect; undici's fetch does the same per whatwg/fetch#1544).
 */
import { request, type Dispatcher } from 'undici';
import { HubHttpError, MlcacheError, NetworkError } from '../errors.js';
import { createAbortScope } from '../util/abort-scope.js';
import { backoffDelay, classifyNetworkError, isRetryableNetworkError, networkRetryLimit, RETRYABLE_STATUSES, retryAfterSeconds } from '../util/net.js';
import { redactUrl } from '../util/redact.js';
import { protocolError } from './api-json.js';
import { proxyForUrl } from './create-dispatcher.js';
import { errorFromResponse, formatSeconds } from './error-from-response.js';
import { headerGetter, headerValue } from './header-value.js';
import { REDIRECT_STATUSES, type HubResponse } from './hub-response.js';
import { readText, settleOnAbort } from './read-response.js';
import { describeRepo } from './repo-id.js';
import type { RepoRef } from './types.js';
import { isSameOrigin } from './urls.js';

const MAX_REDIRECTS = 10;

/** What a request is about, so error messages can name it. */
export interface RequestContext {
  repo?: RepoRef | undefined;
  revision?: string | undefined;
  path?: string | undefined;
}

export interface FollowResult {
  /** Every response, in order; the last one is not a redirect (or is the stop point). */
  hops: HubResponse[];
  final: HubResponse;
  /** With `stopOffOrigin`: the absolute target of the redirect we stopped at (not requested). */
  location?: string | undefined;
}

/** Everything the exchange needs, defaults already applied (createHubClient applies them). */
export interface HubExchangeOptions {
  /** Hub origin without trailing slash. */
  endpoint: string;
  /** Undefined when there is no token (an empty one counts as none). */
  token: string | undefined;
  dispatcher: Dispatcher;
  userAgent: string;
  maxRetries: number;
  baseDelayMs: number;
  maxBackoffMs: number;
  maxRetryAfterSec: number;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  onRetry?: ((info: { url: string; attempt: number; delayMs: number; reason: string }) => void) | undefined;
}

export interface HubExchange {
  readonly endpoint: string;
  readonly token: string | undefined;
  /** Headers for `url`: the user agent, `extra`, and the token only for the Hub's own origin. */
  headersFor(url: string, extra?: Record<string, string>): Record<string, string>;
  /**
   * Follow redirects ourselves (at most 10), recomputing the headers per hop so Authorization is
   * dropped as soon as a hop leaves the Hub's origin. `stopOffOrigin`: do not request a redirect
   * target on another origin; the redirect is then the last hop (huggingface_hub
   * file_download.py::get_hf_file_metadata stops at the first absolute redirect, the CDN).
   * A final status outside 2xx is thrown as a HubHttpError.
   */
  follow(method: 'GET' | 'HEAD', url: string, extraHeaders: Record<string, string>, ctx: RequestContext, stopOffOrigin?: boolean): Promise<FollowResult>;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function createHubExchange(options: HubExchangeOptions): HubExchange {
  const { endpoint, token, dispatcher, userAgent, maxRetries, baseDelayMs, maxBackoffMs, maxRetryAfterSec, timeoutMs, signal } = options;
  const aborts = createAbortScope(signal);

  function headersFor(url: string, extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': userAgent, ...extra };
    if (token !== undefined && isSameOrigin(url, endpoint)) headers.authorization = `Bearer ${token}`;
    return headers;
  }

  /** One HTTP exchange, no retries, no redirects. Rejects with NetworkError or the abort reason. */
  async function once(method: 'GET' | 'HEAD', url: string, extraHeaders: Record<string, string>): Promise<HubResponse> {
    const controller = aborts.begin();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('timeout'));
    }, timeoutMs);
    try {
      // undici 7 never follows redirects unless the redirect interceptor is installed, which
      // mlcache does not do: every 3xx comes back here (the `maxRedirections: 0` of undici 6).
      const response = await settleOnAbort(request(url, { method, headers: headersFor(url, extraHeaders), dispatcher, signal: controller.signal }), controller.signal);
      const status = response.statusCode;
      const headers = response.headers as Record<string, string | string[] | undefined>;
      let body = '';
      if (method === 'HEAD' || REDIRECT_STATUSES.has(status)) {
        await response.body.dump();
      } else {
        body = await readText(response.body, status >= 400);
      }
      return { url, status, headers, body };
    } catch (error) {
      if (signal?.aborted) throw aborts.reason();
      if (timedOut) {
        const host = hostOf(url);
        throw new NetworkError(
          'NETWORK_TIMEOUT',
          `No complete answer from ${host} within ${formatSeconds(timeoutMs / 1000)} (${method} ${redactUrl(url)}).`,
          { systemCode: 'ETIMEDOUT', host },
          { hint: `${host} is slow or unreachable: check your connection and run the command again.`, cause: error },
        );
      }
      if (error instanceof MlcacheError) throw error;
      throw classifyNetworkError(error, hostOf(url), { proxy: proxyForUrl(dispatcher, url) });
    } finally {
      clearTimeout(timer);
      controller.done();
    }
  }

  /** Wait before attempt `attempt + 1`, telling `onRetry`; rethrows the abort reason promptly. */
  async function pause(url: string, attempt: number, delayMs: number, reason: string): Promise<void> {
    options.onRetry?.({ url: redactUrl(url), attempt: attempt + 1, delayMs, reason });
    try {
      await aborts.sleep(delayMs);
    } catch (error) {
      if (signal?.aborted) throw aborts.reason();
      throw error;
    }
  }

  /** One hop with retries on 408/429/5xx and retryable network failures (never 401/403/404). */
  async function send(method: 'GET' | 'HEAD', url: string, extraHeaders: Record<string, string>, ctx: RequestContext): Promise<HubResponse> {
    for (let attempt = 0; ; attempt++) {
      let response: HubResponse;
      try {
        response = await once(method, url, extraHeaders);
      } catch (error) {
        if (error instanceof NetworkError && isRetryableNetworkError(error) && attempt < networkRetryLimit(error, maxRetries)) {
          await pause(url, attempt, backoffDelay(attempt, baseDelayMs, maxBackoffMs), `${error.code}${error.systemCode ? ` (${error.systemCode})` : ''}`);
          continue;
        }
        throw error;
      }
      if (!RETRYABLE_STATUSES.has(response.status)) return response;
      let delayMs = backoffDelay(attempt, baseDelayMs, maxBackoffMs);
      if (response.status === 429 || response.status === 503) {
        const wait = retryAfterSeconds(headerGetter(response.headers));
        if (wait !== undefined) {
          // huggingface_hub waits exactly what the Hub asks (utils/_http.py::_http_backoff_base).
          if (wait > maxRetryAfterSec) throw rateLimitedFor(response, wait, ctx);
          delayMs = wait * 1000;
        }
      }
      if (attempt >= maxRetries) return response;
      await pause(url, attempt, delayMs, `HTTP ${response.status}`);
    }
  }

  function rateLimitedFor(response: HubResponse, wait: number, ctx: RequestContext): HubHttpError {
    const base = toError(response, 'GET', ctx);
    const until = new Date(Date.now() + wait * 1000).toISOString();
    return new HubHttpError(
      'RATE_LIMITED',
      `${endpoint} rate-limited the request for ${ctx.repo ? describeRepo(ctx.repo) : redactUrl(response.url)} and asks to wait ${formatSeconds(wait)}.`,
      { status: response.status, url: base.url, requestId: base.requestId, retryAfter: wait },
      {
        hint: `Run the command again after ${until} (in ${formatSeconds(wait)})${token === undefined ? '; authenticated requests get a higher quota (--token or HF_TOKEN)' : ''}.`,
        details: base.details,
      },
    );
  }

  function toError(response: HubResponse, method: string, ctx: RequestContext): HubHttpError {
    return errorFromResponse({
      status: response.status,
      headers: response.headers,
      body: response.body,
      url: response.url,
      method,
      hasToken: token !== undefined && isSameOrigin(response.url, endpoint),
      endpoint,
      repo: ctx.repo,
      revision: ctx.revision,
      path: ctx.path,
    });
  }

  async function follow(method: 'GET' | 'HEAD', url: string, extraHeaders: Record<string, string>, ctx: RequestContext, stopOffOrigin = false): Promise<FollowResult> {
    const hops: HubResponse[] = [];
    let current = url;
    for (;;) {
      const response = await send(method, current, extraHeaders, ctx);
      hops.push(response);
      const location = headerValue(response.headers, 'location');
      if (REDIRECT_STATUSES.has(response.status) && location) {
        if (hops.length > MAX_REDIRECTS) {
          throw protocolError(`Too many redirects (more than ${MAX_REDIRECTS}) starting at ${redactUrl(url)}.`, url, 'Check the endpoint (--endpoint / HF_ENDPOINT) and any proxy in between.');
        }
        let target: string;
        try {
          target = new URL(location, current).toString();
        } catch (error) {
          throw protocolError(`Invalid redirect target from ${redactUrl(current)}.`, current, 'Check the endpoint (--endpoint / HF_ENDPOINT).', error);
        }
        if (stopOffOrigin && !isSameOrigin(target, endpoint)) return { hops, final: response, location: target };
        current = target;
        continue;
      }
      if (response.status < 200 || response.status >= 300) throw toError(response, method, ctx);
      return { hops, final: response };
    }
  }

  return { endpoint, token, headersFor, follow };
}
