/**
 * One ranged GET: send it, check the answer strictly, and stream the body to its offset in the
 * partial file as it arrives (batched positional writes, never the whole body in memory).
 * Every failure comes back as an `AttemptError` saying whether to retry, re-resolve or give up.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { MlcacheError } from '../errors.js';
import { classifyNetworkError, isRetryableNetworkError, retryAfterSeconds } from '../util/net.js';
import { checkRangeResponse } from './content-range.js';
import { rangeHeader, type PlannedRange } from './chunk-plan.js';
import { classifyStatus, statusError } from './retry-decision.js';
import type { TokenBucket } from './token-bucket.js';
import type { TransferSource } from './types.js';

export type AttemptKind = 'retry' | 'expired' | 'redirect' | 'fatal';

export class AttemptError extends Error {
  constructor(
    readonly kind: AttemptKind,
    /** Short, for 'retry' events: e.g. "HTTP 503", "stalled 30s", "short body". */
    readonly reason: string,
    readonly error: MlcacheError,
    readonly retryAfterSeconds?: number,
  ) {
    super(reason, { cause: error });
  }
}

class StallError extends Error {
  constructor(ms: number) {
    super(`no data for ${ms} ms`);
  }
}

export interface FetchRangeOptions {
  dispatcher: Dispatcher;
  source: TransferSource;
  /** Bytes still wanted: [start, end). */
  range: PlannedRange;
  size: number;
  /** Whether a 200 (whole file) is acceptable; only when `range` is the whole file. */
  acceptWhole: boolean;
  file: FileHandle;
  stallTimeoutMs: number;
  bucket?: TokenBucket | undefined;
  signal: AbortSignal;
  label: string;
  /** Called after each batch lands on disk: absolute offset and the buffers written there. */
  onWritten(offset: number, buffers: Buffer[], length: number): void;
  /** Called with every body chunk's length as it arrives (network accounting). */
  onReceived(bytes: number): void;
}

/**
 * Coalesce socket chunks (often 16–64 KiB) into positional writes of up to 1 MiB, or whatever
 * arrived in the last 50 ms on a slow connection: bytes only count (journal, progress) once they
 * are on disk, so a small batch keeps what a kill -9 loses small.
 */
const WRITE_BATCH = 1024 * 1024;
const WRITE_MAX_AGE_MS = 50;

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

type Body = Dispatcher.ResponseData['body'];

/** Drop a body we will not read; the listener keeps undici's AbortError from going uncaught. */
function discard(body: Body | undefined): void {
  if (!body || body.destroyed) return;
  body.on('error', () => undefined);
  body.destroy();
}

function protocolError(reason: string, label: string): MlcacheError {
  return new MlcacheError('PROTOCOL', `The server broke the range protocol for ${label}: ${reason}.`, {
    hint: 'Run the command again; if it keeps happening, a proxy or mirror in between is rewriting responses.',
  });
}

function diskError(error: unknown, file: string): MlcacheError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new MlcacheError('DISK_FULL', `No space left on the device while writing ${file}.`, {
      cause: error,
      hint: 'Free some disk space, then run the same command again: finished ranges are kept and the download resumes.',
    });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new MlcacheError('PERMISSION', `Permission denied writing ${file} (${code}).`, {
      cause: error,
      hint: 'Check the ownership and permissions of the cache folder.',
    });
  }
  return new MlcacheError('FILESYSTEM', `Could not write ${file}${code ? ` (${code})` : ''}.`, {
    cause: error,
    hint: 'Check that the cache folder is on a working filesystem, then run the command again.',
  });
}

export { diskError };

/**
 * Fetch `range` once. Resolves with the absolute offset reached (== range.end) when the whole
 * range is on disk; bytes written before a failure are reported through `onWritten`, so a retry
 * continues after them.
 */
