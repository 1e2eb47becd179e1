/**
 * Blob reads (distribution-spec spec.md "Pulling blobs"): HEAD for the size, a small blob read
 * whole and verified, and the `blobSource` through which the transfer engine GETs a large one —
 * the registry URL with its Authorization, and on expiry a fresh look at where the blob is, a
 * redirect to another origin (storage) returned without any credential.
 */
import { MlcacheError } from '../errors.js';
import type { TransferSource } from '../download/types.js';
import { wwwAuthenticateOf } from './auth.js';
import { checkDigest, sha256Digest } from './content-digest.js';
import { header, isSameOrigin, registryNetworkError, resolveLocation, send } from './http.js';
import { verifyDigest, verifyRepositoryName } from './reference.js';
import { MAX_REDIRECTS, REDIRECTS, tooManyRedirects, type RegistryRequester } from './registry-exchange.js';
import { repositoryScope } from './scope.js';
import type { RegistryClient } from './types.js';

/** The names checked, the pull scope, the blob URL and the message name of one blob. */
function blobRequest(req: RegistryRequester, method: 'GET' | 'HEAD', repository: string, digest: string): { scopes: string[]; url: string; what: string } {
  verifyRepositoryName(repository);
  verifyDigest(digest);
  return { scopes: [repositoryScope(repository, ['pull'])], url: `${req.baseUrl}/v2/${repository}/blobs/${digest}`, what: `${method} blob ${repository}@${digest}` };
}

export async function headBlob(req: RegistryRequester, repository: string, digest: string): Promise<{ size: number } | undefined> {
  const { scopes, url, what } = blobRequest(req, 'HEAD', repository, digest);
  const reply = await req.request({ method: 'HEAD', url, scopes, follow: true, retry: true, what });
  if (reply.status === 404) return undefined;
  if (reply.status !== 200) throw req.fail(reply, { what, operation: 'blob', scopes });
  const size = Number(header(reply.headers, 'content-length'));
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new MlcacheError('PROTOCOL', `${req.registry} answered ${what} without a usable Content-Length.`, { hint: 'The registry broke the protocol; report it to its operator.' });
  }
  return { size };
}

export async function getBlob(req: RegistryRequester, repository: string, digest: string, maxBytes: number): Promise<Buffer> {
  const { scopes, url, what } = blobRequest(req, 'GET', repository, digest);
  const reply = await req.request({ method: 'GET', url, scopes, maxBody: maxBytes, follow: true, retry: true, what });
  if (reply.status !== 200) throw req.fail(reply, { what, operation: 'blob', scopes });
  if (reply.truncated) {
    throw new MlcacheError('PROTOCOL', `The blob ${repository}@${digest} is larger than the ${maxBytes} bytes expected of it.`, {
      hint: 'The artifact is not what mlcache expects (a config blob this large is not a ModelPack config).',
    });
  }
  checkDigest(req.registry, sha256Digest(reply.body), digest, `the blob ${repository}@${digest}`);
  return reply.body;
}

export function blobSource(req: RegistryRequester, repository: string, digest: string): ReturnType<RegistryClient['blobSource']> {
  const { scopes, url, what } = blobRequest(req, 'GET', repository, digest);
  const { userAgent, baseUrl, auth, aborts } = req;
  const registrySource = (target: string, authorization: string | undefined): TransferSource => ({
    url: target,
    headers: { 'user-agent': userAgent, ...(authorization !== undefined ? { authorization } : {}) },
    refreshOnUnauthorized: true,
  });
  return async (reason) => {
    await req.ping();
    if (reason === 'initial') return registrySource(url, await auth.authorization(scopes));
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
        const reply = await send(req.dispatcher, { method: 'GET', url: target, headers, maxBody: 0, signal: controller.signal });
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
        const location = resolveLocation(header(responseHeaders, 'location'), target, req.registry);
        hops++;
        // Another origin (even the same host on another port): no credential, ever.
        if (!isSameOrigin(location, baseUrl)) return { url: location, headers: { 'user-agent': userAgent } };
        target = location;
        continue;
      }
      if (status === 200 || status === 206) return onRegistry ? registrySource(target, authorization) : { url: target, headers: { 'user-agent': userAgent } };
      throw req.fail({ status, headers: responseHeaders, body: Buffer.alloc(0), truncated: false }, { what, operation: 'blob', scopes });
    }
    throw tooManyRedirects(req.registry, what);
  };
}
