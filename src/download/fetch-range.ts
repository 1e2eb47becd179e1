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
 * Coalesce socket chunks (often 16–64 KiB) into positional writes of up to 512 KiB, or whatever
 * arrived in the last 50 ms on a slow connection: bytes only count (journal, progress) once they
 * are on disk, so a small batch keeps what a kill -9 loses small. The next batch fills while one is
 * written, so a connection holds at most two.
 */
const WRITE_BATCH = 512 * 1024;
const WRITE_MAX_AGE_MS = 50;

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error('aborted', { cause: reason });
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
 * Fetch `range` once. Resolves when the whole range is on disk; bytes written before a failure are
 * reported through `onWritten`, so a retry continues after them.
 *
 * The response goes through undici's dispatch handler API rather than `request()`: each chunk
 * arrives in a callback and is queued for the next positional write, without a Readable stream,
 * an async iterator and a promise per chunk (about a fifth of the receive path's CPU on a GiB).
 * Reading pauses while a write batch is on its way to the disk or the rate limit asks to wait.
 */
export function fetchRange(options: FetchRangeOptions): Promise<{ whole: boolean }> {
  const { source, range, size, file, signal, label } = options;
  const url = new URL(source.url);

  return new Promise<{ whole: boolean }>((resolvePromise, rejectPromise) => {
    let settled = false;
    let controller: Dispatcher.DispatchController | undefined;
    /** Why the request was stopped by us (abort, stall, a protocol or disk error). */
    let stopReason: unknown;

    // ---- stall detection: one timer per attempt, re-armed for the remaining idle time ----------
    let stallTimer: NodeJS.Timeout | undefined;
    let lastActivity = performance.now();
    let stallPaused = false;
    const onStallTimer = () => {
      stallTimer = undefined;
      if (settled || stallPaused) return;
      const idle = performance.now() - lastActivity;
      if (idle >= options.stallTimeoutMs) stop(new StallError(options.stallTimeoutMs));
      else stallTimer = setTimeout(onStallTimer, options.stallTimeoutMs - idle);
    };
    const armStall = () => {
      lastActivity = performance.now();
      stallPaused = false;
      stallTimer ??= setTimeout(onStallTimer, options.stallTimeoutMs);
    };
    const disarmStall = () => {
      stallPaused = true;
      if (stallTimer) clearTimeout(stallTimer);
      stallTimer = undefined;
    };

    // ---- the answer ------------------------------------------------------------------------------
    /** Set once the status and range are checked: where the body goes. */
    let accepted: { whole: boolean; end: number } | undefined;
    /** A refused status: its small body is read (keeps the connection) and then this is thrown. */
    let refused: AttemptError | undefined;
    let refusedBytes = 0;
    let position = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let pendingSince = 0;

    // ---- pausing: reading stops while a write is in flight or the rate limit asks to wait ------
    let writing = false;
    let rateUntil = 0;
    let rateTimer: NodeJS.Timeout | undefined;
    const updatePause = () => {
      if (!controller || settled) return;
      // One batch may queue while the previous one is written (network and disk overlap); more
      // than that waits, so memory per connection stays at two batches.
      const pause = (writing && pendingBytes >= WRITE_BATCH) || rateUntil > performance.now();
      // Waiting on our own disk or rate limit is not a stall.
      if (pause) {
        stallPaused = true;
        if (!controller.paused) controller.pause();
      } else if (controller.paused) {
        controller.resume();
        armStall();
      }
    };

    /** Write what is queued, one batch at a time; a write failure stops the request. */
    let writes: Promise<void> = Promise.resolve();
    /** Set by a failed write: nothing queued after it may be written (its offset is unknown). */
    let writeFailed = false;
    const writeBatch = async (): Promise<void> => {
      if (writeFailed) return;
      const buffers = pending;
      const length = pendingBytes;
      pending = [];
      pendingBytes = 0;
      let written = 0;
      let whole: Buffer | undefined;
      try {
        // writev may write less than asked on some filesystems; finish with plain writes.
        written = (await file.writev(buffers, position)).bytesWritten;
        if (written < length) {
          whole = Buffer.concat(buffers);
          while (written < length) written += (await file.write(whole, written, length - written, position + written)).bytesWritten;
        }
      } catch (error) {
        writeFailed = true;
        pending = [];
        pendingBytes = 0;
        // What did land (a full disk may take part of a batch) is good and counts for the resume.
        if (written > 0) {
          options.onWritten(position, [(whole ?? Buffer.concat(buffers)).subarray(0, written)], written);
          position += written;
        }
        throw new AttemptError('fatal', 'write failed', diskError(error, 'the partial download'));
      }
      options.onWritten(position, buffers, length);
      position += length;
    };
    /** Start writing what is queued unless a write is in flight (it picks up full batches itself). */
    const flush = (): void => {
      if (pendingBytes === 0 || writing) return;
      writing = true;
      writes = (async () => {
        try {
          do await writeBatch();
          while (pendingBytes >= WRITE_BATCH && !settled);
        } finally {
          writing = false;
        }
      })();
      writes.then(updatePause, (error: unknown) => stop(error));
    };
    /** After the body (or a failure): every received byte inside the range goes to disk. */
    const drain = async (): Promise<void> => {
      await writes.catch(() => undefined);
      while (pendingBytes > 0 && !writeFailed) await writeBatch();
    };

    const finish = (error: unknown, result?: { whole: boolean }) => {
      if (settled) return;
      settled = true;
      disarmStall();
      if (rateTimer) clearTimeout(rateTimer);
      signal.removeEventListener('abort', onOuterAbort);
      if (error === undefined) resolvePromise(result!);
      // Abort reasons are passed through as they are (the engine compares them with its signal's).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      else rejectPromise(error);
    };

    /** Stop the request for `reason`, keep what was received, and fail with what it means. */
    const stop = (reason: unknown) => {
      if (settled || stopReason !== undefined) return;
      stopReason = reason;
      controller?.abort(asError(reason));
      void fail(reason);
    };

    const fail = async (error: unknown) => {
      // Bytes received before a drop, stall or abort are good (status and range were checked and
      // they lie inside the range): keep them so the retry, or the next run, starts after them.
      const overflow = error instanceof AttemptError && error.reason === 'body longer than announced';
      if (accepted && !overflow) {
        try {
          await drain();
        } catch {
          // The write error is not the reason this attempt failed; the bytes are simply lost.
        }
      } else {
        await writes.catch(() => undefined);
      }
      finish(classify(error));
    };

    const classify = (error: unknown): unknown => {
      if (error instanceof AttemptError) return error;
      if (error instanceof StallError) {
        return new AttemptError('retry', `stalled: ${error.message}`, classifyNetworkError(Object.assign(new Error(error.message), { code: 'ETIMEDOUT' }), url.host));
      }
      if (signal.aborted) return signal.reason ?? error;
      const classified = classifyNetworkError(error, url.host);
      // undici reports a body that ends before its Content-Length with its own code.
      const code = classified.systemCode ?? '';
      if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
        return new AttemptError('retry', 'body length differs from Content-Length', protocolError('body length differs from Content-Length', label));
      }
      return new AttemptError(isRetryableNetworkError(classified) ? 'retry' : 'fatal', classified.systemCode ?? classified.code, classified);
    };

    const onOuterAbort = () => stop(signal.reason);
    if (signal.aborted) {
      finish(signal.reason);
      return;
    }
    signal.addEventListener('abort', onOuterAbort, { once: true });
    armStall();

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(ctrl) {
        controller = ctrl;
        if (stopReason !== undefined) ctrl.abort(asError(stopReason));
      },
      onResponseStart(_ctrl, status, headers) {
        if (status < 200 || settled || stopReason !== undefined) return;
        armStall();
        const verdict = classifyStatus(status);
        if (verdict !== 'ok') {
          const after = status === 429 || status === 503 ? retryAfterSeconds({ get: (n) => header(headers, n) }) : undefined;
          const error = statusError(status, source.url, { requestId: header(headers, 'x-request-id'), retryAfter: after, label });
          refused = new AttemptError(verdict, `HTTP ${status}`, error, after);
          return;
        }
        const check = checkRangeResponse({ start: range.start, end: range.end, size, acceptWhole: options.acceptWhole }, status, {
          contentRange: header(headers, 'content-range'),
          contentLength: header(headers, 'content-length'),
        });
        if (!check.ok) {
          stop(new AttemptError('retry', check.reason, protocolError(check.reason, label)));
          return;
        }
        const encoding = header(headers, 'content-encoding');
        if (encoding && encoding !== 'identity') {
          const reason = `Content-Encoding ${encoding} despite Accept-Encoding: identity`;
          stop(new AttemptError('retry', reason, protocolError(reason, label)));
          return;
        }
        accepted = { whole: check.whole, end: check.writeAt + check.length };
        position = check.writeAt;
      },
      onResponseData(_ctrl, chunk) {
        if (settled || stopReason !== undefined) return;
        armStall();
        if (refused) {
          // Error bodies are small: read them so the keep-alive connection can be reused.
          refusedBytes += chunk.length;
          if (refusedBytes > 64 * 1024) stop(refused);
          return;
        }
        if (!accepted) return;
        if (position + pendingBytes + chunk.length > accepted.end) {
          // Longer than announced: keep nothing past the range end.
          stop(new AttemptError('retry', 'body longer than announced', protocolError('body longer than announced', label)));
          return;
        }
        options.onReceived(chunk.length);
        if (pendingBytes === 0) pendingSince = performance.now();
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (options.bucket) {
          const wait = options.bucket.reserve(chunk.length);
          if (wait > 0) {
            rateUntil = Math.max(rateUntil, performance.now() + wait);
            if (rateTimer) clearTimeout(rateTimer);
            rateTimer = setTimeout(() => {
              // Timers may fire a hair before performance.now() reaches rateUntil.
              rateTimer = undefined;
              rateUntil = 0;
              updatePause();
            }, Math.ceil(rateUntil - performance.now()));
            updatePause();
          }
        }
        if (pendingBytes >= WRITE_BATCH || performance.now() - pendingSince >= WRITE_MAX_AGE_MS) flush();
        updatePause();
      },
      onResponseEnd() {
        if (settled || stopReason !== undefined) return;
        disarmStall();
        if (refused) {
          finish(refused);
          return;
        }
        const done = accepted;
        if (!done) {
          finish(new AttemptError('retry', 'no response', protocolError('no response', label)));
          return;
        }
        drain().then(
          () => {
            if (position < done.end) {
              const reason = `short body (${done.end - position} bytes missing)`;
              finish(new AttemptError('retry', reason, protocolError(reason, label)));
            } else {
              finish(undefined, { whole: done.whole });
            }
          },
          (error: unknown) => finish(classify(error)),
        );
      },
      onResponseError(_ctrl, error) {
        if (settled) return;
        if (stopReason !== undefined) return; // our own abort: `fail` settles with the reason
        stopReason = error;
        void fail(refused ?? error);
      },
    };

    try {
      // Only the headers resolve() gave us: Authorization is never added here, so it cannot
      // reach a CDN origin unless the caller put it there. Our own stall timer covers headers and
      // body with one clear reason.
      options.dispatcher.dispatch(
        {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: 'GET',
          headers: { ...source.headers, range: rangeHeader(range), 'accept-encoding': 'identity' },
          headersTimeout: 0,
          bodyTimeout: 0,
        },
        handler,
      );
    } catch (error) {
      stopReason = error;
      void fail(error);
    }
  });
}
