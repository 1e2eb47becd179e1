/**
 * One ranged GET: send it, check the answer strictly, and stream the body to its offset in the
 * partial file as it arrives (batched positional writes, never the whole body in memory).
 * Every failure comes back as an `AttemptError` whose `kind` (retry-decision.ts `FailureClass`)
 * says what it means for retrying: transient, a deterministic lie, an expired URL, a redirect, or
 * fatal. The parts with state of their own are separate: the stall clock (stall-timer.ts) and the
 * write batches (batched-writer.ts); this module is the HTTP exchange that ties them together.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { MlcacheError } from '../errors.js';
import { classifyNetworkError, isRetryableNetworkError, retryAfterSeconds } from '../util/net.js';
import { firstHeaderValue } from '../util/http-headers.js';
import { fsError } from '../util/fs-error.js';
import { createBatchedWriter, type BatchedWriter } from './batched-writer.js';
import { checkRangeResponse } from './content-range.js';
import { rangeHeader, type PlannedRange } from './chunk-plan.js';
import { classifyStatus, statusError, type FailureClass } from './retry-decision.js';
import { createStallTimer } from './stall-timer.js';
import type { TokenBucket } from '../util/token-bucket.js';
import type { TransferSource } from './types.js';

export class AttemptError extends Error {
  constructor(
    readonly kind: FailureClass,
    /** Short, for 'retry' events: e.g. "HTTP 503", "stalled 30s", "short body". */
    readonly reason: string,
    readonly error: MlcacheError,
    readonly retryAfterSeconds?: number,
    /**
     * The server closed before sending any of the bytes it announced. Once is a flaky connection;
     * the same range getting it twice in a row is the same answer again (range-runner.ts).
     */
    readonly emptyCut = false,
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
  onWritten: (offset: number, buffers: Buffer[], length: number) => void;
  /** Called with every body chunk's length as it arrives (network accounting). */
  onReceived: (bytes: number) => void;
}


function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error('aborted', { cause: reason });
}

function protocolError(reason: string, label: string): MlcacheError {
  return new MlcacheError('PROTOCOL', `The server broke the range protocol for ${label}: ${reason}.`, {
    hint: 'A proxy, mirror or CDN in between is sending something other than the file the Hub announced; run the command again later, or report the mirror/proxy you use.',
  });
}

/** A deterministic protocol violation: the same request would get the same answer. */
function lie(reason: string, label: string): AttemptError {
  return new AttemptError('lie', reason, protocolError(reason, label));
}

function diskError(error: unknown, file: string): MlcacheError {
  return fsError(error, `write ${file}`, {
    diskFull: 'Free some disk space, then run the same command again: finished ranges are kept and the download resumes.',
    permission: 'Check the ownership and permissions of the cache folder.',
    other: 'Check that the cache folder is on a working filesystem, then run the command again.',
  });
}

export { diskError };

/**
 * What a failure of the exchange means for retrying (everything but our own abort). `received`:
 * whether this attempt got any body byte.
 */
