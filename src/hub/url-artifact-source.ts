/**
 * Where a catalog URL artifact's bytes really are. GitHub release assets, an HF `resolve` URL and
 * most CDNs answer the catalog's URL with a redirect to a signed URL; the transfer engine wants
 * the final URL (it sends ranged GETs and never follows redirects itself). So each resolve
 * follows the chain once, at most `maxRedirects` hops, with a one-byte ranged GET (a HEAD is
 * refused by URLs signed for GET, e.g. S3), and hands the engine the last URL. The engine calls
 * it again when that URL expires or redirects.
 *
 * Credentials: the only ones a URL artifact can carry are in its URL (`https://user:pass@host/…`).
 * They are sent as Basic auth to the original origin only — never to a redirect target on another
 * origin (RFC 9110 §15.4: a client must not forward credentials it was given for one origin to
 * another; curl drops them on a host change as well) — and never appear in a message.
 */
import { request, type Dispatcher } from 'undici';
import { MlcacheError } from '../errors.js';
import { classifyNetworkError } from '../util/net.js';
import { redactUrl, registerSecret } from '../util/redact.js';
import { joinedHeaderValue } from '../util/http-headers.js';

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
export const MAX_URL_REDIRECTS = 10;

/** What the transfer engine's `resolve()` returns (download/types.ts TransferSource). */
export interface UrlArtifactSource {
  url: string;
  headers: Record<string, string>;
}

export interface UrlArtifactSourceOptions {
  dispatcher: Dispatcher;
  signal?: AbortSignal | undefined;
  /** @default 10 (as huggingface_hub and browsers bound a chain) */
  maxRedirects?: number | undefined;
}

function protocolError(message: string, hint: string, cause?: unknown): MlcacheError {
  return new MlcacheError('PROTOCOL', message, { hint, cause });
}

/** The URL without its user:password part, and the Basic credential it carried (if any). Pure. */
export function splitUrlCredentials(url: string): { url: URL; authorization: string | undefined } {
  const parsed = new URL(url);
  let authorization: string | undefined;
  if (parsed.username !== '' || parsed.password !== '') {
    const pair = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
    authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
  }
  return { url: parsed, authorization };
}

/** Follow the artifact URL's redirects to the URL that serves the bytes (see the file comment). */
export async function resolveUrlArtifact(url: string, options: UrlArtifactSourceOptions): Promise<UrlArtifactSource> {
  const max = options.maxRedirects ?? MAX_URL_REDIRECTS;
  const { url: original, authorization } = splitUrlCredentials(url);
  if (authorization !== undefined) {
    registerSecret(authorization);
    registerSecret(decodeURIComponent(new URL(url).password));
  }
  const headersFor = (target: URL): Record<string, string> => (authorization !== undefined && target.origin === original.origin ? { authorization } : {});
  let current = original;
  for (let hops = 0; ; hops++) {
    let status: number;
    let location: string | undefined;
    try {
      const response = await request(current, { method: 'GET', headers: { ...headersFor(current), range: 'bytes=0-0' }, dispatcher: options.dispatcher, signal: options.signal });
      status = response.statusCode;
      location = joinedHeaderValue(response.headers, 'location');
      await response.body.dump();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : error;
      throw classifyNetworkError(error, current.host);
    }
    if (!REDIRECT_STATUSES.has(status) || location === undefined) return { url: current.toString(), headers: headersFor(current) };
    if (hops >= max) {
      throw protocolError(`Too many redirects (more than ${max}) starting at ${redactUrl(original.toString())}.`, 'The server redirects in a loop: check the URL in the catalog, or report it to whoever serves the file.');
    }
    let next: URL;
    try {
      next = new URL(location, current);
    } catch (error) {
      throw protocolError(`Invalid redirect target from ${redactUrl(current.toString())}.`, 'Check the URL in the catalog.', error);
    }
    if (next.protocol !== 'https:' && next.protocol !== 'http:') {
      throw protocolError(`${redactUrl(current.toString())} redirects to a ${next.protocol} URL, which mlcache cannot download.`, 'Check the URL in the catalog.');
    }
    // Credentials in a redirect target's own URL are never used.
    next.username = '';
    next.password = '';
    current = next;
  }
}
