/**
 * Sending a blob's bytes into an open session and completing it (distribution-spec spec.md
 * "Pushing a blob monolithically", "Pushing a blob in chunks"): one `PUT <location>?digest=` with
 * the whole blob, or a `PATCH` per chunk with `Content-Range: <start>-<end>` (inclusive, no
 * `bytes=` prefix) then an empty `PUT <location>?digest=`. Failures without progress are retried
 * within a budget after re-reading where the session stands; a PUT whose answer was lost is
 * recognised by a HEAD. All progress lives in an explicit `UploadState`.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { IntegrityError, MlcacheError, NetworkError } from '../errors.js';
import { backoffDelay, RETRYABLE_STATUSES } from '../util/net.js';
import { header, resolveLocation, type Reply } from './http.js';
import { hashPrefix, shortFile, uploadBody } from './upload-body.js';
import { parseUploadRange, withDigestParam } from './upload-protocol.js';
import { blobExists, openSession, sessionStatus, uploadFailure, what, type Session, type UploadContext } from './upload-session.js';

const MAX_FAILURES_WITHOUT_PROGRESS = 5;
const MAX_MS_WITHOUT_PROGRESS = 120_000;
/** How many times a 416 may send us back to re-read the offset without progress. */
const MAX_RANGE_RESYNCS = 5;

/** Where an upload stands; changed only by the functions of this module. */
export interface UploadState {
  session: Session;
  /** Bytes an earlier run had already uploaded into the resumed session. */
  bytesResumed: number;
  /** Bytes sent (and kept by the registry) this run. */
  sent: number;
  /** Bytes of the request in flight. */
  inflight: number;
  /** The hash of the first `hashedTo` bytes the registry holds. */
  committed: Hash;
  hashedTo: number;
  failures: number;
  resyncs: number;
  lastProgress: number;
}

export function initialState(session: Session, bytesResumed: number): UploadState {
  return { session, bytesResumed, sent: 0, inflight: 0, committed: createHash('sha256'), hashedTo: 0, failures: 0, resyncs: 0, lastProgress: Date.now() };
}

function progress(ctx: UploadContext, state: UploadState): void {
  ctx.upload.onProgress?.(state.sent + state.inflight);
}

/** A body of `length` bytes from `start`, hashed into `hash`, counted as in flight. */
function body(ctx: UploadContext, state: UploadState, start: number, length: number, hash: Hash): Readable {
  state.inflight = 0;
  const onBytes = (bytes: number) => {
    state.inflight += bytes;
    progress(ctx, state);
  };
  return uploadBody((from) => ctx.upload.open(from), start, length, hash, onBytes, () => shortFile(ctx.digest, ctx.size));
}

/** After a failed request: count it and wait. Throws `error` when the budget is spent. */
async function wait(ctx: UploadContext, state: UploadState, error: unknown, verb: string): Promise<void> {
  const { req, signal } = ctx;
  if (signal?.aborted || req.aborts.signal?.aborted) throw error;
  state.failures++;
  if (state.failures >= MAX_FAILURES_WITHOUT_PROGRESS || Date.now() - state.lastProgress > MAX_MS_WITHOUT_PROGRESS) throw error;
  const delay = backoffDelay(state.failures - 1, req.baseDelayMs, 8_000);
  req.warn(
    `${what(ctx, verb)}: ${(error instanceof Error ? error.message : String(error)).replace(/\.$/, '')}; retrying in ${(delay / 1000).toFixed(1)} s (attempt ${state.failures + 1} of ${MAX_FAILURES_WITHOUT_PROGRESS}).`,
  );
  await req.aborts.sleep(delay, signal);
}

/** Learn where the session stands again; a session the registry dropped is replaced by a new one. */
async function resync(ctx: UploadContext, state: UploadState): Promise<void> {
  const now = await sessionStatus(ctx, state.session.url);
  if (now === undefined) {
    // The registry dropped the session (distribution cancels one whose state does not match).
    await ctx.upload.sessions?.remove(ctx.key);
    state.session = await openSession(ctx);
    state.bytesResumed = 0;
    state.sent = 0;
  } else {
    // Bytes of a request whose answer was lost (or that was cut) may have landed: they count as
    // sent this run, so bytesSent + bytesResumed is the blob's size when the upload completes.
    if (now.offset > state.session.offset) state.sent += now.offset - state.session.offset;
    else if (now.offset < state.session.offset) state.sent = Math.max(0, now.offset - state.bytesResumed);
    state.session = now;
  }
}

type PutOutcome = { kind: 'stored' } | { kind: 'found' } | { kind: 'failed'; problem: unknown };

/**
 * One `PUT <session>?digest=`: with the whole blob (`open`), or empty to close a chunked session.
 * 'stored' on 200/201/204; after a failure worth retrying, the wait, then 'found' when a HEAD shows
 * the blob (only the answer was lost), else 'failed' once the session has been re-read. A refusal
 * or a spent budget is thrown.
 */
