/** The small protocol pieces of a blob upload: its session key, the `Range` of an upload answer, the digest query parameter. Pure. */

/** The key a session is saved under: registry, repository and digest. */
export function uploadSessionKey(registry: string, repository: string, digest: string): string {
  return `${registry}/${repository}@${digest}`;
}

/**
 * The next offset from an upload's `Range: 0-<end>` (or `bytes=0-<end>`). distribution answers
 * `0-0` for an empty session and, from GET, `0--1` (handlers/blobupload.go subtracts one from 0):
 * both mean offset 0. Undefined when the header is missing or not of this form.
 */
export function parseUploadRange(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*(?:bytes=)?0-(-1|\d+)\s*$/.exec(value);
  if (!match) return undefined;
  const end = Number(match[1]);
  if (end <= 0) return 0;
  return end + 1;
}

/** `url` with `digest=<digest>` added to its query, the rest of the query kept byte for byte. */
export function withDigestParam(url: string, digest: string): string {
  const hash = url.indexOf('#');
  const base = hash >= 0 ? url.slice(0, hash) : url;
  return `${base}${base.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}