function classify(error: unknown, signal: AbortSignal, host: string, label: string, received: boolean): unknown {
  if (error instanceof AttemptError) return error;
  if (error instanceof StallError) {
    return new AttemptError('transient', `stalled: ${error.message}`, classifyNetworkError(Object.assign(new Error(error.message), { code: 'ETIMEDOUT' }), host));
  }
  if (signal.aborted) return signal.reason ?? error;
  const classified = classifyNetworkError(error, host);
  // undici reports a body that ends before its Content-Length with its own code: a cut connection,
  // worth a retry. One that closed before any of the announced bytes is marked: when the same range
  // gets that twice in a row, the range runner treats it as a lie (a retry of a missing tail that a
  // server never sends would otherwise back off for a minute).
  if (classified.systemCode === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    const reason = received ? 'body cut short of its Content-Length' : 'body closed before any of the announced bytes';
    return new AttemptError('transient', reason, protocolError(reason, label), undefined, !received);
  }
  return new AttemptError(isRetryableNetworkError(classified) ? 'transient' : 'fatal', classified.systemCode ?? classified.code, classified);
}

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
  const { source, range, size, signal, label } = options;
  const url = new URL(source.url);

  return new Promise<{ whole: boolean }>((resolvePromise, rejectPromise) => {
    /** The exchange's state: one object, each field set in one place. */
    const state = {
      settled: false,
      controller: undefined as Dispatcher.DispatchController | undefined,
      /** Why we stopped the request (abort, stall, a lie, a disk error). */
      stopReason: undefined as unknown,
      /** Set once status and range are checked: where the body goes (end is exclusive). */
      accepted: undefined as { whole: boolean; end: number } | undefined,
      /** A refused status: its small body is read (keeps the connection), then this is thrown. */
      refused: undefined as AttemptError | undefined,
      refusedBytes: 0,
      /** Body bytes of the accepted answer received in this attempt. */
      received: 0,
      /** Rate limit: reading waits until this time. */
      rateUntil: 0,
      rateTimer: undefined as NodeJS.Timeout | undefined,
    };
    let writer: BatchedWriter | undefined;
    const stall = createStallTimer(options.stallTimeoutMs, () => stop(new StallError(options.stallTimeoutMs)));

    const updatePause = () => {
      const { controller } = state;
      if (!controller || state.settled) return;
      const pause = (writer?.backlogged ?? false) || state.rateUntil > performance.now();
      if (pause) {
        stall.pause();
        if (!controller.paused) controller.pause();
      } else if (controller.paused) {
        controller.resume();
        stall.activity();
      }
    };

    const finish = (error: unknown, result?: { whole: boolean }) => {
      if (state.settled) return;
      state.settled = true;
      stall.stop();
      if (state.rateTimer) clearTimeout(state.rateTimer);
      signal.removeEventListener('abort', onOuterAbort);
      if (error === undefined) resolvePromise(result!);
      // Abort reasons are passed through as they are (the engine compares them with its signal's).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      else rejectPromise(error);
    };

    /** Stop the request for `reason`, keep what was received in range, and fail with what it means. */
    const stop = (reason: unknown) => {
      if (state.settled || state.stopReason !== undefined) return;
      state.stopReason = reason;
      state.controller?.abort(asError(reason));
      void fail(reason);
    };

    const fail = async (error: unknown) => {
      // Bytes received before a drop, stall or abort are good (status and range were checked and
      // they lie inside the range): keep them so the retry, or the next run, starts after them.
      try {
        await writer?.drain();
      } catch {
        // The write error is not the reason this attempt failed; those bytes are simply lost.
      }
      finish(classify(error, signal, url.host, label, state.received > 0));
    };

    const onOuterAbort = () => stop(signal.reason);
    if (signal.aborted) {
      finish(signal.reason);
      return;
    }
    signal.addEventListener('abort', onOuterAbort, { once: true });
    stall.activity();

    const throttle = (bytes: number) => {
      const wait = options.bucket?.reserve(bytes) ?? 0;
      if (wait <= 0) return;
      state.rateUntil = Math.max(state.rateUntil, performance.now() + wait);
      if (state.rateTimer) clearTimeout(state.rateTimer);
      state.rateTimer = setTimeout(() => {
        // Timers may fire a hair before performance.now() reaches rateUntil.
        state.rateTimer = undefined;
        state.rateUntil = 0;
        updatePause();
      }, Math.ceil(state.rateUntil - performance.now()));
    };

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(ctrl) {
        state.controller = ctrl;
        if (state.stopReason !== undefined) ctrl.abort(asError(state.stopReason));
      },
      onResponseStart(_ctrl, status, headers) {
        if (status < 200 || state.settled || state.stopReason !== undefined) return;
        stall.activity();
        // A refusal that names its cause (the Hub's X-Error-Code: GatedRepo, RepoNotFound …) is a
        // refusal, not an expired signed URL: resolving again would only be refused again.
        const named = firstHeaderValue(headers, 'x-error-code') !== undefined;
        const classified = classifyStatus(status, { refreshOnUnauthorized: source.refreshOnUnauthorized });
        const verdict = named && classified === 'expired' ? 'fatal' : classified;
        if (verdict !== 'ok') {
          const after = status === 429 || status === 503 ? retryAfterSeconds({ get: (n) => firstHeaderValue(headers, n) }) : undefined;
          const error = statusError(status, source.url, { requestId: firstHeaderValue(headers, 'x-request-id'), retryAfter: after, label });
          state.refused = new AttemptError(verdict, `HTTP ${status}`, error, after);
          return;
        }
        const check = checkRangeResponse({ start: range.start, end: range.end, size, acceptWhole: options.acceptWhole }, status, {
          contentRange: firstHeaderValue(headers, 'content-range'),
          contentLength: firstHeaderValue(headers, 'content-length'),
        });
        if (!check.ok) return stop(lie(check.reason, label));
        const encoding = firstHeaderValue(headers, 'content-encoding');
        if (encoding && encoding !== 'identity') return stop(lie(`Content-Encoding ${encoding} despite Accept-Encoding: identity`, label));
        state.accepted = { whole: check.whole, end: check.writeAt + check.length };
        writer = createBatchedWriter({
          file: options.file,
          position: check.writeAt,
          onWritten: options.onWritten,
          onWriteError: (error) => stop(new AttemptError('fatal', 'write failed', diskError(error, 'the partial download'))),
          onDrained: updatePause,
        });
      },
      onResponseData(_ctrl, chunk) {
        if (state.settled || state.stopReason !== undefined) return;
        stall.activity();
        if (state.refused) {
          // Error bodies are small: read them so the keep-alive connection can be reused.
          state.refusedBytes += chunk.length;
          if (state.refusedBytes > 64 * 1024) stop(state.refused);
          return;
        }
        if (!state.accepted || !writer) return;
        // The size the Hub announced is the contract: never read past it.
        if (writer.end + chunk.length > state.accepted.end) return stop(lie('body longer than announced', label));
        options.onReceived(chunk.length);
        state.received += chunk.length;
        writer.push(chunk);
        throttle(chunk.length);
        updatePause();
      },
      onResponseEnd() {
        if (state.settled || state.stopReason !== undefined) return;
        stall.stop();
        if (state.refused) return finish(state.refused);
        const done = state.accepted;
        const w = writer;
        if (!done || !w) return finish(new AttemptError('transient', 'no response', protocolError('no response', label)));
        w.drain().then(
          () => {
            // The server ended the body on purpose (a clean end, no transport error): fewer bytes
            // than it announced is the same answer next time, so it is a lie, not a drop.
            if (w.position < done.end) finish(lie(`body ended ${done.end - w.position} bytes short of the announced size`, label));
            else finish(undefined, { whole: done.whole });
          },
          (error: unknown) => finish(classify(error, signal, url.host, label, state.received > 0)),
        );
      },
      onResponseError(_ctrl, error) {
        if (state.settled || state.stopReason !== undefined) return; // our own abort: `fail` settles
        state.stopReason = error;
        void fail(state.refused ?? error);
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
      state.stopReason = error;
      void fail(error);
    }
  });
}
