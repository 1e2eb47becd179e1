/**
 * One HTTP exchange with a registry (or its token service, or a storage host after a redirect) on
 * undici `request` with the injected Dispatcher: no redirect is followed here (the client decides
 * per hop who sees a credential), timeouts are the dispatcher's, and a body is read only up to a
 * bound so a hostile server cannot fill memory.
 */
import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { MlcacheError, NetworkError } from '../errors.js';
import { classifyNetworkError } from '../util/net.js';

export type HeaderMap = Record<string, string | string[] | undefined>;

export interface Reply {
  status: number;
  headers: HeaderMap;
  /** The body read up to `maxBody` bytes ('' for HEAD). */
  body: Buffer;
  /** True when the body was longer than `maxBody` (the rest was not read). */
  truncated: boolean;
}

export interface SendOptions {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: Buffer | Readable | string | undefined;
  /** Read at most this many bytes of the body (default 64 KiB: error bodies). */
  maxBody?: number | undefined;
  signal?: AbortSignal | undefined;
}

export const DEFAULT_MAX_BODY = 64 * 1024;

// `header` (first value of a repeated header) for client.ts and upload.ts; the one copy is util/http-headers.ts.
export { firstHeaderValue as header } from '../util/http-headers.js';

export async function send(dispatcher: Dispatcher, options: SendOptions): Promise<Reply> {
  const maxBody = options.maxBody ?? DEFAULT_MAX_BODY;
  const response = await request(options.url, {
    dispatcher,
    method: options.method,
    headers: options.headers,
    body: options.body,
    signal: options.signal,
  });
  const chunks: Buffer[] = [];
  let length = 0;
  let truncated = false;
  if (options.method === 'HEAD') {
    await response.body.dump();
  } else {
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        if (length + chunk.length > maxBody) {
          chunks.push(chunk.subarray(0, maxBody - length));
          length = maxBody;
          truncated = true;
          break;
        }
        chunks.push(chunk);
        length += chunk.length;
      }
    } finally {
      // Stop reading a body longer than we want (breaking out of the loop above destroys it).
      if (truncated && !response.body.destroyed) response.body.destroy();
    }
  }
  return { status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks, length), truncated };
}

/** Same scheme, host and port: the only URLs that get the registry's credentials (src/util/same-origin.ts). */
export { isSameOrigin } from '../util/same-origin.js';

/** `location` resolved against `base`; PROTOCOL when it is not an http(s) URL. */
export function resolveLocation(location: string | undefined, base: string, registry: string): string {
  if (location === undefined || location.length === 0) {
    throw new MlcacheError('PROTOCOL', `${registry} answered a redirect or upload without a Location header.`, {
      hint: 'The registry broke the protocol; report it to its operator.',
    });
  }
  let url: URL;
  try {
    url = new URL(location, base);
  } catch {
    throw new MlcacheError('PROTOCOL', `${registry} answered with a Location that is not a URL.`, { hint: 'The registry broke the protocol; report it to its operator.' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MlcacheError('PROTOCOL', `${registry} sent a Location with the scheme ${url.protocol}, which mlcache does not follow.`, {
      hint: 'The registry broke the protocol; report it to its operator.',
    });
  }
  return url.toString();
}

const NETWORK_HINTS: Partial<Record<string, (host: string) => string>> = {
  NETWORK_DNS: (h) => `Could not resolve ${h}: check the registry address in the oci:// reference and your DNS.`,
  NETWORK_REFUSED: (h) => `${h} refused the connection: check the registry address and port, and that the registry runs.`,
  NETWORK_TLS: (h) =>
    `The TLS certificate of ${h} was not accepted: set NODE_EXTRA_CA_CERTS to its CA bundle, or, for a registry that only speaks HTTP, name it in --insecure-registry.`,
};

/** A connection failure with a registry (or its token service or storage), with a registry hint. */
export function registryNetworkError(error: unknown, host: string): NetworkError {
  const classified = classifyNetworkError(error, host);
  const hint = NETWORK_HINTS[classified.code]?.(host);
  if (hint === undefined) return classified;
  return new NetworkError(classified.code, classified.message, { systemCode: classified.systemCode, host: classified.host }, { hint, cause: classified.cause });
}
