/**
 * The registry emulator's `/v2/` API (distribution-spec v1.1 spec.md): the version check with its
 * auth challenge, blob GET/HEAD (or a 307 to the storage origin), manifest GET/HEAD/PUT, and the
 * upload routes (uploads.ts).
 */
import type http from 'node:http';
import { authorize, basicUser } from '../access.js';
import { statusFault } from '../faults.js';
import { serveBytes } from '../serve-blob.js';
import { DIGEST, readBody, repositoryOf, sendError, sha256, type RegistryState } from '../state.js';
import { handleUploads } from './uploads.js';

/** distribution's `maxManifestBodySize`. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export async function handleRegistry(state: RegistryState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { mode, options, tokens, repositories, blobs } = state;
  const url = new URL(req.url ?? '/', state.registryUrl);
  const method = req.method ?? 'GET';
  if (statusFault(state, req, res)) return;
  if (url.pathname === '/v2/' || url.pathname === '/v2') {
    if (mode === 'basic' && basicUser(state, req.headers.authorization) == null) {
      sendError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': 'Basic realm="mlcache registry emulator"' });
      return;
    }
    if (mode === 'bearer') {
      const bearer = req.headers.authorization?.replace(/^bearer /i, '');
      const ok = bearer !== undefined && (options.staticTokens?.[bearer] !== undefined || (tokens.get(bearer)?.expiresAt ?? 0) > Date.now());
      if (!ok) {
        sendError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': `Bearer realm="${state.tokenUrl}/token",service="${state.service}"` });
        return;
      }
    }
    res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' });
    res.end('{}');
    return;
  }
  const match = /^\/v2\/(.+?)\/(?:(blobs\/uploads)\/?([^/]*)|blobs\/([^/]+)|manifests\/([^/]+))$/.exec(url.pathname);
  if (!match) {
    sendError(res, 404, 'NAME_INVALID', 'no such endpoint');
    return;
  }
  const repository = match[1]!;
  const [, , uploadsPart, uploadId, blobDigest, reference] = match;

  if (uploadsPart !== undefined) return handleUploads(state, req, res, url, repository, uploadId);

  if (blobDigest !== undefined) {
    if (method === 'DELETE' || (method !== 'GET' && method !== 'HEAD')) return sendError(res, 405, 'UNSUPPORTED', 'method not allowed');
    if (!authorize(state, req, res, repository, ['pull'])) return;
    const bytes = repositories.get(repository)?.blobs.has(blobDigest) === true ? blobs.get(blobDigest) : undefined;
    if (bytes === undefined) {
      if (method === 'HEAD') {
        res.writeHead(404);
        res.end();
        return;
      }
      return sendError(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
    }
    if (method === 'GET' && options.redirectBlobs === true) {
      res.writeHead(307, { location: `${state.storageUrl}/blobs/${blobDigest}?X-Amz-Signature=emulated`, 'content-length': '0' });
      res.end();
      return;
    }
    await serveBytes(state, req, res, blobDigest, bytes);
    return;
  }

  // Manifests.
  const ref = reference!;
  if (method === 'GET' || method === 'HEAD') {
    if (!authorize(state, req, res, repository, ['pull'])) return;
    const manifest = repositories.get(repository)?.manifests.get(ref);
    if (manifest === undefined) {
      if (method === 'HEAD') {
        res.writeHead(404);
        res.end();
        return;
      }
      return sendError(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
    }
    res.writeHead(200, { 'content-type': manifest.mediaType, 'content-length': String(manifest.bytes.length), 'docker-content-digest': manifest.digest });
    res.end(method === 'HEAD' ? undefined : manifest.bytes);
    return;
  }
  if (method === 'PUT') {
    if (!authorize(state, req, res, repository, ['pull', 'push'])) return;
    const bytes = await readBody(req, MAX_MANIFEST_BYTES);
    if (bytes === undefined) return sendError(res, 413, 'SIZE_INVALID', 'manifest over 4 MiB', { connection: 'close' });
    const mediaType = req.headers['content-type'] ?? 'application/vnd.oci.image.manifest.v1+json';
    try {
      JSON.parse(bytes.toString('utf8'));
    } catch {
      return sendError(res, 400, 'MANIFEST_INVALID', 'manifest invalid');
    }
    const digest = sha256(bytes);
    if (DIGEST.test(ref) && ref !== digest) return sendError(res, 400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
    const entry = { bytes, mediaType, digest };
    repositoryOf(state, repository).manifests.set(ref, entry);
    repositoryOf(state, repository).manifests.set(digest, entry);
    res.writeHead(201, { location: `/v2/${repository}/manifests/${digest}`, 'docker-content-digest': digest, 'content-length': '0' });
    res.end();
    return;
  }
  sendError(res, 405, 'UNSUPPORTED', 'method not allowed');
}
