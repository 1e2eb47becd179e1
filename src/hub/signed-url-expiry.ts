/**
 * When a presigned CDN URL stops working, so the transfer engine can re-resolve before resuming.
 * S3 SigV4 (`X-Amz-Date=YYYYMMDDTHHMMSSZ` + `X-Amz-Expires=<secs>`) or CloudFront
 * (`Expires=<epoch secs>`); the Xet bridge URLs the Hub redirects to carry both
 * (`cas-bridge.xethub.hf.co/...?X-Amz-Expires=3600&...&Expires=...`, see the Hub docs
 * `docs/hub/xet/legacy-git-lfs.md`). Pure.
 */

function param(url: URL, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of url.searchParams) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** `20240102T030405Z` → epoch ms. */
export function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Epoch ms at which the signed URL expires; the earliest when several schemes are present. */
export function signedUrlExpiry(url: string): number | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const candidates: number[] = [];
  const amzDate = param(parsed, 'X-Amz-Date');
  const amzExpires = param(parsed, 'X-Amz-Expires');
  if (amzDate !== undefined && amzExpires !== undefined && /^\d+$/.test(amzExpires)) {
    const start = parseAmzDate(amzDate);
    if (start !== undefined) candidates.push(start + Number(amzExpires) * 1000);
  }
  const expires = param(parsed, 'Expires');
  if (expires !== undefined && /^\d+$/.test(expires)) candidates.push(Number(expires) * 1000);
  return candidates.length === 0 ? undefined : Math.min(...candidates);
}
