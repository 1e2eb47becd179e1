/**
 * Pushing one blob (distribution-spec spec.md "Pushing blobs"):
 *
 * 1. `HEAD /v2/<name>/blobs/<digest>`: present → done ('exists').
 * 2. A saved session (a previous run's upload URL) is asked where it stands: `GET <url>` → 204 with
 *    `Range: 0-<last byte>`; resumed from the next byte. A session the registry no longer knows
 *    (404) is forgotten and the upload starts over.
 * 3. Cross-repository mount: `POST …/uploads/?mount=<digest>&from=<repo>` → 201 'mounted'; a 202
 *    opens an ordinary session instead ("Mounting a blob from another repository").
 * 4. Else `POST /v2/<name>/blobs/uploads/` → 202 with the session's Location.
 * 5. Monolithic: one `PUT <location>?digest=<digest>` carrying the whole blob. Chunked: `PATCH
 *    <location>` per chunk with `Content-Range: <start>-<end>` (inclusive, no `bytes=` prefix:
 *    spec.md "Pushing a blob in chunks"), each 202's Location (relative or absolute; its query
 *    string kept — distribution carries `_state` there) and `Range` giving the next offset; a 416
 *    re-reads the offset with GET; then `PUT <location>?digest=<digest>` with no body.
 *
 * Steps 1–4 are here and in upload-session.ts; step 5 is upload-transfer.ts. Bytes stream from
 * `open(start)` (never the whole blob in memory, upload-body.ts). The sha256 of what was sent is
 * checked against the digest before the final PUT of a chunked upload, so a file that changed on
 * disk fails here rather than after a registry round trip.
 */
import { MlcacheError } from '../errors.js';
import type { RegistryRequester } from './registry-exchange.js';
import type { BlobUpload, UploadResult } from './types.js';
import { headUploadBlob, mountFrom, openSession, sessionStatus, uploadContext, what, type Session } from './upload-session.js';
import { initialState, sendChunks, sendMonolithic } from './upload-transfer.js';

export { parseUploadRange, uploadSessionKey, withDigestParam } from './upload-protocol.js';

export async function uploadBlob(req: RegistryRequester, repository: string, upload: BlobUpload): Promise<UploadResult> {
  const ctx = uploadContext(req, repository, upload);
  const { digest, key } = ctx;

  // 1. Already there?
  const head = await headUploadBlob(ctx);
  if (head.status === 200) {
    await upload.sessions?.remove(key);
    return { outcome: 'exists', bytesSent: 0, bytesResumed: 0 };
  }
  if (head.status !== 404) throw req.fail(head, { what: what(ctx, 'HEAD'), operation: 'blob', scopes: [ctx.pushScope] });

  // 2. A saved session from an earlier run.
  let session: Session | undefined;
  let bytesResumed = 0;
  const saved = await upload.sessions?.load(key);
  if (saved !== undefined) {
    session = await sessionStatus(ctx, saved).catch((error: unknown) => {
      if (error instanceof MlcacheError && error.code === 'INTERRUPTED') throw error;
      req.warn(`The saved upload session for ${repository}@${digest} could not be resumed; starting over.`);
      return undefined;
    });
    if (session === undefined) await upload.sessions?.remove(key);
    else bytesResumed = session.offset;
  }

  // 3. Mount from another repository of the same registry.
  if (session === undefined) {
    const mounted = await mountFrom(ctx);
    if (mounted === 'mounted') {
      await upload.sessions?.remove(key);
      return { outcome: 'mounted', bytesSent: 0, bytesResumed: 0 };
    }
    session = mounted;
  }

  // 4. A new session.
  session ??= await openSession(ctx);

  // 5. Monolithic, else (or for the rest of a resumed or partly kept session) chunked.
  const state = initialState(session, bytesResumed);
  const chunkSize = upload.chunkSize !== undefined && upload.chunkSize > 0 ? upload.chunkSize : 0;
  const bytesSent = (chunkSize === 0 && session.offset === 0 ? await sendMonolithic(ctx, state) : undefined) ?? (await sendChunks(ctx, state, chunkSize));
  await upload.sessions?.remove(key);
  return { outcome: 'uploaded', bytesSent, bytesResumed: state.bytesResumed };
}
