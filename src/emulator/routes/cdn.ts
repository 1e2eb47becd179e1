/**
 * The Hub emulator's CDN origin: LFS blobs at `/repos/<aa>/<bb>/<sha256>` behind signed, expiring
 * URLs (signing.ts), with S3's XML errors and the immutable caching headers of cdn-lfs.hf.co.
 */
import { s3Error, sendBody } from '../respond.js';
import { serveContent } from '../serve-content.js';
import { verifyCdnUrl } from '../signing.js';
import type { EmulatorState, RequestContext } from '../state.js';

export async function routeCdn(state: EmulatorState, ctx: RequestContext): Promise<void> {
  const xml = { 'Content-Type': 'application/xml' };
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return sendBody(ctx, 405, xml, s3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.'));
  const match = /^\/repos\/[0-9a-f]{2}\/[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(ctx.pathname);
  if (!match) return sendBody(ctx, 404, xml, s3Error('NoSuchKey', 'The specified key does not exist.'));
  const check = verifyCdnUrl(state.secret, ctx.pathname, ctx.query, Date.now());
  if (!check.ok) return sendBody(ctx, 403, xml, s3Error(check.code, check.message));
  const sha256 = match[1]!;
  const source = state.blobs.get(sha256);
  if (!source) return sendBody(ctx, 404, xml, s3Error('NoSuchKey', 'The specified key does not exist.'));
  const size = source.kind === 'literal' ? source.bytes.length : source.size;
  return serveContent(state, ctx, source, size, {
    headers: {
      ETag: `"${sha256}"`,
      'Content-Type': 'application/octet-stream',
      'Cache-Control': 'public, max-age=31536000, immutable',
      'Last-Modified': new Date(Date.UTC(2025, 0, 1)).toUTCString(),
    },
  });
}
