/**
 * The Hub client: the few requests mlcache makes to the Hub (docs/hub-client.md), on undici
 * `request` with an injected Dispatcher. mlcache follows redirects itself so it decides, per hop,
 * who sees the token: `Authorization` goes only to the Hub's own origin (same scheme, host and
 * port as the endpoint). A CDN never sees it (huggingface_hub file_download.py::
 * _get_metadata_or_catch_error pops it on a cross-host redirect; undici's fetch does the same per
 * whatwg/fetch#1544).
 */
import { createRequire } from 'node:module';
import { request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import type * as ApiSchemasModule from './api-schemas.js';
import { HubHttpError, MlcacheError, NetworkError } from '../errors.js';
import { backoffDelay, classifyNetworkError, isRetryableNetworkError, networkRetryLimit, RETRYABLE_STATUSES, retryAfterSeconds, sleep } from '../util/net.js';
import { redactUrl, registerSecret } from '../util/redact.js';
import { proxyForUrl } from './create-dispatcher.js';
import { errorFromResponse, formatSeconds } from './error-from-response.js';
import { headerGetter, headerValue } from './header-value.js';
import { normalizeEtag } from './normalize-etag.js';
import { nextPageUrl } from './parse-link-header.js';
import { describeRepo, isCommitHash } from './repo-id.js';
import { signedUrlExpiry } from './signed-url-expiry.js';
import type { DirectSource, HubClient, HubClientOptions, RepoFile, RepoRef, ResolvedFile, RevisionInfo, WhoAmI } from './types.js';
import { apiRevisionUrl, apiTreeUrl, isSameOrigin, resolveFileUrl, whoamiUrl } from './urls.js';

const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** API pages are JSON listings; anything larger is not something mlcache asked for. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const MAX_PAGES = 100_000;

let cachedVersion: string | undefined;

/** mlcache's version from package.json (src/hub and dist/hub are both two levels below it). */
function mlcacheVersion(): string {
  if (cachedVersion === undefined) {
    try {
      const pkg = createRequire(import.meta.url)('../../package.json') as { name?: unknown; version?: unknown };
      cachedVersion = pkg.name === 'mlcache' && typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}

/** `mlcache/<version>; node/<version>`, in huggingface_hub's `name/version; name/version` style. */

type ApiSchemas = typeof ApiSchemasModule;
/**
 * The response schemas (and zod with them, ~90 ms of start-up) load on the first JSON answer, not
 * with the client: resolving and downloading files never parses JSON.
 */
function apiSchemas(): Promise<ApiSchemas> {
  return import('./api-schemas.js');
}

export function defaultUserAgent(version: string = mlcacheVersion()): string {
  return `mlcache/${version}; node/${process.versions.node}`;
}

interface Exchange {
  url: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** What a request is about, so error messages can name it. */
interface RequestContext {
  repo?: RepoRef | undefined;
  revision?: string | undefined;
  path?: string | undefined;
}

interface FollowResult {
  /** Every response, in order; the last one is not a redirect (or is the stop point). */
  hops: Exchange[];
  final: Exchange;
  /** With `stopOffOrigin`: the absolute target of the redirect we stopped at (not requested). */
  location?: string | undefined;
}

export function createHubClient(options: HubClientOptions): HubClient {
  const endpoint = options.endpoint.replace(/\/+$/, '');
  const token = options.token && options.token.length > 0 ? options.token : undefined;
  registerSecret(token);
  const dispatcher: Dispatcher = options.dispatcher;
  const userAgent = options.userAgent ?? defaultUserAgent();
  const maxRetries = options.maxRetries ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 1000;
  const maxBackoffMs = options.maxBackoffMs ?? 8000;
  const maxRetryAfterSec = options.maxRetryAfterSec ?? 300;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const signal = options.signal;

  function abortReason(): unknown {
    return signal?.reason ?? new MlcacheError('INTERRUPTED', 'The operation was aborted.');
  }

  /**
   * Each request attempt and each retry pause has its own AbortController; the caller's signal gets
   * ONE listener per client, present only while something is in flight, which aborts them all.
   * A listener per request on the shared signal would trip Node's MaxListenersExceededWarning as
   * soon as more than ten files resolve at once (the engine resolves up to 16), and costs O(n) per
   * add when thousands queue up.
   */
  const active = new Set<AbortController>();
  const onOuterAbort = () => {
    const reason = abortReason();
    for (const controller of active) controller.abort(reason);
  };

  /** A controller for one attempt or pause, aborted with the caller's signal. Call `end()` when done. */
  function begin(): AbortController {
    if (signal?.aborted) throw abortReason();
    const controller = new AbortController();
    if (active.size === 0) signal?.addEventListener('abort', onOuterAbort);
    active.add(controller);
    return controller;
  }

  function end(controller: AbortController): void {
    if (!active.delete(controller)) return;
    if (active.size === 0) signal?.removeEventListener('abort', onOuterAbort);
  }

  /** Headers for `url`: the token only for the Hub's own origin. */
  function headersFor(url: string, extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': userAgent, ...extra };
    if (token !== undefined && isSameOrigin(url, endpoint)) headers.authorization = `Bearer ${token}`;
    return headers;
  }

  function hostOf(url: string): string {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  }

  /** One HTTP exchange, no retries, no redirects. Rejects with NetworkError or the abort reason. */
  async function once(method: 'GET' | 'HEAD', url: string, extraHeaders: Record<string, string>, isError: (status: number) => boolean): Promise<Exchange> {
    const controller = begin();
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
        body = await readText(response.body, isError(status) ? MAX_ERROR_BODY_BYTES : MAX_BODY_BYTES);
      }
      return { url, status, headers, body };
    } catch (error) {
      if (signal?.aborted) throw abortReason();
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
      end(controller);
    }
  }

  /** Wait before attempt `attempt + 1`, telling `onRetry`; rethrows the abort reason promptly. */
  async function pause(url: string, attempt: number, delayMs: number, reason: string): Promise<void> {
    options.onRetry?.({ url: redactUrl(url), attempt: attempt + 1, delayMs, reason });
    const controller = begin();
    try {
      await sleep(delayMs, controller.signal);
    } catch (error) {
      if (signal?.aborted) throw abortReason();
      throw error;
    } finally {
      end(controller);
    }
  }

  /** One hop with retries on 408/429/5xx and retryable network failures (never 401/403/404). */
  async function send(method: 'GET' | 'HEAD', url: string, extraHeaders: Record<string, string>, ctx: RequestContext): Promise<Exchange> {
    const isError = (status: number) => status >= 400;
    for (let attempt = 0; ; attempt++) {
      let exchange: Exchange;
      try {
        exchange = await once(method, url, extraHeaders, isError);
      } catch (error) {
        if (error instanceof NetworkError && isRetryableNetworkError(error) && attempt < networkRetryLimit(error, maxRetries)) {
          await pause(url, attempt, backoffDelay(attempt, baseDelayMs, maxBackoffMs), `${error.code}${error.systemCode ? ` (${error.systemCode})` : ''}`);
          continue;
        }
        throw error;
      }
      if (!RETRYABLE_STATUSES.has(exchange.status)) return exchange;
      let delayMs = backoffDelay(attempt, baseDelayMs, maxBackoffMs);
      if (exchange.status === 429 || exchange.status === 503) {
        const wait = retryAfterSeconds(headerGetter(exchange.headers));
        if (wait !== undefined) {
          // huggingface_hub waits exactly what the Hub asks (utils/_http.py::_http_backoff_base).
          if (wait > maxRetryAfterSec) throw rateLimitedFor(exchange, wait, ctx);
          delayMs = wait * 1000;
        }
      }
      if (attempt >= maxRetries) return exchange;
      await pause(url, attempt, delayMs, `HTTP ${exchange.status}`);
    }
  }

  function rateLimitedFor(exchange: Exchange, wait: number, ctx: RequestContext): HubHttpError {
    const base = toError(exchange, 'GET', ctx);
    const until = new Date(Date.now() + wait * 1000).toISOString();
    return new HubHttpError(
      'RATE_LIMITED',
      `${endpoint} rate-limited the request for ${ctx.repo ? describeRepo(ctx.repo) : redactUrl(exchange.url)} and asks to wait ${formatSeconds(wait)}.`,
      { status: exchange.status, url: base.url, requestId: base.requestId, retryAfter: wait },
      {
        hint: `Run the command again after ${until} (in ${formatSeconds(wait)})${token === undefined ? '; authenticated requests get a higher quota (--token or HF_TOKEN)' : ''}.`,
        details: base.details,
      },
    );
  }

  function toError(exchange: Exchange, method: string, ctx: RequestContext): HubHttpError {
    return errorFromResponse({
      status: exchange.status,
      headers: exchange.headers,
      body: exchange.body,
      url: exchange.url,
      method,
      hasToken: token !== undefined && isSameOrigin(exchange.url, endpoint),
      endpoint,
      repo: ctx.repo,
      revision: ctx.revision,
      path: ctx.path,
    });
  }

  function protocolError(message: string, url: string, hint: string, cause?: unknown): MlcacheError {
    return new MlcacheError('PROTOCOL', message, {
      hint,
      cause,
      details: { url: redactUrl(url) },
    });
  }

  /**
   * Follow redirects ourselves (at most 10), recomputing the headers per hop so Authorization is
   * dropped as soon as a hop leaves the Hub's origin. `stopOffOrigin`: do not request a redirect
   * target on another origin; the redirect is then the last hop (huggingface_hub
   * file_download.py::get_hf_file_metadata stops at the first absolute redirect, the CDN).
   */
  async function follow(
    method: 'GET' | 'HEAD',
    url: string,
    extraHeaders: Record<string, string>,
    ctx: RequestContext,
    stopOffOrigin = false,
  ): Promise<FollowResult> {
    const hops: Exchange[] = [];
    let current = url;
    for (;;) {
      const exchange = await send(method, current, extraHeaders, ctx);
      hops.push(exchange);
      const location = headerValue(exchange.headers, 'location');
      if (REDIRECT_STATUSES.has(exchange.status) && location) {
        if (hops.length > MAX_REDIRECTS) {
          throw protocolError(`Too many redirects (more than ${MAX_REDIRECTS}) starting at ${redactUrl(url)}.`, url, 'Check the endpoint (--endpoint / HF_ENDPOINT) and any proxy in between.');
        }
        let target: string;
        try {
          target = new URL(location, current).toString();
        } catch (error) {
          throw protocolError(`Invalid redirect target from ${redactUrl(current)}.`, current, 'Check the endpoint (--endpoint / HF_ENDPOINT).', error);
        }
        if (stopOffOrigin && !isSameOrigin(target, endpoint)) return { hops, final: exchange, location: target };
        current = target;
        continue;
      }
      if (exchange.status < 200 || exchange.status >= 300) throw toError(exchange, method, ctx);
      return { hops, final: exchange };
    }
  }

  async function parseJson<T>(exchange: Exchange, pick: (schemas: ApiSchemas) => z.ZodType<T>, what: string): Promise<T> {
    const schemas = await apiSchemas();
    const schema = pick(schemas);
    let json: unknown;
    try {
      json = JSON.parse(exchange.body);
    } catch (error) {
      throw protocolError(`${endpoint} answered ${what} with something that is not JSON.`, exchange.url, 'Check the endpoint (--endpoint / HF_ENDPOINT): it must be a Hugging Face Hub or a mirror.', error);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw protocolError(`${endpoint} answered ${what} with unexpected data (${schemas.formatIssues(parsed.error)}).`, exchange.url, 'Check the endpoint (--endpoint / HF_ENDPOINT); if it is the real Hub, please report this.', parsed.error);
    }
    return parsed.data;
  }

  async function resolveRevision(repo: RepoRef, revision: string): Promise<RevisionInfo> {
    // snapshot_download skips repo_info when the revision is already a commit (REGEX_COMMIT_HASH).
    if (isCommitHash(revision)) return { commit: revision, gated: false, private: false };
    void apiSchemas(); // load zod while the request is on its way
    const { final } = await follow('GET', apiRevisionUrl(endpoint, repo, revision), { accept: 'application/json' }, { repo, revision });
    const info = await parseJson(final, (s) => s.ApiRevisionInfoSchema, `the revision info of ${describeRepo(repo)}@${revision}`);
    return { commit: info.sha, gated: info.gated, private: info.private };
  }

  async function revisionFiles(repo: RepoRef, revision: string): Promise<{ commit: string; files: RepoFile[] | undefined }> {
    void apiSchemas();
    const url = `${apiRevisionUrl(endpoint, repo, revision)}?blobs=true`;
    const { final } = await follow('GET', url, { accept: 'application/json' }, { repo, revision });
    const info = await parseJson(final, (s) => s.ApiRevisionFilesSchema, `the revision info of ${describeRepo(repo)}@${revision}`);
    const siblings = info.siblings;
    if (siblings === undefined || siblings.some((f) => f.size === undefined || f.blobId === undefined)) return { commit: info.sha, files: undefined };
    const files = siblings.map((f): RepoFile => ({ path: f.rfilename, size: f.lfs?.size ?? f.size ?? 0, oid: f.blobId ?? '', ...(f.lfs ? { lfs: { oid: f.lfs.sha256, size: f.lfs.size } } : {}) }));
    return { commit: info.sha, files };
  }

  async function listFiles(repo: RepoRef, commit: string): Promise<RepoFile[]> {
    const files: RepoFile[] = [];
    const seen = new Set<string>();
    const listed = new Set<string>();
    let pages = 0;
    let next: string | undefined = apiTreeUrl(endpoint, repo, commit);
    const ctx: RequestContext = { repo, revision: commit };
    while (next !== undefined) {
      if (seen.has(next) || seen.size >= MAX_PAGES) {
        throw protocolError(
          `The file listing of ${describeRepo(repo)} loops: page ${redactUrl(next)} was already read.`,
          next,
          'Run the command again; if it keeps happening, the endpoint is misbehaving (check --endpoint / HF_ENDPOINT).',
        );
      }
      seen.add(next);
      pages++;
      const { final } = await follow('GET', next, { accept: 'application/json' }, ctx);
      const entries = await parseJson(final, (s) => s.ApiTreeEntrySchema.array(), `the file listing of ${describeRepo(repo)}`);
      const { ApiTreeFileSchema, formatIssues } = await apiSchemas();
      for (const [index, entry] of entries.entries()) {
        // The recursive listing names each path once. A repeat means pagination that starts over
        // under new cursors (a page URL check alone would read 100 000 pages first).
        // (Keyed by type too: a file listed where a folder is gets the planner's clearer message.)
        if (entry.path !== undefined) {
          const key = `${entry.type}\0${entry.path}`;
          if (listed.has(key)) {
            throw protocolError(
              `The file listing of ${describeRepo(repo)} names ${JSON.stringify(entry.path)} twice (page ${pages}); its pagination loops or is corrupt.`,
              final.url,
              'Nothing was written. Run the command again; if it keeps happening, the endpoint is misbehaving (check --endpoint / HF_ENDPOINT).',
            );
          }
          listed.add(key);
        }
        if (entry.type !== 'file') continue;
        const parsed = ApiTreeFileSchema.safeParse(entry);
        if (!parsed.success) {
          throw protocolError(
            `${endpoint} listed an invalid file entry in ${describeRepo(repo)} (${entry.path ?? `entry ${index}`}: ${formatIssues(parsed.error)}).`,
            final.url,
            'Check the endpoint (--endpoint / HF_ENDPOINT); if it is the real Hub, please report this.',
            parsed.error,
          );
        }
        const f = parsed.data;
        files.push({
          path: f.path,
          size: f.size,
          oid: f.oid,
          lfs: f.lfs ? { oid: f.lfs.oid, size: f.lfs.size } : undefined,
          xetHash: f.xetHash ?? undefined,
        });
      }
      const link = nextPageUrl(headerValue(final.headers, 'link'), final.url);
      if (link !== undefined && entries.length === 0) {
        // An empty page that promises more would let a server keep us paging forever.
        throw protocolError(
          `The file listing of ${describeRepo(repo)} sent an empty page ${pages} that still points to a next page.`,
          final.url,
          'Nothing was written. Run the command again; if it keeps happening, the endpoint is misbehaving (check --endpoint / HF_ENDPOINT).',
        );
      }
      if (link !== undefined && !isSameOrigin(link, endpoint)) {
        // The token goes with every page; a next link elsewhere would leak it.
        throw protocolError(
          `The file listing of ${describeRepo(repo)} points its next page at another origin (${redactUrl(link)}); mlcache refuses to follow it.`,
          link,
          'Check the endpoint (--endpoint / HF_ENDPOINT) and any proxy or mirror in between.',
        );
      }
      next = link;
    }
    return files;
  }

  function resolveUrl(repo: RepoRef, commit: string, path: string): string {
    return resolveFileUrl(endpoint, repo, commit, path);
  }

  async function resolveFile(repo: RepoRef, commit: string, path: string): Promise<ResolvedFile> {
    // Accept-Encoding: identity so sizes are real byte counts (file_download.py::get_hf_file_metadata).
    const extra = { 'accept-encoding': 'identity' };
    // Same-origin redirects (repo renames) are followed; the first redirect to another origin (the
    // CDN, for LFS files) is where we stop, without requesting it: its Location is the download
    // URL and the Hub's X-Linked-* headers on that redirect are the metadata (huggingface_hub
    // file_download.py::get_hf_file_metadata). One round trip per LFS file instead of two, and the CDN sees only the GET.
    const { hops, final, location } = await follow('HEAD', resolveUrl(repo, commit, path), extra, { repo, revision: commit, path }, true);
    const url = location ?? final.url;
    const isRedirect = REDIRECT_STATUSES.has(final.status);
    const etag = normalizeEtag(headerValue(final.headers, 'x-linked-etag') ?? (isRedirect ? undefined : headerValue(final.headers, 'etag')));
    const sizeText = headerValue(final.headers, 'x-linked-size') ?? (isRedirect ? undefined : headerValue(final.headers, 'content-length'));
    const size = sizeText !== undefined && /^\d+$/.test(sizeText.trim()) ? Number(sizeText.trim()) : undefined;
    const repoCommit = hops.map((h) => headerValue(h.headers, 'x-repo-commit')).find((c) => c !== undefined);
    return {
      url,
      headers: headersFor(url, extra),
      commit: repoCommit,
      etag,
      size,
      expiresAt: signedUrlExpiry(url),
    };
  }

  function directFileSource(repo: RepoRef, commit: string, path: string): DirectSource {
    const url = resolveUrl(repo, commit, path);
    return { url, headers: headersFor(url, { 'accept-encoding': 'identity' }) };
  }

  async function whoami(): Promise<WhoAmI> {
    if (token === undefined) {
      throw new MlcacheError('TOKEN_MISSING', `No token to check against ${endpoint}.`, {
        hint: `Create a token at ${endpoint}/settings/tokens, then pass it with --token or HF_TOKEN.`,
      });
    }
    let final: Exchange;
    try {
      ({ final } = await follow('GET', whoamiUrl(endpoint), { accept: 'application/json' }, {}));
    } catch (error) {
      if (error instanceof HubHttpError && error.status === 401) {
        throw new HubHttpError(
          'TOKEN_INVALID',
          `The token was rejected by ${endpoint}.`,
          { status: 401, url: error.url, requestId: error.requestId },
          { hint: `Create or refresh a token at ${endpoint}/settings/tokens, then pass it with --token or HF_TOKEN.`, cause: error },
        );
      }
      throw error;
    }
    const me = await parseJson(final, (s) => s.ApiWhoAmISchema, 'whoami');
    return { name: me.name, type: me.type };
  }

  return {
    endpoint,
    hasToken: token !== undefined,
    resolveRevision,
    revisionFiles,
    listFiles,
    resolveUrl,
    resolveFile,
    directFileSource,
    whoami,
  };
}

/**
 * `pending`, but rejected with the signal's reason as soon as the signal aborts. undici acts on a
 * request's abort signal only once the request has a connection (lib/api/api-request.js: the abort
 * is applied in onConnect), so a request still waiting for one — a proxy that never answers the
 * CONNECT, a host that never answers the SYN — would keep Ctrl-C and the request timeout waiting
 * for the connect timeout. A response that still arrives later is drained.
 */
function settleOnAbort<T extends { body: { dump(): Promise<unknown> } }>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted', { cause: signal.reason }));
      pending.then(
        (late) => late.body.dump().catch(() => undefined),
        () => undefined,
      );
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Read a body as UTF-8, refusing more than `limit` bytes. */
async function readText(body: AsyncIterable<Buffer | Uint8Array> & { destroy?: (error?: Error) => unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > limit) {
      // An error page larger than this is not worth reading; a listing page this large is wrong.
      if (limit === MAX_ERROR_BODY_BYTES) break;
      body.destroy?.();
      throw new MlcacheError('PROTOCOL', `A Hub API answer was larger than ${limit} bytes.`, {
        hint: 'Check the endpoint (--endpoint / HF_ENDPOINT); if it is the real Hub, please report this.',
      });
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}