async function putWithDigest(ctx: UploadContext, state: UploadState, length: number, open?: () => Readable): Promise<PutOutcome> {
  let reply: Reply | undefined;
  let problem: unknown;
  try {
    reply = await ctx.req.request({
      method: 'PUT',
      url: withDigestParam(state.session.url, ctx.digest),
      scopes: ctx.scopes,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(length) },
      body: open,
      what: what(ctx, 'PUT'),
      signal: ctx.signal,
    });
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    problem = error;
  }
  state.inflight = 0;
  if (reply !== undefined && (reply.status === 201 || reply.status === 204 || reply.status === 200)) return { kind: 'stored' };
  if (reply !== undefined && !RETRYABLE_STATUSES.has(reply.status)) throw uploadFailure(ctx, reply, 'PUT');
  problem ??= uploadFailure(ctx, reply!, 'PUT');
  await wait(ctx, state, problem, 'PUT');
  if (await blobExists(ctx)) return { kind: 'found' };
  await resync(ctx, state);
  return { kind: 'failed', problem };
}

/**
 * Monolithic: one PUT with the whole blob. The bytes sent when the blob got there; undefined when
 * the registry kept part of a failed attempt, to be finished in chunks.
 */
export async function sendMonolithic(ctx: UploadContext, state: UploadState): Promise<number | undefined> {
  for (;;) {
    const put = await putWithDigest(ctx, state, ctx.size, () => body(ctx, state, 0, ctx.size, createHash('sha256')));
    if (put.kind === 'stored') {
      state.sent = ctx.size;
      progress(ctx, state);
      return ctx.size;
    }
    if (put.kind === 'found') return ctx.size;
    if (state.session.offset > 0) return undefined;
  }
}

/** Chunked (or the rest of a resumed session): PATCH from the session's offset to the end, then the closing PUT. The bytes sent. */
export async function sendChunks(ctx: UploadContext, state: UploadState, chunkSize: number): Promise<number> {
  const { size, digest } = ctx;
  const step = chunkSize > 0 ? chunkSize : size;
  for (;;) {
    if (state.session.offset !== state.hashedTo) {
      state.committed = await hashPrefix((from) => ctx.upload.open(from), state.session.offset, () => shortFile(digest, size));
      state.hashedTo = state.session.offset;
    }
    if (state.session.offset >= size) break;
    const start: number = state.session.offset;
    const end: number = Math.min(size, start + step) - 1;
    const length = end - start + 1;
    let attemptHash: Hash = state.committed;
    let reply: Reply;
    try {
      reply = await ctx.req.request({
        method: 'PATCH',
        url: state.session.url,
        scopes: ctx.scopes,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end}`, 'content-length': String(length) },
        body: () => {
          attemptHash = state.committed.copy();
          return body(ctx, state, start, length, attemptHash);
        },
        what: what(ctx, 'PATCH'),
        signal: ctx.signal,
      });
    } catch (error) {
      state.inflight = 0;
      if (!(error instanceof NetworkError)) throw error;
      await wait(ctx, state, error, 'PATCH');
      await resync(ctx, state);
      continue;
    }
    state.inflight = 0;
    if (reply.status === 416) {
      // Out of order: the registry holds a different amount than we thought. Ask it.
      if (++state.resyncs > MAX_RANGE_RESYNCS) throw uploadFailure(ctx, reply, 'PATCH');
      await resync(ctx, state);
      continue;
    }
    if (reply.status !== 202 && reply.status !== 204) {
      if (!RETRYABLE_STATUSES.has(reply.status)) throw uploadFailure(ctx, reply, 'PATCH');
      await wait(ctx, state, uploadFailure(ctx, reply, 'PATCH'), 'PATCH');
      await resync(ctx, state);
      continue;
    }
    const location = header(reply.headers, 'location');
    const url: string = location !== undefined ? resolveLocation(location, state.session.url, ctx.req.registry) : state.session.url;
    const offset: number = parseUploadRange(header(reply.headers, 'range')) ?? end + 1;
    if (offset === end + 1) {
      state.committed = attemptHash;
      state.hashedTo = offset;
    }
    state.sent += Math.max(0, offset - start);
    state.session = { url, offset };
    state.failures = 0;
    state.resyncs = 0;
    state.lastProgress = Date.now();
    progress(ctx, state);
    await ctx.upload.sessions?.save(ctx.key, url);
  }
  return complete(ctx, state);
}

/** Check the sha256 of what the registry holds, then close the session with an empty PUT. The bytes sent. */
async function complete(ctx: UploadContext, state: UploadState): Promise<number> {
  const { digest, size } = ctx;
  const actual = `sha256:${state.committed.digest('hex')}`;
  if (actual !== digest) {
    throw new IntegrityError(`The bytes pushed for ${digest} hash to ${actual}: the local file is damaged, or changed while it was being pushed.`, { expected: digest, actual, algorithm: 'sha256' }, {
      hint: 'Run `mlcache verify --repair` to find and re-fetch damaged files, then push again.',
    });
  }
  for (;;) {
    const put = await putWithDigest(ctx, state, 0);
    if (put.kind !== 'failed') break;
    if (state.session.offset < size) {
      // The registry lost the session or bytes while we waited: nothing left to finish here.
      throw new MlcacheError('REGISTRY_ERROR', `${ctx.req.registry} lost the upload of ${ctx.repository}@${digest} before it was complete.`, {
        hint: 'Run the push again; blobs already pushed are skipped.',
        cause: put.problem,
      });
    }
  }
  return state.sent;
}