export async function fetchRange(options: FetchRangeOptions): Promise<{ whole: boolean }> {
  const { source, range, size, file, signal, label } = options;
  const url = new URL(source.url);
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(signal.reason);
  if (signal.aborted) controller.abort(signal.reason);
  signal.addEventListener('abort', onOuterAbort, { once: true });
  // One timer per attempt, not one per body chunk (tens of thousands per GiB): each chunk only
  // records the time, and the timer re-arms itself for the remaining idle time when it fires.
  let stallTimer: NodeJS.Timeout | undefined;
  let lastActivity = 0;
  let stallPaused = false;
  const onStallTimer = () => {
    stallTimer = undefined;
    if (stallPaused) return;
    const idle = performance.now() - lastActivity;
    if (idle >= options.stallTimeoutMs) controller.abort(new StallError(options.stallTimeoutMs));
    else stallTimer = setTimeout(onStallTimer, options.stallTimeoutMs - idle);
  };
  const armStall = () => {
    lastActivity = performance.now();
    stallPaused = false;
    stallTimer ??= setTimeout(onStallTimer, options.stallTimeoutMs);
  };
  /** Waiting on our own disk write or rate limit is not a stall. */
  const pauseStall = () => {
    stallPaused = true;
  };
  const disarmStall = () => {
    stallPaused = true;
    if (stallTimer) clearTimeout(stallTimer);
    stallTimer = undefined;
  };

  let body: Body | undefined;
  let keepPending: (() => Promise<void>) | undefined;
  try {
    armStall();
    // Only the headers resolve() gave us: Authorization is never added here, so it cannot
    // reach a CDN origin unless the caller put it there.
    const response = await options.dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { ...source.headers, range: rangeHeader(range), 'accept-encoding': 'identity' },
      signal: controller.signal,
      // Our own stall timer covers both phases with one clear reason.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    body = response.body;
    const status = response.statusCode;
    const verdict = classifyStatus(status);
    if (verdict !== 'ok') {
      // Error bodies are small: read them so the keep-alive connection can be reused.
      await body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      const after = status === 429 || status === 503 ? retryAfterSeconds({ get: (n) => header(response.headers, n) }) : undefined;
      const error = statusError(status, source.url, { requestId: header(response.headers, 'x-request-id'), retryAfter: after, label });
      throw new AttemptError(verdict, `HTTP ${status}`, error, after);
    }
    const check = checkRangeResponse({ start: range.start, end: range.end, size, acceptWhole: options.acceptWhole }, status, {
      contentRange: header(response.headers, 'content-range'),
      contentLength: header(response.headers, 'content-length'),
    });
    if (!check.ok) {
      discard(body);
      throw new AttemptError('retry', check.reason, protocolError(check.reason, label));
    }
    const encoding = header(response.headers, 'content-encoding');
    if (encoding && encoding !== 'identity') {
      discard(body);
      const reason = `Content-Encoding ${encoding} despite Accept-Encoding: identity`;
      throw new AttemptError('retry', reason, protocolError(reason, label));
    }

    let position = check.writeAt;
    const end = check.writeAt + check.length;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let pendingSince = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const buffers = pending;
      const length = pendingBytes;
      pending = [];
      pendingBytes = 0;
      let written = 0;
      try {
        // writev may write less than asked on some filesystems; finish with plain writes.
        written = (await file.writev(buffers, position)).bytesWritten;
        if (written < length) {
          const rest = Buffer.concat(buffers).subarray(written);
          let offset = 0;
          while (offset < rest.length) {
            const { bytesWritten } = await file.write(rest, offset, rest.length - offset, position + written + offset);
            offset += bytesWritten;
          }
        }
      } catch (error) {
        throw new AttemptError('fatal', 'write failed', diskError(error, 'the partial download'));
      }
      options.onWritten(position, buffers, length);
      position += length;
    };

    keepPending = flush;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      armStall();
      if (position + pendingBytes + chunk.length > end) {
        // Longer than announced: keep nothing past the range end.
        throw new AttemptError('retry', 'body longer than announced', protocolError('body longer than announced', label));
      }
      options.onReceived(chunk.length);
      if (pendingBytes === 0) pendingSince = performance.now();
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (options.bucket) {
        pauseStall();
        await options.bucket.take(chunk.length, controller.signal);
        armStall();
      }
      if (pendingBytes >= WRITE_BATCH || performance.now() - pendingSince >= WRITE_MAX_AGE_MS) {
        pauseStall();
        await flush();
        armStall();
      }
    }
    disarmStall();
    await flush();
    if (position < end) {
      const reason = `short body (${end - position} bytes missing)`;
      throw new AttemptError('retry', reason, protocolError(reason, label));
    }
    return { whole: check.whole };
  } catch (error) {
    discard(body);
    // Bytes received before a drop, stall or abort are good (status and range were checked and
    // they lie inside the range): keep them so the retry, or the next run, starts after them.
    if (keepPending && !(error instanceof AttemptError && error.reason === 'body longer than announced')) {
      await keepPending().catch(() => undefined);
    }
    if (error instanceof AttemptError) throw error;
    const reason: unknown = controller.signal.reason;
    if (reason instanceof StallError) {
      throw new AttemptError('retry', `stalled: ${reason.message}`, classifyNetworkError(Object.assign(new Error(reason.message), { code: 'ETIMEDOUT' }), url.host));
    }
    if (signal.aborted) throw error;
    const classified = classifyNetworkError(error, url.host);
    // undici reports a body that ends before its Content-Length with its own code.
    const code = classified.systemCode ?? '';
    if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
      throw new AttemptError('retry', 'body length differs from Content-Length', protocolError('body length differs from Content-Length', label));
    }
    throw new AttemptError(isRetryableNetworkError(classified) ? 'retry' : 'fatal', classified.systemCode ?? classified.code, classified);
  } finally {
    disarmStall();
    signal.removeEventListener('abort', onOuterAbort);
  }
}
