/**
 * The authenticated exchange with a registry: the `/v2/` ping, one request with its retries, its
 * redirects and its one answer to a 401, on undici with the injected Dispatcher.
 *
 * - Every request is bounded: timeouts are the dispatcher's; 5xx/429 and dropped connections on
 *   requests that may be repeated are retried at most MAX_ATTEMPTS times within MAX_RETRY_MS,
 *   with util/net.ts's backoff, honouring Retry-After and the abort signal.
 * - Redirects are followed here, one hop at a time: `Authorization` only on the registry's own
 *   origin (scheme, host and port); storage behind a 307 (S3, GCS) never sees it.
 * - A 401 is answered once per request with what the challenge asks for (auth.ts).
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { MlcacheError } from '../errors.js';
import { createAbortScope, type AbortScope } from '../util/abort-scope.js';
import { backoffDelay, isRetryableNetworkError, networkRetryLimit, RETRYABLE_STATUSES, retryAfterSeconds } from '../util/net.js';
import { redact } from '../util/redact.js';
import { wwwAuthenticateOf, type Authenticator } from './auth.js';
import { header, isSameOrigin, registryNetworkError, resolveLocation, send, type Reply, type SendOptions } from './http.js';
import { parseRegistryErrorBody, registryError, type RegistryOperation } from './registry-error.js';

export const MAX_ATTEMPTS = 5;
export const MAX_RETRY_MS = 120_000;
export const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;
export const MAX_REDIRECTS = 5;
export const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export interface RequestSpec {
  method: SendOptions['method'];
  /** Absolute URL. */
  url: string;
  /** Token scopes the request needs (credentials go only to the registry's origin). */
  scopes: readonly string[];
  headers?: Record<string, string> | undefined;
  /** A body, or a factory for one (called again when the request is repeated after a 401). */
  body?: Buffer | (() => Readable) | undefined;
  maxBody?: number | undefined;
  /** Follow redirects (GET/HEAD); otherwise a 3xx is returned. */
  follow?: boolean | undefined;
  /** Retry 5xx/429/dropped connections (only for requests that may be repeated). */
  retry?: boolean | undefined;
  /** For messages: e.g. `GET manifest models/x:main`. */
  what: string;
  signal?: AbortSignal | undefined;
}

/** What manifest, blob and upload operations are given: the exchange and the facts around it. */
export interface RegistryRequester {
  readonly registry: string;
  readonly baseUrl: string;
  readonly userAgent: string;
  readonly dispatcher: Dispatcher;
  readonly auth: Authenticator;
  /** `GET /v2/` once per client (again after a network failure). */
  ping(): Promise<void>;
  request(spec: RequestSpec): Promise<Reply>;
  fail(reply: Reply, spec: { what: string; operation: RegistryOperation; scopes: readonly string[] }): MlcacheError;
  warn(message: string): void;
  readonly aborts: AbortScope;
  /** Base of the retry backoff, ms. */
  readonly baseDelayMs: number;
}

export interface RegistryExchangeOptions {
  registry: string;
  baseUrl: string;
  userAgent: string;
  dispatcher: Dispatcher;
  auth: Authenticator;
  signal?: AbortSignal | undefined;
  /** @default BASE_DELAY_MS */
  baseDelayMs?: number | undefined;
  /** Receives every warning, already redacted. */
  onWarning?: ((message: string) => void) | undefined;
}

/** PROTOCOL: more than MAX_REDIRECTS redirects for one request. */
export function tooManyRedirects(registry: string, what: string): MlcacheError {
  return new MlcacheError('PROTOCOL', `${registry} redirected ${what} more than ${MAX_REDIRECTS} times.`, { hint: 'The registry or its storage is misconfigured; report it to its operator.' });
}

