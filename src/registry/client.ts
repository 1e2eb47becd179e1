/**
 * The OCI registry client (opencontainers/distribution-spec v1.1 spec.md: "Pulling manifests",
 * "Pulling blobs", "Pushing blobs", "Pushing manifests"), on undici with the injected Dispatcher.
 *
 * - Every request is bounded: timeouts are the dispatcher's; 5xx/429 and dropped connections on
 *   manifest, HEAD and token requests are retried at most MAX_ATTEMPTS times within MAX_RETRY_MS,
 *   with util/net.ts's backoff, honouring Retry-After and the abort signal.
 * - Redirects are followed here, one hop at a time: `Authorization` only on the registry's own
 *   origin (scheme, host and port); storage behind a 307 (S3, GCS) never sees it.
 * - A 401 is answered once per request with what the challenge asks for (auth.ts).
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { IntegrityError, MlcacheError } from '../errors.js';
import type { TransferSource } from '../download/types.js';
import { backoffDelay, isRetryableNetworkError, networkRetryLimit, RETRYABLE_STATUSES, retryAfterSeconds, sleep } from '../util/net.js';
import { cutValue } from '../util/cut-value.js';
import { redact } from '../util/redact.js';
import { createAuthenticator, wwwAuthenticateOf } from './auth.js';
import { header, isSameOrigin, registryNetworkError, resolveLocation, send, type Reply, type SendOptions } from './http.js';
import { isValidDigest, isValidTag, verifyDigest, verifyRepositoryName } from './reference.js';
import { parseRegistryErrorBody, registryError, type RegistryOperation } from './registry-error.js';
import { repositoryScope } from './scope.js';
import type { BlobUpload, ManifestResponse, RegistryClient, RegistryClientOptions, UploadResult } from './types.js';
import { uploadBlob as runUpload } from './upload.js';

/** distribution's `maxManifestBodySize` (registry/handlers/manifests.go): 4 MiB. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_ATTEMPTS = 5;
export const MAX_RETRY_MS = 120_000;
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;
const MAX_REDIRECTS = 5;
const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** What a manifest GET accepts: OCI and Docker manifests and indexes. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.artifact.manifest.v1+json',
].join(', ');

/** Loopback hosts (and `localhost`), which may be reached over plain HTTP without --insecure-registry. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = hostOf(registry);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** `host` of `host[:port]` (brackets of an IPv6 literal removed), lower case. */
function hostOf(registry: string): string {
  const r = registry.toLowerCase();
  if (r.startsWith('[')) return r.slice(1, r.indexOf(']'));
  const colon = r.lastIndexOf(':');
  return colon >= 0 ? r.slice(0, colon) : r;
}

/**
 * Whether to speak plain HTTP to `registry`: a loopback host, or one listed in `insecureHosts`
 * (`host` or `host:port`, from --insecure-registry / MLCACHE_INSECURE_REGISTRY). Docker treats
 * 127.0.0.0/8 as insecure by default the same way.
 */
export function defaultInsecure(registry: string, insecureHosts: readonly string[] = []): boolean {
  return isLoopbackRegistry(registry) || isListedInsecure(registry, insecureHosts);
}

