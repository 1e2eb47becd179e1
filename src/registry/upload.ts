/**
 * Pushing one blob (distribution-spec spec.md "Pushing blobs"):
 *
 * 1. `HEAD /v2/<name>/blobs/<digest>`: present → done ('exists').
 * 2. A saved session (a previous run's upload URL) is asked where it stands: `GET <url>` → 204 with
 *    `Range: 0-<last byte>`; resumed from the next byte. A session the registry no longer knows
 *    (404) is forgotten and the upload starts over.
 * 3. Cross-repository mount: `POST …/uploads/?mount=<digest>&from=<repo>` → 201 'mounted'; a 202
 *    opens an ordinary session instead ("Mounting a blob from another repository").
 * 4. Else `POST /v2/<name>/blobs/uploads/` → 202 with the session's Location.
 * 5. Monolithic: one `PUT <location>?digest=<digest>` carrying the whole blob. Chunked: `PATCH
 *    <location>` per chunk with `Content-Range: <start>-<end>` (inclusive, no `bytes=` prefix:
 *    spec.md "Pushing a blob in chunks"), each 202's Location (relative or absolute; its query
 *    string kept — distribution carries `_state` there) and `Range` giving the next offset; a 416
 *    re-reads the offset with GET; then `PUT <location>?digest=<digest>` with no body.
 *
 * Bytes stream from `open(start)` (never the whole blob in memory). The sha256 of what was sent
 * is checked against the digest before the final PUT of a chunked upload, so a file that changed
 * on disk fails here rather than after a registry round trip.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { IntegrityError, MlcacheError, NetworkError } from '../errors.js';
import { backoffDelay, RETRYABLE_STATUSES, sleep } from '../util/net.js';
import type { RegistryRequester } from './client.js';
import { header, resolveLocation, type Reply } from './http.js';
import { repositoryScope } from './scope.js';
import type { BlobUpload, UploadResult } from './types.js';

const MAX_FAILURES_WITHOUT_PROGRESS = 5;
const MAX_MS_WITHOUT_PROGRESS = 120_000;
/** How many times a 416 may send us back to re-read the offset without progress. */
const MAX_RANGE_RESYNCS = 5;

/** The key a session is saved under: registry, repository and digest. */
export function uploadSessionKey(registry: string, repository: string, digest: string): string {
  return `${registry}/${repository}@${digest}`;
}

