/**
 * An upload's session on the registry (distribution-spec spec.md "Pushing blobs"): what one upload
 * is about (`UploadContext`), asking where a session stands, opening one, mounting from another
 * repository, and whether the blob is already there.
 */
import { MlcacheError } from '../errors.js';
import { header, resolveLocation, type Reply } from './http.js';
import type { RegistryRequester } from './registry-exchange.js';
import { repositoryScope } from './scope.js';
import type { BlobUpload } from './types.js';
import { parseUploadRange, uploadSessionKey } from './upload-protocol.js';

/** Where an upload session is (its URL, query kept) and how many bytes the registry holds. */
export interface Session {
  url: string;
  offset: number;
}

/** What one upload is about; fixed for the whole upload. */
export interface UploadContext {
  req: RegistryRequester;
  repository: string;
  upload: BlobUpload;
  digest: string;
  size: number;
  /** Push on `repository`, pull on each mount source. */
  scopes: string[];
  pushScope: string;
  /** The key its session is saved under. */
  key: string;
  uploadsUrl: string;
  signal: AbortSignal | undefined;
}

export function uploadContext(req: RegistryRequester, repository: string, upload: BlobUpload): UploadContext {
  const pushScope = repositoryScope(repository, ['pull', 'push']);
  return {
    req,
    repository,
    upload,
    digest: upload.digest,
    size: upload.size,
    scopes: [pushScope, ...(upload.mountFrom ?? []).filter((r) => r !== repository).map((r) => repositoryScope(r, ['pull']))],
    pushScope,
    key: uploadSessionKey(req.registry, repository, upload.digest),
    uploadsUrl: `${req.baseUrl}/v2/${repository}/blobs/uploads/`,
    signal: upload.signal,
  };
}

/** `<verb> blob <repository>@<digest>`, for messages. */
export function what(ctx: UploadContext, verb: string): string {
  return `${verb} blob ${ctx.repository}@${ctx.digest}`;
}

/** The registry's refusal of an upload request. */
export function uploadFailure(ctx: UploadContext, reply: Reply, verb: string): MlcacheError {
  return ctx.req.fail(reply, { what: what(ctx, verb), operation: 'upload', scopes: [ctx.pushScope] });
}

/** HEAD the blob: its status (200 present, 404 absent, anything else for the caller to judge). */
export async function headUploadBlob(ctx: UploadContext): Promise<Reply> {
  const { req } = ctx;
  return req.request({ method: 'HEAD', url: `${req.baseUrl}/v2/${ctx.repository}/blobs/${ctx.digest}`, scopes: ctx.scopes, follow: true, retry: true, what: what(ctx, 'HEAD'), signal: ctx.signal });
}

/** Whether the blob is in the repository now (a PUT whose answer was lost may have worked). */
export async function blobExists(ctx: UploadContext): Promise<boolean> {
  return (await headUploadBlob(ctx)).status === 200;
}

/** Where a session stands now (GET on its URL); undefined when the registry forgot it. */
export async function sessionStatus(ctx: UploadContext, url: string): Promise<Session | undefined> {
  const { req } = ctx;
  const reply = await req.request({ method: 'GET', url, scopes: ctx.scopes, retry: true, what: what(ctx, 'GET upload status of'), signal: ctx.signal });
  if (reply.status === 404) return undefined;
  if (reply.status !== 204 && reply.status !== 200) throw uploadFailure(ctx, reply, 'GET upload status of');
  const offset = parseUploadRange(header(reply.headers, 'range'));
  if (offset === undefined || offset > ctx.size) {
    throw new MlcacheError('PROTOCOL', `${req.registry} answered the upload status of ${ctx.repository}@${ctx.digest} without a usable Range header.`, {
      hint: 'The registry broke the protocol; report it to its operator.',
    });
  }
  const location = header(reply.headers, 'location');
  return { url: location !== undefined ? resolveLocation(location, url, req.registry) : url, offset };
}

/** `POST …/blobs/uploads/` → a new session at offset 0. */
export async function openSession(ctx: UploadContext): Promise<Session> {
  const { req } = ctx;
  const reply = await req.request({ method: 'POST', url: ctx.uploadsUrl, scopes: ctx.scopes, headers: { 'content-length': '0' }, retry: true, what: what(ctx, 'POST upload of'), signal: ctx.signal });
  if (reply.status !== 202) throw uploadFailure(ctx, reply, 'POST upload of');
  return { url: resolveLocation(header(reply.headers, 'location'), ctx.uploadsUrl, req.registry), offset: 0 };
}

/**
 * Cross-repository mount from each `mountFrom` in turn ("Mounting a blob from another
 * repository"): 'mounted' on a 201; a 202 opens an ordinary session instead; a refusal moves on to
 * the next source. Undefined when no source mounted nor opened a session.
 */
export async function mountFrom(ctx: UploadContext): Promise<'mounted' | Session | undefined> {
  const { req, digest } = ctx;
  for (const from of ctx.upload.mountFrom ?? []) {
    if (from === ctx.repository) continue;
    const url = `${ctx.uploadsUrl}?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const reply = await req.request({ method: 'POST', url, scopes: ctx.scopes, headers: { 'content-length': '0' }, retry: true, what: what(ctx, `POST mount from ${from} of`), signal: ctx.signal });
    if (reply.status === 201) return 'mounted';
    if (reply.status === 202) return { url: resolveLocation(header(reply.headers, 'location'), ctx.uploadsUrl, req.registry), offset: 0 };
    // A registry that refuses mounts (or this source): upload normally.
    req.warn(`${req.registry} did not mount ${digest} from ${from} (${reply.status}); uploading it.`);
  }
  return undefined;
}