function isListedInsecure(registry: string, insecureHosts: readonly string[]): boolean {
  const r = registry.toLowerCase();
  return insecureHosts.some((h) => {
    const listed = h.toLowerCase().replace(/^https?:\/\//, '').replace(/\/+$/, '');
    return listed === r || listed === hostOf(r);
  });
}

/**
 * Stops when the caller's signal aborts. Every in-flight attempt has its own controller; each
 * outside signal (the client's, an upload's) gets ONE listener however many attempts wait on it —
 * a listener per request on a run-wide signal would trip Node's MaxListenersExceededWarning as soon
 * as more than ten requests are in flight (src/hub/create-hub-client.ts does the same).
 */
interface Aborts {
  begin(extra?: AbortSignal): AbortController & { done(): void };
  reason(): unknown;
  signal: AbortSignal | undefined;
}

const interrupted = (): MlcacheError => new MlcacheError('INTERRUPTED', 'The operation was aborted.');

/** Controllers waiting on each outside signal, and that signal's one listener. */
const linked = new WeakMap<AbortSignal, { controllers: Set<AbortController>; onAbort: () => void }>();

function link(signal: AbortSignal, controller: AbortController): () => void {
  let entry = linked.get(signal);
  if (entry === undefined) {
    const controllers = new Set<AbortController>();
    const onAbort = () => {
      for (const c of controllers) c.abort(signal.reason ?? interrupted());
    };
    entry = { controllers, onAbort };
    linked.set(signal, entry);
  }
  const { controllers, onAbort } = entry;
  if (controllers.size === 0) signal.addEventListener('abort', onAbort);
  controllers.add(controller);
  return () => {
    if (!controllers.delete(controller)) return;
    if (controllers.size === 0) signal.removeEventListener('abort', onAbort);
  };
}

function createAborts(signal: AbortSignal | undefined): Aborts {
  const reason = (): unknown => signal?.reason ?? interrupted();
  return {
    signal,
    reason,
    begin(extra) {
      if (signal?.aborted) throw reason();
      if (extra?.aborted) throw extra.reason ?? interrupted();
      const controller = new AbortController() as AbortController & { done(): void };
      const unlinks = [signal, extra === signal ? undefined : extra].filter((s): s is AbortSignal => s !== undefined).map((s) => link(s, controller));
      controller.done = () => {
        for (const unlink of unlinks) unlink();
      };
      return controller;
    },
  };
}

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

export interface RegistryRequester {
  readonly registry: string;
  readonly baseUrl: string;
  request(spec: RequestSpec): Promise<Reply>;
  fail(reply: Reply, spec: { what: string; operation: RegistryOperation; scopes: readonly string[] }): MlcacheError;
  warn(message: string): void;
  readonly aborts: Aborts;
  /** Base of the retry backoff, ms. */
  readonly baseDelayMs: number;
}

/**
 * Extra options beyond the contract in types.ts (source-compatible: all optional).
 */
export interface RegistryClientExtraOptions {
  /** Hosts allowed over plain HTTP besides loopback (--insecure-registry, Settings.registry.insecure). */
  insecureHosts?: readonly string[] | undefined;
  /** Retry pacing; tests shorten it. @default 500 */
  retryBaseDelayMs?: number | undefined;
}

export function createRegistryClient(options: RegistryClientOptions & RegistryClientExtraOptions): RegistryClient & { readonly tokensFetched: number } {
  const registry = options.registry.toLowerCase();
  const insecure = options.insecure === true;
  if (insecure && !isLoopbackRegistry(registry) && !isListedInsecure(registry, options.insecureHosts ?? [])) {
    throw new MlcacheError('INSECURE_REGISTRY', `Refusing to talk to ${registry} over plain HTTP: it is not a loopback host and not named by --insecure-registry.`, {
      hint: `Use the registry over HTTPS, or pass --insecure-registry ${registry} (MLCACHE_INSECURE_REGISTRY) if it only speaks HTTP.`,
    });
  }
  // Docker Hub's API lives at registry-1.docker.io (containers/image docker_client.go does the same).
  const apiHost = registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
  const baseUrl = `${insecure ? 'http' : 'https'}://${apiHost}`;
  const userAgent = options.userAgent ?? 'mlcache';
  const dispatcher = options.dispatcher;
  const aborts = createAborts(options.signal);
  const baseDelayMs = options.retryBaseDelayMs ?? BASE_DELAY_MS;
  const warn = (message: string) => options.onWarning?.(redact(message));
  const auth = createAuthenticator({
    dispatcher,
    registry,
    baseUrl,
    credentials: options.credentials,
    userAgent,
    plainHttpAllowed: (host) => defaultInsecure(host, options.insecureHosts ?? []),
    signal: () => options.signal,
  });

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
        if (++hops > MAX_REDIRECTS) {
          throw new MlcacheError('PROTOCOL', `${registry} redirected ${spec.what} more than ${MAX_REDIRECTS} times.`, { hint: 'The registry or its storage is misconfigured; report it to its operator.' });
        }
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
    const controller = aborts.begin(extra);
    try {
      await sleep(delay, controller.signal);
    } finally {
      controller.done();
    }
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

  const requester: RegistryRequester = { registry, baseUrl, request: (spec) => exchange(spec), fail, warn, aborts, baseDelayMs };

  const pullScopes = (repository: string) => [repositoryScope(repository, ['pull'])];
  const blobUrl = (repository: string, digest: string) => `${baseUrl}/v2/${repository}/blobs/${digest}`;

  function verifyReference(reference: string): string {
    if (isValidDigest(reference) || isValidTag(reference)) return reference;
    throw new MlcacheError('INVALID_REFERENCE', `"${cutValue(redact(reference))}" is neither a tag nor a sha256 digest.`, {
      hint: 'A tag is 1–128 characters of letters, digits, "_", "." and "-"; a digest is sha256:<64 hex>.',
    });
  }

  function sha256(bytes: Buffer): string {
    return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  }

  function checkDigest(actual: string, expected: string | undefined, what: string): void {
    if (expected === undefined || !expected.startsWith('sha256:') || expected === actual) return;
    throw new IntegrityError(`${registry} sent ${what} whose bytes hash to ${actual}, not ${expected}.`, { expected, actual, algorithm: 'sha256' }, {
      hint: 'A proxy or the registry altered the content: retry, and report it if it persists.',
    });
  }

  const client: RegistryClient & { readonly tokensFetched: number } = {
    registry,
    baseUrl,
    get tokensFetched() {
      return auth.tokensFetched;
    },

    async getManifest(repository, reference) {
      verifyRepositoryName(repository);
      verifyReference(reference);
      const scopes = pullScopes(repository);
      const what = `GET manifest ${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
      const reply = await exchange({
        method: 'GET',
        url: `${baseUrl}/v2/${repository}/manifests/${reference}`,
        scopes,
        headers: { accept: MANIFEST_ACCEPT },
        maxBody: MAX_MANIFEST_BYTES,
        follow: true,
        retry: true,
        what,
      });
      if (reply.status !== 200) throw fail(reply, { what, operation: 'manifest', scopes });
      const declared = Number(header(reply.headers, 'content-length'));
      if (reply.truncated || (Number.isFinite(declared) && declared > MAX_MANIFEST_BYTES)) {
        throw new MlcacheError('MANIFEST_TOO_LARGE', `${registry} sent a manifest for ${repository}:${reference} larger than 4 MiB; mlcache does not read it.`, {
          hint: 'CNCF distribution refuses manifests over 4 MiB; this one was not written by a conforming tool.',
        });
      }
      const digest = sha256(reply.body);
      checkDigest(digest, reference.startsWith('sha256:') ? reference : undefined, `the manifest ${repository}@${reference}`);
      checkDigest(digest, header(reply.headers, 'docker-content-digest'), `the manifest ${repository}:${reference}`);
      let mediaType = header(reply.headers, 'content-type')?.split(';')[0]?.trim();
      if (mediaType === undefined || mediaType.length === 0 || mediaType === 'application/json') {
        try {
          const parsed = JSON.parse(reply.body.toString('utf8')) as { mediaType?: unknown };
          if (typeof parsed.mediaType === 'string') mediaType = parsed.mediaType;
        } catch {
          // not JSON: the caller's parser will say so
        }
      }
      const result: ManifestResponse = { digest, mediaType: mediaType ?? 'application/octet-stream', bytes: reply.body };
      return result;
    },

    async headManifest(repository, reference) {
      verifyRepositoryName(repository);
      verifyReference(reference);
      const scopes = pullScopes(repository);
      const what = `HEAD manifest ${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
      const reply = await exchange({
        method: 'HEAD',
        url: `${baseUrl}/v2/${repository}/manifests/${reference}`,
        scopes,
        headers: { accept: MANIFEST_ACCEPT },
        follow: true,
        retry: true,
        what,
      });
      if (reply.status === 404) return undefined;
      if (reply.status !== 200) throw fail(reply, { what, operation: 'manifest', scopes });
      let digest = header(reply.headers, 'docker-content-digest');
      let size = Number(header(reply.headers, 'content-length'));
      let mediaType = header(reply.headers, 'content-type')?.split(';')[0]?.trim() ?? '';
      if (digest === undefined || !isValidDigest(digest) || !Number.isFinite(size)) {
        // Some registries omit Docker-Content-Digest on HEAD: read the manifest instead.
        const full = await client.getManifest(repository, reference);
        digest = full.digest;
        size = full.bytes.length;
        mediaType = full.mediaType;
      }
      return { digest, mediaType, size };
    },

    async putManifest(repository, reference, bytes, mediaType) {
      verifyRepositoryName(repository);
      verifyReference(reference);
      const digest = sha256(bytes);
      if (bytes.length > MAX_MANIFEST_BYTES) {
        throw new MlcacheError('MANIFEST_TOO_LARGE', `The manifest for ${repository}:${reference} is ${bytes.length} bytes, over the 4 MiB registries accept.`, {
          hint: 'Split the snapshot into fewer files per artifact.',
        });
      }
      if (reference.startsWith('sha256:') && reference !== digest) {
        throw new MlcacheError('INTERNAL', `putManifest: the manifest bytes hash to ${digest}, not to the reference ${reference}.`);
      }
      const scopes = [repositoryScope(repository, ['pull', 'push'])];
      const what = `PUT manifest ${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
      const reply = await exchange({
        method: 'PUT',
        url: `${baseUrl}/v2/${repository}/manifests/${reference}`,
        scopes,
        headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
        body: bytes,
        retry: true,
        what,
      });
      if (reply.status !== 201 && reply.status !== 200 && reply.status !== 202) throw fail(reply, { what, operation: 'manifest', scopes });
      checkDigest(digest, header(reply.headers, 'docker-content-digest'), `back a digest for the manifest ${repository}:${reference}`);
      return { digest };
    },

    async headBlob(repository, digest) {
      verifyRepositoryName(repository);
      verifyDigest(digest);
      const scopes = pullScopes(repository);
      const what = `HEAD blob ${repository}@${digest}`;
      const reply = await exchange({ method: 'HEAD', url: blobUrl(repository, digest), scopes, follow: true, retry: true, what });
      if (reply.status === 404) return undefined;
      if (reply.status !== 200) throw fail(reply, { what, operation: 'blob', scopes });
      const size = Number(header(reply.headers, 'content-length'));
      if (!Number.isSafeInteger(size) || size < 0) {
        throw new MlcacheError('PROTOCOL', `${registry} answered ${what} without a usable Content-Length.`, { hint: 'The registry broke the protocol; report it to its operator.' });
      }
      return { size };
    },

    async getBlob(repository, digest, maxBytes) {
      verifyRepositoryName(repository);
      verifyDigest(digest);
      const scopes = pullScopes(repository);
      const what = `GET blob ${repository}@${digest}`;
      const reply = await exchange({ method: 'GET', url: blobUrl(repository, digest), scopes, maxBody: maxBytes, follow: true, retry: true, what });
      if (reply.status !== 200) throw fail(reply, { what, operation: 'blob', scopes });
      if (reply.truncated) {
        throw new MlcacheError('PROTOCOL', `The blob ${repository}@${digest} is larger than the ${maxBytes} bytes expected of it.`, {
          hint: 'The artifact is not what mlcache expects (a config blob this large is not a ModelPack config).',
        });
      }
      checkDigest(sha256(reply.body), digest, `the blob ${repository}@${digest}`);
      return reply.body;
    },

    blobSource(repository, digest) {
      verifyRepositoryName(repository);
      verifyDigest(digest);
      const scopes = pullScopes(repository);
      const url = blobUrl(repository, digest);
      const what = `GET blob ${repository}@${digest}`;
      const registrySource = (authorization: string | undefined): TransferSource => ({
        url,
        headers: { 'user-agent': userAgent, ...(authorization !== undefined ? { authorization } : {}) },
        refreshOnUnauthorized: true,
      });
      return async (reason) => {
        await ping();
        if (reason === 'initial') return registrySource(await auth.authorization(scopes));
        // 'expired': the last attempt got a 3xx, 401 or 403. Ask (one byte) where the blob is now,
        // with a fresh token if the registry wants one.
        let target = url;
        let authorization = await auth.authorization(scopes);
        let reauthorized = false;
        for (let hops = 0; hops <= MAX_REDIRECTS; ) {
          const onRegistry = isSameOrigin(target, baseUrl);
          const headers: Record<string, string> = { 'user-agent': userAgent, range: 'bytes=0-0' };
          if (onRegistry && authorization !== undefined) headers.authorization = authorization;
          const controller = aborts.begin();
          let status: number;
          let responseHeaders: Record<string, string | string[] | undefined>;
          try {
            // maxBody 0: a server that ignores Range must not make us read the whole blob.
            const reply = await send(dispatcher, { method: 'GET', url: target, headers, maxBody: 0, signal: controller.signal });
            status = reply.status;
            responseHeaders = reply.headers;
          } catch (error) {
            if (controller.signal.aborted) throw controller.signal.reason ?? aborts.reason();
            throw registryNetworkError(error, new URL(target).host);
          } finally {
            controller.done();
          }
          if (status === 401 && onRegistry && !reauthorized) {
            reauthorized = true;
            authorization = await auth.unauthorized(wwwAuthenticateOf(responseHeaders), scopes, authorization, what);
            continue;
          }
          if (REDIRECTS.has(status)) {
            const location = resolveLocation(header(responseHeaders, 'location'), target, registry);
            hops++;
            // Another origin (even the same host on another port): no credential, ever.
            if (!isSameOrigin(location, baseUrl)) return { url: location, headers: { 'user-agent': userAgent } };
            target = location;
            continue;
          }
          if (status === 200 || status === 206) {
            return onRegistry ? { url: target, headers: { 'user-agent': userAgent, ...(authorization !== undefined ? { authorization } : {}) }, refreshOnUnauthorized: true } : { url: target, headers: { 'user-agent': userAgent } };
          }
          throw fail({ status, headers: responseHeaders, body: Buffer.alloc(0), truncated: false }, { what, operation: 'blob', scopes });
        }
        throw new MlcacheError('PROTOCOL', `${registry} redirected ${what} more than ${MAX_REDIRECTS} times.`, { hint: 'The registry or its storage is misconfigured; report it to its operator.' });
      };
    },

    uploadBlob(repository: string, upload: BlobUpload): Promise<UploadResult> {
      verifyRepositoryName(repository);
      verifyDigest(upload.digest);
      for (const from of upload.mountFrom ?? []) verifyRepositoryName(from);
      return runUpload(requester, repository, upload);
    },

    close() {
      return Promise.resolve();
    },
  };
  return client;
}
