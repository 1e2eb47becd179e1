/**
 * Reading an undici response for the Hub client: a bounded body read, and a pending request that
 * gives up as soon as its signal aborts.
 */
import { MlcacheError } from '../errors.js';

/** API pages are JSON listings; anything larger is not something mlcache asked for. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** An error page larger than this is not worth reading: the rest is dropped. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * `pending`, but rejected with the signal's reason as soon as the signal aborts. undici acts on a
 * request's abort signal only once the request has a connection (lib/api/api-request.js: the abort
 * is applied in onConnect), so a request still waiting for one — a proxy that never answers the
 * CONNECT, a host that never answers the SYN — would keep Ctrl-C and the request timeout waiting
 * for the connect timeout. A response that still arrives later is drained.
 */
export function settleOnAbort<T extends { body: { dump(): Promise<unknown> } }>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted', { cause: signal.reason }));
      pending.then(
        (late) => late.body.dump().catch(() => undefined),
        () => undefined,
      );
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Read a body as UTF-8, refusing more than `limit` bytes: an error page (`isError`) is cut at the
 * limit, any other answer that large is a PROTOCOL failure (a listing page this large is wrong).
 */
export async function readText(body: AsyncIterable<Buffer | Uint8Array> & { destroy?: (error?: Error) => unknown }, isError: boolean): Promise<string> {
  const limit = isError ? MAX_ERROR_BODY_BYTES : MAX_BODY_BYTES;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > limit) {
      if (isError) break;
      body.destroy?.();
      throw new MlcacheError('PROTOCOL', `A Hub API answer was larger than ${limit} bytes.`, {
        hint: 'Check the endpoint (--endpoint / HF_ENDPOINT); if it is the real Hub, please report this.',
      });
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}