/**
 * The next offset from an upload's `Range: 0-<end>` (or `bytes=0-<end>`). distribution answers
 * `0-0` for an empty session and, from GET, `0--1` (handlers/blobupload.go subtracts one from 0):
 * both mean offset 0. Undefined when the header is missing or not of this form. Pure.
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

interface Session {
  url: string;
  offset: number;
}

export async function uploadBlob(req: RegistryRequester, repository: string, upload: BlobUpload): Promise<UploadResult> {
  const { digest, size } = upload;
  const pushScope = repositoryScope(repository, ['pull', 'push']);
  const scopes = [pushScope, ...(upload.mountFrom ?? []).filter((r) => r !== repository).map((r) => repositoryScope(r, ['pull']))];
  const key = uploadSessionKey(req.registry, repository, digest);
  const uploadsUrl = `${req.baseUrl}/v2/${repository}/blobs/uploads/`;
  const signal = upload.signal;
  const what = (verb: string) => `${verb} blob ${repository}@${digest}`;

  const fail = (reply: Reply, verb: string) => req.fail(reply, { what: what(verb), operation: 'upload', scopes: [pushScope] });

  // 1. Already there?
  const head = await req.request({ method: 'HEAD', url: `${req.baseUrl}/v2/${repository}/blobs/${digest}`, scopes, follow: true, retry: true, what: what('HEAD'), signal });
  if (head.status === 200) {
    await upload.sessions?.remove(key);
    return { outcome: 'exists', bytesSent: 0, bytesResumed: 0 };
  }
  if (head.status !== 404) throw req.fail(head, { what: what('HEAD'), operation: 'blob', scopes: [pushScope] });

  /** Where a session stands now (GET on its URL); undefined when the registry forgot it. */
  async function status(url: string): Promise<Session | undefined> {
    const reply = await req.request({ method: 'GET', url, scopes, retry: true, what: what('GET upload status of'), signal });
    if (reply.status === 404) return undefined;
    if (reply.status !== 204 && reply.status !== 200) throw fail(reply, 'GET upload status of');
    const offset = parseUploadRange(header(reply.headers, 'range'));
    if (offset === undefined || offset > size) {
      throw new MlcacheError('PROTOCOL', `${req.registry} answered the upload status of ${repository}@${digest} without a usable Range header.`, {
        hint: 'The registry broke the protocol; report it to its operator.',
      });
    }
    const location = header(reply.headers, 'location');
    return { url: location !== undefined ? resolveLocation(location, url, req.registry) : url, offset };
  }

  async function openSession(): Promise<Session> {
    const reply = await req.request({ method: 'POST', url: uploadsUrl, scopes, headers: { 'content-length': '0' }, retry: true, what: what('POST upload of'), signal });
    if (reply.status !== 202) throw fail(reply, 'POST upload of');
    return { url: resolveLocation(header(reply.headers, 'location'), uploadsUrl, req.registry), offset: 0 };
  }

  // 2. A saved session from an earlier run.
  let session: Session | undefined;
  let bytesResumed = 0;
  const saved = await upload.sessions?.load(key);
  if (saved !== undefined) {
    session = await status(saved).catch((error: unknown) => {
      if (error instanceof MlcacheError && error.code === 'INTERRUPTED') throw error;
      req.warn(`The saved upload session for ${repository}@${digest} could not be resumed; starting over.`);
      return undefined;
    });
    if (session === undefined) await upload.sessions?.remove(key);
    else bytesResumed = session.offset;
  }

  // 3. Mount from another repository of the same registry.
  if (session === undefined) {
    for (const from of upload.mountFrom ?? []) {
      if (from === repository) continue;
      const url = `${uploadsUrl}?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
      const reply = await req.request({ method: 'POST', url, scopes, headers: { 'content-length': '0' }, retry: true, what: what(`POST mount from ${from} of`), signal });
      if (reply.status === 201) {
        await upload.sessions?.remove(key);
        return { outcome: 'mounted', bytesSent: 0, bytesResumed: 0 };
      }
      if (reply.status === 202) {
        session = { url: resolveLocation(header(reply.headers, 'location'), uploadsUrl, req.registry), offset: 0 };
        break;
      }
      // A registry that refuses mounts (or this source): upload normally.
      req.warn(`${req.registry} did not mount ${digest} from ${from} (${reply.status}); uploading it.`);
    }
  }

  // 4. A new session.
  session ??= await openSession();

  const chunkSize = upload.chunkSize !== undefined && upload.chunkSize > 0 ? upload.chunkSize : 0;
  let committed: Hash = createHash('sha256');
  let hashedTo = 0;
  let sent = 0;
  let inflight = 0;
  const progress = () => upload.onProgress?.(sent + inflight);

  /** The hash of the first `offset` bytes, read from disk (a resumed session's prefix). */
  async function hashPrefix(offset: number): Promise<void> {
    committed = createHash('sha256');
    if (offset > 0) {
      const source = upload.open(0);
      let left = offset;
      try {
        for await (const chunk of source as AsyncIterable<Buffer>) {
          const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
          committed.update(part);
          left -= part.length;
          if (left === 0) break;
        }
      } finally {
        source.destroy();
      }
      if (left > 0) throw shortFile();
    }
    hashedTo = offset;
  }

  const shortFile = () =>
    new MlcacheError('FILESYSTEM', `The file for ${digest} ended before its ${size} bytes while it was being pushed.`, { hint: 'The file changed during the push: run it again.' });

  /** A body of `length` bytes from `start`, hashed into `hash` as undici reads it. */
  function body(start: number, length: number, hash: Hash): Readable {
    const source = upload.open(start);
    async function* generate(): AsyncGenerator<Buffer> {
      let left = length;
      try {
        if (left > 0) {
          for await (const chunk of source as AsyncIterable<Buffer>) {
            const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
            hash.update(part);
            left -= part.length;
            inflight += part.length;
            progress();
            yield part;
            if (left === 0) break;
          }
        }
      } finally {
        source.destroy();
      }
      if (left > 0) throw shortFile();
    }
    return Readable.from(generate(), { objectMode: false });
  }

  let failures = 0;
  let resyncs = 0;
  let lastProgress = Date.now();

  /** After a failed request: count it and wait. Throws `error` when the budget is spent. */
  async function wait(error: unknown, verb: string): Promise<void> {
    if (signal?.aborted || req.aborts.signal?.aborted) throw error;
    failures++;
    if (failures >= MAX_FAILURES_WITHOUT_PROGRESS || Date.now() - lastProgress > MAX_MS_WITHOUT_PROGRESS) throw error;
    const delay = backoffDelay(failures - 1, req.baseDelayMs, 8_000);
    req.warn(`${what(verb)}: ${(error instanceof Error ? error.message : String(error)).replace(/\.$/, '')}; retrying in ${(delay / 1000).toFixed(1)} s (attempt ${failures + 1} of ${MAX_FAILURES_WITHOUT_PROGRESS}).`);
    const controller = req.aborts.begin(signal);
    try {
      await sleep(delay, controller.signal);
    } finally {
      controller.done();
    }
  }

  /** Learn where the session stands again; a session the registry dropped is replaced by a new one. */
  async function resync(): Promise<void> {
    const now = await status(session!.url);
    if (now === undefined) {
      // The registry dropped the session (distribution cancels one whose state does not match).
      await upload.sessions?.remove(key);
      session = await openSession();
      bytesResumed = 0;
      sent = 0;
    } else {
      // Bytes of a request whose answer was lost (or that was cut) may have landed: they count as
      // sent this run, so bytesSent + bytesResumed is the blob's size when the upload completes.
      if (now.offset > session!.offset) sent += now.offset - session!.offset;
      else if (now.offset < session!.offset) sent = Math.max(0, now.offset - bytesResumed);
      session = now;
    }
  }

  async function recover(error: unknown, verb: string): Promise<void> {
    await wait(error, verb);
    await resync();
  }

  /** Whether the blob is in the repository now (a PUT whose answer was lost may have worked). */
  async function blobExists(): Promise<boolean> {
    const reply = await req.request({ method: 'HEAD', url: `${req.baseUrl}/v2/${repository}/blobs/${digest}`, scopes, follow: true, retry: true, what: what('HEAD'), signal });
    return reply.status === 200;
  }

  const done = async (bytesSent: number): Promise<UploadResult> => {
    await upload.sessions?.remove(key);
    return { outcome: 'uploaded', bytesSent, bytesResumed };
  };

  const retryable = (error: unknown) => error instanceof NetworkError;
  const retryableReply = (reply: Reply) => RETRYABLE_STATUSES.has(reply.status);

  // 5. Monolithic: one PUT with the whole body.
  if (chunkSize === 0 && session.offset === 0) {
    for (;;) {
      let reply: Reply | undefined;
      let problem: unknown;
      try {
        reply = await req.request({
          method: 'PUT',
          url: withDigestParam(session.url, digest),
          scopes,
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
          body: () => {
            inflight = 0;
            return body(0, size, createHash('sha256'));
          },
          what: what('PUT'),
          signal,
        });
      } catch (error) {
        if (!retryable(error)) throw error;
        problem = error;
      }
      inflight = 0;
      if (reply !== undefined && (reply.status === 201 || reply.status === 204 || reply.status === 200)) {
        sent = size;
        progress();
        return done(size);
      }
      if (reply !== undefined && !retryableReply(reply)) throw fail(reply, 'PUT');
      await wait(problem ?? fail(reply!, 'PUT'), 'PUT');
      if (await blobExists()) return done(size); // it went through; only the answer was lost
      await resync();
      if (session.offset > 0) break; // the registry kept part of it: finish in chunks below
    }
  }

  // 5'. Chunked (or the rest of a resumed session).
  const step = chunkSize > 0 ? chunkSize : size;
  for (;;) {
    if (session.offset !== hashedTo) await hashPrefix(session.offset);
    if (session.offset >= size) break;
    const start: number = session.offset;
    const end: number = Math.min(size, start + step) - 1;
    const length = end - start + 1;
    let attemptHash: Hash = committed;
    let reply: Reply;
    try {
      reply = await req.request({
        method: 'PATCH',
        url: session.url,
        scopes,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end}`, 'content-length': String(length) },
        body: () => {
          inflight = 0;
          attemptHash = committed.copy();
          return body(start, length, attemptHash);
        },
        what: what('PATCH'),
        signal,
      });
    } catch (error) {
      inflight = 0;
      if (!retryable(error)) throw error;
      await recover(error, 'PATCH');
      continue;
    }
    inflight = 0;
    if (reply.status === 416) {
      // Out of order: the registry holds a different amount than we thought. Ask it.
      if (++resyncs > MAX_RANGE_RESYNCS) throw fail(reply, 'PATCH');
      await resync();
      continue;
    }
    if (reply.status !== 202 && reply.status !== 204) {
      if (!retryableReply(reply)) throw fail(reply, 'PATCH');
      await recover(fail(reply, 'PATCH'), 'PATCH');
      continue;
    }
    const location = header(reply.headers, 'location');
    const url: string = location !== undefined ? resolveLocation(location, session.url, req.registry) : session.url;
    const offset: number = parseUploadRange(header(reply.headers, 'range')) ?? end + 1;
    if (offset === end + 1) {
      committed = attemptHash;
      hashedTo = offset;
    }
    sent += Math.max(0, offset - start);
    session = { url, offset };
    failures = 0;
    resyncs = 0;
    lastProgress = Date.now();
    progress();
    await upload.sessions?.save(key, url);
  }

  const actual = `sha256:${committed.digest('hex')}`;
  if (actual !== digest) {
    throw new IntegrityError(`The bytes pushed for ${digest} hash to ${actual}: the local file is damaged, or changed while it was being pushed.`, { expected: digest, actual, algorithm: 'sha256' }, {
      hint: 'Run `mlcache verify --repair` to find and re-fetch damaged files, then push again.',
    });
  }
  for (;;) {
    let reply: Reply | undefined;
    let problem: unknown;
    try {
      reply = await req.request({
        method: 'PUT',
        url: withDigestParam(session.url, digest),
        scopes,
        headers: { 'content-type': 'application/octet-stream', 'content-length': '0' },
        what: what('PUT'),
        signal,
      });
    } catch (error) {
      if (!retryable(error)) throw error;
      problem = error;
    }
    if (reply !== undefined && (reply.status === 201 || reply.status === 204 || reply.status === 200)) break;
    if (reply !== undefined && !retryableReply(reply)) throw fail(reply, 'PUT');
    await wait(problem ?? fail(reply!, 'PUT'), 'PUT');
    if (await blobExists()) break; // it went through; only the answer was lost
    await resync();
    if (session.offset < size) {
      // The registry lost the session or bytes while we waited: nothing left to finish here.
      throw new MlcacheError('REGISTRY_ERROR', `${req.registry} lost the upload of ${repository}@${digest} before it was complete.`, {
        hint: 'Run the push again; blobs already pushed are skipped.',
        cause: problem ?? (reply !== undefined ? fail(reply, 'PUT') : undefined),
      });
    }
  }
  return done(sent);
}
