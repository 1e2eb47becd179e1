/**
 * The Hub emulator's `/{prefix}{repo}/resolve/{revision}/{path}` and `/raw/…` routes: regular
 * files served directly, LFS files redirected to the CDN origin behind a signed URL, with the
 * headers huggingface_hub file_download.py and huggingface.js read (X-Repo-Commit, X-Linked-*).
 */
import { authOf, checkAccess, revisionOr404 } from '../access.js';
import { fileAt as findFile, resolveFile, splitRevisionPath } from '../repo-store.js';
import { sendBody, sendHubError } from '../respond.js';
import { serveContent } from '../serve-content.js';
import { signCdnPath } from '../signing.js';
import { DEFAULT_CDN_TTL_SEC, findRepo, type EmulatorState, type RequestContext } from '../state.js';
import type { RepoType } from '../types.js';
import { decodeSegment } from './segments.js';

function contentTypeOf(path: string): string {
  if (path.endsWith('.json')) return 'application/json; charset=utf-8';
  if (/\.(md|txt|py|yaml|yml|gitattributes)$/.test(path)) return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}

/** A hub path that is not under /api/: `segments` is the path split on '/'. */
export async function routeResolve(state: EmulatorState, ctx: RequestContext, segments: string[]): Promise<void> {
  let type: RepoType = 'model';
  let offset = 0;
  if (segments[0] === 'datasets' || segments[0] === 'spaces') {
    type = segments[0] === 'datasets' ? 'dataset' : 'space';
    offset = 1;
  }
  const s = segments.slice(offset);
  const verbAt = s[2] === 'resolve' || s[2] === 'raw' ? 2 : s[1] === 'resolve' || s[1] === 'raw' ? 1 : -1;
  if (verbAt < 0) return sendHubError(ctx, 404, undefined, 'Not Found');
  const id = s.slice(0, verbAt).map(decodeSegment).join('/');
  return resolve(state, ctx, type, id, s[verbAt] as 'resolve' | 'raw', s.slice(verbAt + 1).join('/'));
}

async function resolve(state: EmulatorState, ctx: RequestContext, type: RepoType, id: string, kind: 'resolve' | 'raw', remainder: string): Promise<void> {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return sendHubError(ctx, 405, undefined, 'Method not allowed');
  const repo = findRepo(state, type, id);
  if (!checkAccess(state, ctx, repo, type, id, authOf(state, ctx.req))) return;
  const { revision, path } = splitRevisionPath(repo, remainder);
  const rev = revisionOr404(ctx, repo, revision);
  if (!rev) return;
  const file = findFile(rev, path);
  if (!file) {
    // X-Repo-Commit on the 404 lets Python write .no_exist/<commit>/<path> (file_download.py::_get_metadata_or_catch_error).
    return sendHubError(ctx, 404, 'EntryNotFound', 'Entry not found', { 'X-Repo-Commit': rev.commit });
  }
  const r = await resolveFile(file);
  if (r.lfs && kind === 'resolve') {
    state.blobs.set(r.sha256, r.source);
    const cdnPath = `/repos/${r.sha256.slice(0, 2)}/${r.sha256.slice(2, 4)}/${r.sha256}`;
    const ttl = state.engine.settings.cdnUrlTtlSec ?? DEFAULT_CDN_TTL_SEC;
    const location = `${state.cdnUrl}${cdnPath}?${signCdnPath(state.secret, cdnPath, ttl, new Date())}`;
    // An LFS file: redirect to the CDN; X-Linked-* carry what Python/JS read as etag and size
    // (file_download.py::get_hf_file_metadata; JS file-download-info.ts).
    return sendBody(
      ctx,
      302,
      {
        Location: location,
        'X-Repo-Commit': rev.commit,
        'X-Linked-Etag': `"${r.sha256}"`,
        'X-Linked-Size': String(r.size),
        ETag: `"${r.blobId}"`,
        'Content-Type': 'text/plain; charset=utf-8',
        Vary: 'Origin, Accept',
      },
      `Found. Redirecting to ${location}`,
    );
  }
  if (r.lfs) {
    const pointer = Buffer.from(r.pointer ?? '');
    return serveContent(state, ctx, { kind: 'literal', bytes: pointer }, pointer.length, {
      headers: { ETag: `"${r.blobId}"`, 'X-Repo-Commit': rev.commit, 'Content-Type': 'text/plain; charset=utf-8' },
    });
  }
  return serveContent(state, ctx, r.source, r.size, {
    headers: { ETag: `"${r.gitSha1}"`, 'X-Repo-Commit': rev.commit, 'Content-Type': contentTypeOf(path) },
  });
}
