/**
 * Signed CDN URLs, shaped like the Hub's presigned S3/CloudFront redirects (a Xet-backed
 * file's resolve URL answers 302 to `cas-bridge.xethub.hf.co/...?X-Amz-Expires=3600&…`; Hub docs
 * `docs/hub/xet/legacy-git-lfs.md`). The signature is an HMAC-SHA256 over
 * path, date and expiry with a per-emulator secret, so a URL cannot be forged or extended.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** `20261122T194700Z`: the ISO 8601 basic format AWS SigV4 uses for X-Amz-Date. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

export function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function signature(secret: Buffer, pathname: string, date: string, expires: string): string {
  return createHmac('sha256', secret).update(`${pathname}\n${date}\n${expires}`).digest('hex');
}

/** The query string (no `?`) that makes `pathname` fetchable until now + ttl. */
export function signCdnPath(secret: Buffer, pathname: string, ttlSec: number, now: Date): string {
  const date = amzDate(now);
  const expires = String(Math.max(0, Math.floor(ttlSec)));
  const query = new URLSearchParams({
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `EMULATOR/${date.slice(0, 8)}/us-east-1/s3/aws4_request`,
    'X-Amz-Date': date,
    'X-Amz-Expires': expires,
    'X-Amz-SignedHeaders': 'host',
  });
  query.set('X-Amz-Signature', signature(secret, pathname, date, expires));
  return query.toString();
}

export type CdnUrlCheck =
  | { ok: true }
  | { ok: false; code: 'AccessDenied' | 'SignatureDoesNotMatch'; message: string };

export function verifyCdnUrl(secret: Buffer, pathname: string, query: URLSearchParams, nowMs: number): CdnUrlCheck {
  const date = query.get('X-Amz-Date');
  const expires = query.get('X-Amz-Expires');
  const given = query.get('X-Amz-Signature');
  if (!date || !expires || !given) {
    return { ok: false, code: 'AccessDenied', message: 'Query-string authentication requires the X-Amz-Date, X-Amz-Expires and X-Amz-Signature parameters' };
  }
  const expected = Buffer.from(signature(secret, pathname, date, expires), 'hex');
  const actual = Buffer.from(given, 'hex');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    return { ok: false, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided.' };
  }
  const signedAt = parseAmzDate(date);
  if (signedAt === undefined || !/^\d+$/.test(expires)) {
    return { ok: false, code: 'AccessDenied', message: 'X-Amz-Date or X-Amz-Expires is malformed' };
  }
  // Expired once now reaches signedAt + ttl: a TTL of 0 yields URLs that are already expired.
  if (nowMs >= signedAt + Number(expires) * 1000) return { ok: false, code: 'AccessDenied', message: 'Request has expired' };
  return { ok: true };
}
