/**
 * Manifest operations (distribution-spec spec.md "Pulling manifests", "Pushing manifests"): GET and
 * HEAD by tag or digest, PUT; every manifest read is bounded to 4 MiB and checked against its digest.
 */
import { MlcacheError } from '../errors.js';
import { cutValue } from '../util/cut-value.js';
import { redact } from '../util/redact.js';
import { checkDigest, sha256Digest } from './content-digest.js';
import { header, type Reply } from './http.js';
import { isValidDigest, isValidTag, verifyRepositoryName } from './reference.js';
import type { RegistryRequester } from './registry-exchange.js';
import { repositoryScope } from './scope.js';
import type { ManifestResponse } from './types.js';

/** distribution's `maxManifestBodySize` (registry/handlers/manifests.go): 4 MiB. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** What a manifest GET accepts: OCI and Docker manifests and indexes. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.artifact.manifest.v1+json',
].join(', ');

function verifyReference(reference: string): string {
  if (isValidDigest(reference) || isValidTag(reference)) return reference;
  throw new MlcacheError('INVALID_REFERENCE', `"${cutValue(redact(reference))}" is neither a tag nor a sha256 digest.`, {
    hint: 'A tag is 1–128 characters of letters, digits, "_", "." and "-"; a digest is sha256:<64 hex>.',
  });
}

/** `GET manifest models/x:main` / `PUT manifest models/x@sha256:…`, for messages. */
function describe(method: string, repository: string, reference: string): string {
  return `${method} manifest ${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
}

/** The media type of a Content-Type header (parameters dropped), undefined when absent. */
function mediaTypeOf(reply: Reply): string | undefined {
  return header(reply.headers, 'content-type')?.split(';')[0]?.trim();
}

/** GET or HEAD a manifest (redirects followed, retried), after checking the names; the reply and what was asked. */
async function readManifest(req: RegistryRequester, method: 'GET' | 'HEAD', repository: string, reference: string): Promise<{ reply: Reply; what: string; scopes: string[] }> {
  verifyRepositoryName(repository);
  verifyReference(reference);
  const scopes = [repositoryScope(repository, ['pull'])];
  const what = describe(method, repository, reference);
  const reply = await req.request({
    method,
    url: `${req.baseUrl}/v2/${repository}/manifests/${reference}`,
    scopes,
    headers: { accept: MANIFEST_ACCEPT },
    ...(method === 'GET' ? { maxBody: MAX_MANIFEST_BYTES } : {}),
    follow: true,
    retry: true,
    what,
  });
  return { reply, what, scopes };
}

export async function getManifest(req: RegistryRequester, repository: string, reference: string): Promise<ManifestResponse> {
  const { reply, what, scopes } = await readManifest(req, 'GET', repository, reference);
  if (reply.status !== 200) throw req.fail(reply, { what, operation: 'manifest', scopes });
  const declared = Number(header(reply.headers, 'content-length'));
  if (reply.truncated || (Number.isFinite(declared) && declared > MAX_MANIFEST_BYTES)) {
    throw new MlcacheError('MANIFEST_TOO_LARGE', `${req.registry} sent a manifest for ${repository}:${reference} larger than 4 MiB; mlcache does not read it.`, {
      hint: 'CNCF distribution refuses manifests over 4 MiB; this one was not written by a conforming tool.',
    });
  }
  const digest = sha256Digest(reply.body);
  checkDigest(req.registry, digest, reference.startsWith('sha256:') ? reference : undefined, `the manifest ${repository}@${reference}`);
  checkDigest(req.registry, digest, header(reply.headers, 'docker-content-digest'), `the manifest ${repository}:${reference}`);
  let mediaType = mediaTypeOf(reply);
  if (mediaType === undefined || mediaType.length === 0 || mediaType === 'application/json') {
    try {
      const parsed = JSON.parse(reply.body.toString('utf8')) as { mediaType?: unknown };
      if (typeof parsed.mediaType === 'string') mediaType = parsed.mediaType;
    } catch {
      // not JSON: the caller's parser will say so
    }
  }
  return { digest, mediaType: mediaType ?? 'application/octet-stream', bytes: reply.body };
}

export async function headManifest(req: RegistryRequester, repository: string, reference: string): Promise<{ digest: string; mediaType: string; size: number } | undefined> {
  const { reply, what, scopes } = await readManifest(req, 'HEAD', repository, reference);
  if (reply.status === 404) return undefined;
  if (reply.status !== 200) throw req.fail(reply, { what, operation: 'manifest', scopes });
  const digest = header(reply.headers, 'docker-content-digest');
  const size = Number(header(reply.headers, 'content-length'));
  if (digest === undefined || !isValidDigest(digest) || !Number.isFinite(size)) {
    // Some registries omit Docker-Content-Digest on HEAD: read the manifest instead.
    const full = await getManifest(req, repository, reference);
    return { digest: full.digest, mediaType: full.mediaType, size: full.bytes.length };
  }
  return { digest, mediaType: mediaTypeOf(reply) ?? '', size };
}

export async function putManifest(req: RegistryRequester, repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<{ digest: string }> {
  verifyRepositoryName(repository);
  verifyReference(reference);
  const digest = sha256Digest(bytes);
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new MlcacheError('MANIFEST_TOO_LARGE', `The manifest for ${repository}:${reference} is ${bytes.length} bytes, over the 4 MiB registries accept.`, {
      hint: 'Split the snapshot into fewer files per artifact.',
    });
  }
  if (reference.startsWith('sha256:') && reference !== digest) {
    throw new MlcacheError('INTERNAL', `putManifest: the manifest bytes hash to ${digest}, not to the reference ${reference}.`);
  }
  const scopes = [repositoryScope(repository, ['pull', 'push'])];
  const what = describe('PUT', repository, reference);
  const reply = await req.request({
    method: 'PUT',
    url: `${req.baseUrl}/v2/${repository}/manifests/${reference}`,
    scopes,
    headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
    body: bytes,
    retry: true,
    what,
  });
  if (reply.status !== 201 && reply.status !== 200 && reply.status !== 202) throw req.fail(reply, { what, operation: 'manifest', scopes });
  checkDigest(req.registry, digest, header(reply.headers, 'docker-content-digest'), `back a digest for the manifest ${repository}:${reference}`);
  return { digest };
}