export function createRegistryExchange(options: RegistryExchangeOptions): RegistryRequester {
  const { registry, baseUrl, userAgent, dispatcher, auth } = options;
  const aborts = createAbortScope(options.signal);
  const baseDelayMs = options.baseDelayMs ?? BASE_DELAY_MS;
  const warn = (message: string) => options.onWarning?.(redact(message));
  let pinged: Promise<void> | undefined;

  /**
   * `GET /v2/` once (spec.md "Determining support"): 200 or 401 means a registry, and a 401's
   * challenge tells how to authenticate before the first real request.
   */
  function ping(): Promise<void> {
    pinged ??= (async () => {
      const reply = await exchange({ method: 'GET', url: `${baseUrl}/v2/`, scopes: [], what: 'GET /v2/', retry: true, skipPing: true, anonymous: true });
      if (reply.status === 401) {
        auth.learn(wwwAuthenticateOf(reply.headers));
        return;
      }
      const apiVersion = header(reply.headers, 'docker-distribution-api-version');
      if (reply.status === 200 || (apiVersion !== undefined && apiVersion.startsWith('registry/2'))) return;
      throw new MlcacheError('REGISTRY_UNSUPPORTED', `${baseUrl}/v2/ answered ${reply.status}: ${registry} does not look like an OCI registry.`, {
        hint: 'Check the registry address (host[:port] of an OCI distribution registry).',
      });
    })();
    pinged.catch(() => {
      pinged = undefined; // a failed ping (network) is tried again by the next request
    });
    return pinged;
  }

  async function exchange(spec: RequestSpec & { skipPing?: boolean; anonymous?: boolean }): Promise<Reply> {
    if (spec.skipPing !== true) await ping();
    const started = Date.now();
    let attempt = 0;
    let url = spec.url;
    let hops = 0;
    let reauthorized = false;
    let authorization = spec.anonymous === true ? undefined : await auth.authorization(spec.scopes);
    for (;;) {
      const onRegistry = isSameOrigin(url, baseUrl);
      const headers: Record<string, string> = { 'user-agent': userAgent, ...(spec.headers ?? {}) };
      if (onRegistry && authorization !== undefined) headers.authorization = authorization;
      const controller = aborts.begin(spec.signal);
      let reply: Reply;
      try {
        const body = typeof spec.body === 'function' ? spec.body() : spec.body;
        reply = await send(dispatcher, { method: spec.method, url, headers, body, maxBody: spec.maxBody, signal: controller.signal });
      } catch (error) {
        if (controller.signal.aborted) throw controller.signal.reason ?? aborts.reason();
        const network = registryNetworkError(error, new URL(url).host);
        // A refused connection or an unknown host gets two quick retries, not the whole budget (util/net.ts).
        const retries = networkRetryLimit(network, MAX_ATTEMPTS - 1);
        if (spec.retry === true && isRetryableNetworkError(network) && attempt < retries && (await pause(attempt++, started, undefined, `${spec.what}: ${network.message}`, spec.signal, retries + 1))) continue;
        throw network;
      } finally {
        controller.done();
      }
      if (reply.status === 401 && onRegistry && !reauthorized && spec.anonymous !== true) {
        reauthorized = true;
        authorization = await auth.unauthorized(wwwAuthenticateOf(reply.headers), spec.scopes, authorization, spec.what);
        continue;
      }
      if (spec.follow === true && REDIRECTS.has(reply.status)) {
        if (++hops > MAX_REDIRECTS) throw tooManyRedirects(registry, spec.what);
        url = resolveLocation(header(reply.headers, 'location'), url, registry);
        continue;
      }
      if (spec.retry === true && RETRYABLE_STATUSES.has(reply.status)) {
        const retryAfter = retryAfterSeconds({ get: (n) => header(reply.headers, n) });
        if (await pause(attempt++, started, retryAfter, `${spec.what}: ${registry} answered ${reply.status}`, spec.signal)) continue;
      }
      return reply;
    }
  }

  /** Wait before attempt `attempt + 1`; false when the attempts or the time budget are spent. */
  async function pause(attempt: number, started: number, retryAfterSec: number | undefined, why: string, extra?: AbortSignal, attempts = MAX_ATTEMPTS): Promise<boolean> {
    if (attempt + 1 >= attempts) return false;
    const delay = retryAfterSec !== undefined ? Math.min(retryAfterSec * 1000, MAX_DELAY_MS * 4) : backoffDelay(attempt, baseDelayMs, MAX_DELAY_MS);
    if (Date.now() - started + delay > MAX_RETRY_MS) return false;
    warn(`${why.replace(/\.$/, '')}; retrying in ${(delay / 1000).toFixed(1)} s (attempt ${attempt + 2} of ${attempts}).`);
    await aborts.sleep(delay, extra);
    return true;
  }

  function fail(reply: Reply, spec: { what: string; operation: RegistryOperation; scopes: readonly string[] }): MlcacheError {
    return registryError({
      status: reply.status,
      body: parseRegistryErrorBody(reply.body),
      registry,
      what: spec.what,
      operation: spec.operation,
      scope: spec.scopes.length > 0 ? spec.scopes.join(' ') : undefined,
    });
  }

  return { registry, baseUrl, userAgent, dispatcher, auth, ping, request: (spec) => exchange(spec), fail, warn, aborts, baseDelayMs };
}
