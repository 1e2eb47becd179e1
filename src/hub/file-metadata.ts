/**
 * A file's metadata from the responses to a HEAD of its resolve URL, as huggingface_hub reads them
 * (file_download.py::get_hf_file_metadata): on the Hub's redirect to the CDN, the X-Linked-Etag and
 * X-Linked-Size headers and the Location; on a direct answer, ETag and Content-Length; the commit
 * from the first hop that names it (X-Repo-Commit). Pure.
 */
import { headerValue, type HeaderSource } from './header-value.js';
import { REDIRECT_STATUSES } from './hub-response.js';
import { normalizeEtag } from './normalize-etag.js';
import { signedUrlExpiry } from './signed-url-expiry.js';

export interface FileMetadata {
  /** Download URL: the redirect's target when the HEAD stopped at one, else the last URL asked. */
  url: string;
  commit: string | undefined;
  /** Normalized etag (sha256 for LFS, git sha1 otherwise). */
  etag: string | undefined;
  /** Bytes, when a header gives a plain non-negative integer. */
  size: number | undefined;
  /** Epoch ms when a signed URL expires. */
  expiresAt: number | undefined;
}

/**
 * `hops`: every response in order, the last one being `final`; `location`: the absolute target of
 * the off-origin redirect the HEAD stopped at (not requested), if any. On a redirect only the
 * X-Linked-* headers count: its own ETag and Content-Length describe the redirect, not the file.
 */
export function fileMetadata(hops: readonly { headers: HeaderSource }[], final: { url: string; status: number; headers: HeaderSource }, location?: string): FileMetadata {
  const url = location ?? final.url;
  const isRedirect = REDIRECT_STATUSES.has(final.status);
  const etag = normalizeEtag(headerValue(final.headers, 'x-linked-etag') ?? (isRedirect ? undefined : headerValue(final.headers, 'etag')));
  const sizeText = headerValue(final.headers, 'x-linked-size') ?? (isRedirect ? undefined : headerValue(final.headers, 'content-length'));
  const size = sizeText !== undefined && /^\d+$/.test(sizeText.trim()) ? Number(sizeText.trim()) : undefined;
  const commit = hops.map((h) => headerValue(h.headers, 'x-repo-commit')).find((c) => c !== undefined);
  return { url, commit, etag, size, expiresAt: signedUrlExpiry(url) };
}
