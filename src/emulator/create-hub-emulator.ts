/**
 * A Hugging Face Hub emulator on plain node:http: a hub origin (API + resolve) and a separate "CDN"
 * origin that serves LFS blobs behind signed, expiring URLs. It follows the Hub as the reference
 * clients see it (huggingface_hub file_download.py, hf_api.py, utils/_http.py; huggingface.js
 * packages/hub); choices where the Hub is ambiguous are in docs/emulator.md.
 */
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { MlcacheError } from '../errors.js';
import { readAll, readRange, readResized, type ContentSource } from './content.js';
import { FaultEngine, TokenBucket, rateLimitBucket, throttleSliceSize, type Origin } from './faults.js';
import { parseRange } from './range.js';
import {
  buildRepo,
  fileAt as findFile,
  findRevision,
  isDirectory,
  listTree,
  resolveFile,
  splitRevisionPath,
  treeEntry,
  treePage,
  type StoredRepo,
  type StoredRevision,
  type TreeCursor,
  type TreeItem,
} from './repo-store.js';
import { signCdnPath, verifyCdnUrl } from './signing.js';
import type { EmulatorStats, FaultAction, FileDigest, HubEmulator, HubEmulatorOptions, RecordedRequest, RepoType } from './types.js';

export const DEFAULT_TOKEN = 'hf_emulator_valid_token_0000';
export const DEFAULT_PAGE_SIZE = 1000;
export const DEFAULT_CDN_TTL_SEC = 3600;
/** The exact message Python matches to tell a bad token from a hidden repo (utils/_http.py::hf_raise_for_status). */
export const INVALID_CREDENTIALS = 'Invalid credentials in Authorization header';
/** The exact message Python maps to DisabledRepoError (utils/_http.py::hf_raise_for_status). */
export const DISABLED_MESSAGE = 'Access to this resource is disabled.';

const TYPE_BY_API_SEGMENT: Record<string, RepoType> = { models: 'model', datasets: 'dataset', spaces: 'space' };
const API_KEYWORDS = new Set(['revision', 'tree', 'paths-info', 'xet-read-token', 'refs', 'commits']);
const MAX_BODY = 1024 * 1024;
/** Most siblings a repo info lists (see siblingsOf). */
const SIBLINGS_LIMIT = 100_000;
/**
 * `GET /api/agent-harnesses`: the registry huggingface_hub ≥ 1.19 fetches (best effort, once a day,
 * cached in $HF_HOME/.agent_harnesses.json) to name the calling AI agent in its user-agent
 * (utils/_detect_agent.py::_fetch_registry, `Registry` = {standardEnvVars, harnesses}). The Hub
 * serves its list of known harnesses; the emulator knows none, only the two standard variables the
 * module documents (AI_AGENT, AGENT), so an agent named there is reported as "unknown".
 */
const AGENT_HARNESSES = { standardEnvVars: ['AI_AGENT', 'AGENT'], harnesses: {} } as const;

interface Ctx {
  origin: Origin;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  record: RecordedRequest;
  /** Raw path as received, no query. */
  pathname: string;
  query: URLSearchParams;
  method: string;
  signal: AbortSignal;
}

interface Auth {
  present: boolean;
  valid: boolean;
  token: string | undefined;
}

interface ContentOptions {
  headers: Record<string, string>;
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // Aborted: the client went away or the emulator is closing.
  }
}

function repoKey(type: RepoType, id: string): string {
  return `${type}:${id}`;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function isTrue(v: string | null): boolean {
  return v !== null && ['true', '1', 'True'].includes(v);
}

function contentTypeOf(path: string): string {
  if (path.endsWith('.json')) return 'application/json; charset=utf-8';
  if (/\.(md|txt|py|yaml|yml|gitattributes)$/.test(path)) return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}

function s3Error(code: string, message: string, extra: Record<string, string> = {}): string {
  const fields = Object.entries(extra)
    .map(([k, v]) => `<${k}>${v}</${k}>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${fields}<RequestId>${randomUUID()}</RequestId></Error>`;
}

export async function createHubEmulator(options: HubEmulatorOptions): Promise<HubEmulator> {
  const host = options.host ?? '127.0.0.1';
  const pageSize = Math.max(1, options.pageSize ?? DEFAULT_PAGE_SIZE);
  const tokens = new Set(options.tokens ?? [DEFAULT_TOKEN]);
  const acceptAnyToken = options.acceptAnyToken ?? false;
  const engine = new FaultEngine(options.faults);
  const secret = randomBytes(32);
  const repos = new Map<string, StoredRepo>();
  for (const fixture of options.repos) {
    const repo = buildRepo(fixture);
    repos.set(repoKey(repo.type, repo.id), repo);
  }
  /** LFS blobs the CDN can serve, registered when the hub first redirects to them. */
  const blobs = new Map<string, ContentSource>();
  const stats: EmulatorStats = { bytesServed: 0, requestCount: 0, requests: [] };
  const maxRecorded = options.maxRecordedRequests ?? Number.POSITIVE_INFINITY;
  const perConnection = new WeakMap<Socket, TokenBucket>();
  let aggregate: TokenBucket | undefined;
  const closing = new AbortController();
  // One listener per request in flight (the bench runs dozens at once): not a leak.
  setMaxListeners(0, closing.signal);
  let hubUrl = '';
  let cdnUrl = '';

  // ---------------------------------------------------------------- response helpers

  function head(ctx: Ctx, status: number, headers: Record<string, string | number>): void {
    ctx.record.status = status;
    ctx.res.writeHead(status, headers);
  }

  function sendBody(ctx: Ctx, status: number, headers: Record<string, string | number>, body: string | Buffer): void {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    head(ctx, status, { ...headers, 'Content-Length': bytes.length });
    if (ctx.method === 'HEAD') {
      ctx.res.end();
      return;
    }
    ctx.record.bytesSent += bytes.length;
    ctx.res.end(bytes);
  }

  function sendJson(ctx: Ctx, status: number, value: unknown, headers: Record<string, string> = {}): void {
    sendBody(ctx, status, { 'Content-Type': 'application/json; charset=utf-8', ...headers }, JSON.stringify(value));
  }

  /** The Hub's error shape: X-Error-Code / X-Error-Message headers and `{"error": …}` (hf_raise_for_status). */
  function sendHubError(ctx: Ctx, status: number, code: string | undefined, message: string, headers: Record<string, string> = {}): void {
    sendJson(ctx, status, { error: message }, { ...(code ? { 'X-Error-Code': code } : {}), 'X-Error-Message': message, ...headers });
  }

  // ---------------------------------------------------------------- auth

  function authOf(req: http.IncomingMessage): Auth {
    const header = req.headers.authorization;
    if (!header) return { present: false, valid: false, token: undefined };
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    const token = match?.[1]?.trim();
    if (!token) return { present: true, valid: false, token: undefined };
    return { present: true, valid: acceptAnyToken || tokens.has(token), token };
  }

  function hasRepoAccess(repo: StoredRepo, auth: Auth): boolean {
    if (!auth.valid) return false;
    return repo.accessTokens === undefined || (auth.token !== undefined && repo.accessTokens.includes(auth.token));
  }

  /** Answers the request and returns false when the caller may not see this repo. */
  function checkAccess(ctx: Ctx, repo: StoredRepo | undefined, type: RepoType, id: string, auth: Auth): repo is StoredRepo {
    if (auth.present && !auth.valid) {
      sendHubError(ctx, 401, undefined, INVALID_CREDENTIALS);
      return false;
    }
    const notFound = () => sendHubError(ctx, auth.valid ? 404 : 401, 'RepoNotFound', 'Repository not found');
    if (!repo) {
      // A missing repo is 404 whatever the token: simpler for tests. (The Hub answers 401 without a
      // token; both map to RepositoryNotFoundError in Python.)
      sendHubError(ctx, 404, 'RepoNotFound', 'Repository not found');
      return false;
    }
    if (repo.private && !hasRepoAccess(repo, auth)) {
      // 401 without a token, 404 with a token that can't see it: the Hub never confirms a private repo exists.
      notFound();
      return false;
    }
    if (repo.disabled) {
      sendHubError(ctx, 403, undefined, DISABLED_MESSAGE);
      return false;
    }
    if (repo.gated && !hasRepoAccess(repo, auth)) {
      const label = `${type} ${id}`;
      if (!auth.valid) {
        sendHubError(ctx, 401, 'GatedRepo', `Access to ${label} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
      } else {
        sendHubError(ctx, 403, 'GatedRepo', `Access to ${label} is restricted and you are not in the authorized list. Visit ${hubUrl}/${id} to ask for access.`);
      }
      return false;
    }
    return true;
  }

  function revisionOr404(ctx: Ctx, repo: StoredRepo, revision: string): StoredRevision | undefined {
    const rev = findRevision(repo, revision);
    if (!rev) sendHubError(ctx, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    return rev;
  }

  // ---------------------------------------------------------------- content streaming

  function sliceSize(): number {
    const f = engine.settings;
    return throttleSliceSize([f.perConnectionBytesPerSec, f.aggregateBytesPerSec]);
  }

  function throttleWait(socket: Socket | null, bytes: number): number {
    const f = engine.settings;
    const now = performance.now();
    let wait = 0;
    const perRate = f.perConnectionBytesPerSec;
    if (socket && perRate && perRate > 0) {
      let bucket = perConnection.get(socket);
      if (!bucket || bucket.bytesPerSec !== perRate) {
        bucket = new TokenBucket(perRate);
        perConnection.set(socket, bucket);
      }
      wait = Math.max(wait, bucket.reserve(bytes, now));
    }
    const aggRate = f.aggregateBytesPerSec;
    if (aggRate && aggRate > 0) {
      if (!aggregate || aggregate.bytesPerSec !== aggRate) aggregate = new TokenBucket(aggRate);
      wait = Math.max(wait, aggregate.reserve(bytes, now));
    } else {
      aggregate = undefined;
    }
    return wait;
  }

  function drainedOrClosed(ctx: Ctx): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        ctx.res.off('drain', done);
        ctx.signal.removeEventListener('abort', done);
        resolve();
      };
      ctx.res.once('drain', done);
      ctx.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Write one piece with throttling, accounting and backpressure; resolves once it is flushed or the client left. */
  async function writePiece(ctx: Ctx, piece: Buffer): Promise<{ flushed: Promise<void> }> {
    const slice = sliceSize();
    let flushed: Promise<void> = Promise.resolve();
    for (let o = 0; o < piece.length; o += slice) {
      const part = piece.subarray(o, Math.min(piece.length, o + slice));
      await sleep(throttleWait(ctx.res.socket, part.length), ctx.signal);
      if (ctx.signal.aborted || ctx.res.destroyed) return { flushed };
      let resolveFlush: () => void = () => {};
      flushed = new Promise<void>((resolve) => (resolveFlush = resolve));
      const ok = ctx.res.write(part, () => resolveFlush());
      ctx.record.bytesSent += part.length;
      stats.bytesServed += part.length;
      if (!ok) await drainedOrClosed(ctx);
    }
    return { flushed };
  }

  /**
   * Serve [0, size) of a file with Range support and body faults. The hub's direct files and the
   * CDN's blobs both come through here.
   */
  async function serveContent(ctx: Ctx, source: ContentSource, size: number, opts: ContentOptions): Promise<void> {
    const faults: FaultAction[] = ctx.method === 'GET' ? engine.take(ctx.origin, ctx.method, ctx.pathname, 'body') : [];
    const find = <K extends FaultAction['kind']>(kind: K) => faults.find((f): f is Extract<FaultAction, { kind: K }> => f.kind === kind);
    // wrong-length / wrong-total: the server holds a different-size object than the Hub announced.
    const wrongLength = find('wrong-length');
    const resize = wrongLength ?? find('wrong-total');
    const served = Math.max(0, size + (resize?.delta ?? 0));
    let range = parseRange(ctx.req.headers.range, served);
    if (find('ignore-range') || wrongLength) range = { kind: 'none' };
    if (range.kind === 'unsatisfiable') {
      const body = ctx.origin === 'cdn' ? s3Error('InvalidRange', 'The requested range is not satisfiable') : JSON.stringify({ error: 'Requested Range Not Satisfiable' });
      sendBody(ctx, 416, { 'Content-Range': `bytes */${served}`, 'Content-Type': ctx.origin === 'cdn' ? 'application/xml' : 'application/json; charset=utf-8' }, body);
      return;
    }
    const start = range.kind === 'range' ? range.start : 0;
    const end = range.kind === 'range' ? range.end + 1 : served;
    const headers: Record<string, string | number> = { ...opts.headers, 'Accept-Ranges': 'bytes', 'Content-Length': end - start };
    if (range.kind === 'range') {
      const shift = find('wrong-content-range')?.shift ?? 0;
      headers['Content-Range'] = `bytes ${start + shift}-${end - 1 + shift}/${served}`;
    }
    const short = find('short-body');
    // Close after a short body so the client sees the connection end before Content-Length bytes.
    if (short) headers.Connection = 'close';
    head(ctx, range.kind === 'range' ? 206 : 200, headers);
    if (ctx.method === 'HEAD') {
      ctx.res.end();
      return;
    }
    const bodyEnd = short ? Math.max(start, end - short.missing) : end;
    const drop = find('drop');
    const stall = find('stall');
    const corrupt = find('corrupt');
    let stalled = false;
    let sent = 0;
    let position = start;
    let flushed: Promise<void> = Promise.resolve();
    const dropNow = async () => {
      await flushed;
      ctx.res.socket?.destroy();
    };
    if (drop && drop.afterBytes <= 0) return dropNow();
    for (const chunk of resize ? readResized(source, served, start, bodyEnd) : readRange(source, start, bodyEnd)) {
      let rest = chunk;
      if (corrupt && corrupt.offset >= position && corrupt.offset < position + rest.length) {
        rest = Buffer.from(rest);
        const i = corrupt.offset - position;
        rest[i] = (rest[i] ?? 0) ^ 0xff;
      }
      position += chunk.length;
      while (rest.length > 0) {
        let limit = rest.length;
        if (drop) limit = Math.min(limit, drop.afterBytes - sent);
        if (stall && !stalled) limit = Math.min(limit, Math.max(0, stall.afterBytes - sent));
        if (limit > 0) {
          ({ flushed } = await writePiece(ctx, rest.subarray(0, limit)));
          rest = rest.subarray(limit);
          sent += limit;
        }
        if (ctx.signal.aborted || ctx.res.destroyed) return;
        if (drop && sent >= drop.afterBytes) return dropNow();
        if (stall && !stalled && sent >= stall.afterBytes) {
          stalled = true;
          await sleep(stall.ms, ctx.signal);
        }
      }
    }
    ctx.res.end();
  }

  // ---------------------------------------------------------------- hub routes

  function findRepo(type: RepoType, id: string): StoredRepo | undefined {
    return repos.get(repoKey(type, id));
  }

  /** `[ns, name, ...after]` or `[name, ...after]` → repo id and what follows it. */
  function splitRepoId(type: RepoType, segments: string[], isKeyword: (s: string | undefined) => boolean): { id: string; after: string[] } {
    const [a = '', b, ...rest] = segments.map((s, i) => (i < 2 ? decodeSegment(s) : s));
    if (b === undefined) return { id: a, after: [] };
    if (isKeyword(b) && findRepo(type, a)) return { id: a, after: segments.slice(1) };
    if (findRepo(type, `${a}/${b}`) || !isKeyword(b)) return { id: `${a}/${b}`, after: rest };
    return { id: a, after: segments.slice(1) };
  }

  /**
   * Sibling paths for repo info: every explicit file, then synthetic ones up to SIBLINGS_LIMIT in
   * all. huggingface_hub's snapshot_download treats a siblings list of more than 50,000 entries as
   * unreliable and lists the tree instead (_snapshot_download.py, VERY_LARGE_REPO_THRESHOLD).
   */
  function siblingsOf(rev: StoredRevision): string[] {
    const paths = [...rev.files.keys()].sort();
    const set = rev.synthetic;
    if (set) for (let i = 0; i < set.count && paths.length < SIBLINGS_LIMIT; i++) paths.push(set.pathOf(i));
    return paths;
  }

  async function repoInfo(ctx: Ctx, repo: StoredRepo, rev: StoredRevision): Promise<void> {
    const blobsWanted = isTrue(ctx.query.get('blobs'));
    const siblings: Record<string, unknown>[] = [];
    for (const p of siblingsOf(rev)) {
      if (!blobsWanted) {
        siblings.push({ rfilename: p });
        continue;
      }
      const r = await resolveFile(findFile(rev, p)!);
      siblings.push({
        rfilename: p,
        size: r.size,
        blobId: r.blobId,
        ...(r.lfs ? { lfs: { sha256: r.sha256, size: r.size, pointerSize: Buffer.byteLength(r.pointer ?? '') } } : {}),
      });
    }
    const id = repo.id;
    const full: Record<string, unknown> = {
      _id: createHash('sha1').update(`${repo.type}/${id}`).digest('hex').slice(0, 24),
      id,
      ...(repo.type === 'model' ? { modelId: id } : {}),
      author: id.includes('/') ? id.split('/')[0] : undefined,
      sha: rev.commit,
      lastModified: rev.date.toISOString(),
      createdAt: repo.createdAt.toISOString(),
      private: repo.private,
      gated: repo.gated,
      disabled: repo.disabled,
      downloads: 0,
      likes: 0,
      tags: [],
      siblings,
      usedStorage: [...rev.files.values()].reduce((n, f) => n + f.size, rev.synthetic?.totalBytes ?? 0),
    };
    const expand = [...ctx.query.getAll('expand'), ...ctx.query.getAll('expand[]')];
    if (expand.length === 0) return sendJson(ctx, 200, full);
    // With expand=…, the Hub returns only the listed properties plus the ids (PY hf_api.py::model_info).
    const picked: Record<string, unknown> = { _id: full._id, id };
    for (const key of expand) if (key in full) picked[key] = full[key];
    sendJson(ctx, 200, picked);
  }

  /** An opaque cursor: the page's start in the explicit and the synthetic run (repo-store treePage). */
  function encodeCursor(cursor: TreeCursor): string {
    return Buffer.from(JSON.stringify({ offset: cursor.explicit, ...(cursor.synthetic > 0 ? { s: cursor.synthetic } : {}) })).toString('base64url');
  }

  function decodeCursor(cursor: string | null): TreeCursor | undefined {
    if (cursor === null) return { explicit: 0, synthetic: 0 };
    const position = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
    try {
      const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { offset?: unknown; s?: unknown };
      const explicit = position(parsed.offset);
      const synthetic = parsed.s === undefined ? 0 : position(parsed.s);
      return explicit === undefined || synthetic === undefined ? undefined : { explicit, synthetic };
    } catch {
      return undefined;
    }
  }

  async function tree(ctx: Ctx, repo: StoredRepo, remainder: string): Promise<void> {
    const { revision, path } = remainder === '' ? { revision: 'main', path: '' } : splitRevisionPath(repo, remainder);
    const rev = revisionOr404(ctx, repo, revision);
    if (!rev) return;
    const listing = listTree(rev, path, isTrue(ctx.query.get('recursive')));
    if (!listing) return sendHubError(ctx, 404, 'EntryNotFound', `${path} does not exist on "${revision}"`, { 'X-Repo-Commit': rev.commit });
    const cursor = decodeCursor(ctx.query.get('cursor'));
    if (cursor === undefined) return sendHubError(ctx, 400, undefined, 'Invalid cursor');
    const expand = isTrue(ctx.query.get('expand'));
    const page = treePage(listing, cursor, pageSize);
    const entries: Record<string, unknown>[] = [];
    for (const item of page.items) entries.push(await treeEntry(rev, item, expand));
    const headers: Record<string, string> = { 'X-Repo-Commit': rev.commit };
    if (page.next) {
      // An absolute URL that already carries the query, like the Hub's (PY utils/_pagination.py::paginate).
      const next = new URLSearchParams(ctx.query);
      next.set('cursor', encodeCursor(page.next));
      headers.Link = `<${hubUrl}${ctx.pathname}?${next.toString()}>; rel="next"`;
    }
    sendJson(ctx, 200, entries, headers);
  }

  async function readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      total += buf.length;
      if (total > MAX_BODY) throw new MlcacheError('USAGE', 'paths-info body too large');
      chunks.push(buf);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function pathsInfo(ctx: Ctx, repo: StoredRepo, remainder: string): Promise<void> {
    if (ctx.method !== 'POST') return sendHubError(ctx, 405, undefined, 'Method not allowed');
    const rev = revisionOr404(ctx, repo, remainder === '' ? 'main' : decodeSegment(remainder));
    if (!rev) return;
    let paths: string[] = [];
    let expand = false;
    let body: string;
    try {
      body = await readBody(ctx.req);
    } catch {
      return sendHubError(ctx, 413, undefined, 'Request body too large');
    }
    // JS sends JSON (JS:lib/paths-info.ts), Python a form body (PY:hf_api.py::get_paths_info).
    if ((ctx.req.headers['content-type'] ?? '').includes('application/json')) {
      try {
        const parsed = JSON.parse(body) as { paths?: unknown; expand?: unknown };
        paths = Array.isArray(parsed.paths) ? parsed.paths.filter((p): p is string => typeof p === 'string') : typeof parsed.paths === 'string' ? [parsed.paths] : [];
        expand = parsed.expand === true || parsed.expand === 'true';
      } catch {
        return sendHubError(ctx, 400, undefined, 'Invalid JSON body');
      }
    } else {
      const form = new URLSearchParams(body);
      paths = [...form.getAll('paths'), ...form.getAll('paths[]')];
      expand = isTrue(form.get('expand'));
    }
    const entries: Record<string, unknown>[] = [];
    for (const raw of paths) {
      const p = raw.replace(/^\/+|\/+$/g, '');
      const file = findFile(rev, raw) ?? findFile(rev, p);
      // Paths that don't exist are left out of the answer, as the Hub does.
      const item: TreeItem | undefined = file ? { type: 'file', path: file.path, file } : isDirectory(rev, p) ? { type: 'directory', path: p } : undefined;
      if (item) entries.push(await treeEntry(rev, item, expand));
    }
    sendJson(ctx, 200, entries, { 'X-Repo-Commit': rev.commit });
  }

  async function resolve(ctx: Ctx, type: RepoType, id: string, kind: 'resolve' | 'raw', remainder: string): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return sendHubError(ctx, 405, undefined, 'Method not allowed');
    const repo = findRepo(type, id);
    if (!checkAccess(ctx, repo, type, id, authOf(ctx.req))) return;
    const { revision, path } = splitRevisionPath(repo, remainder);
    const rev = revisionOr404(ctx, repo, revision);
    if (!rev) return;
    const file = findFile(rev, path);
    if (!file) {
      // X-Repo-Commit on the 404 lets Python write .no_exist/<commit>/<path> (file_download.py::_get_metadata_or_catch_error).
      return sendHubError(ctx, 404, 'EntryNotFound', 'Entry not found', { 'X-Repo-Commit': rev.commit });
    }
    const r = await resolveFile(file);
    if (r.lfs && kind === 'resolve') {
      blobs.set(r.sha256, r.source);
      const cdnPath = `/repos/${r.sha256.slice(0, 2)}/${r.sha256.slice(2, 4)}/${r.sha256}`;
      const ttl = engine.settings.cdnUrlTtlSec ?? DEFAULT_CDN_TTL_SEC;
      const location = `${cdnUrl}${cdnPath}?${signCdnPath(secret, cdnPath, ttl, new Date())}`;
      // An LFS file: redirect to the CDN; X-Linked-* carry what Python/JS read as etag and size
      // (file_download.py::get_hf_file_metadata; JS file-download-info.ts).
      return sendBody(
        ctx,
        302,
        {
          Location: location,
          'X-Repo-Commit': rev.commit,
          'X-Linked-Etag': `"${r.sha256}"`,
          'X-Linked-Size': String(r.size),
          ETag: `"${r.blobId}"`,
          'Content-Type': 'text/plain; charset=utf-8',
          Vary: 'Origin, Accept',
        },
        `Found. Redirecting to ${location}`,
      );
    }
    if (r.lfs) {
      const pointer = Buffer.from(r.pointer ?? '');
      return serveContent(ctx, { kind: 'literal', bytes: pointer }, pointer.length, {
        headers: { ETag: `"${r.blobId}"`, 'X-Repo-Commit': rev.commit, 'Content-Type': 'text/plain; charset=utf-8' },
      });
    }
    return serveContent(ctx, r.source, r.size, {
      headers: { ETag: `"${r.gitSha1}"`, 'X-Repo-Commit': rev.commit, 'Content-Type': contentTypeOf(path) },
    });
  }

  async function routeHub(ctx: Ctx): Promise<void> {
    const segments = ctx.pathname.split('/').slice(1);
    if (segments[0] === 'api') {
      if (segments[1] === 'whoami-v2') {
        const auth = authOf(ctx.req);
        if (!auth.valid) return sendHubError(ctx, 401, undefined, INVALID_CREDENTIALS);
        return sendJson(ctx, 200, {
          type: 'user',
          id: '000000000000000000000001',
          name: 'emulator-user',
          fullname: 'Emulator User',
          auth: { type: 'access_token', accessToken: { displayName: 'emulator', role: 'read' } },
        });
      }
      if (segments[1] === 'agent-harnesses' && segments.length === 2) return sendJson(ctx, 200, AGENT_HARNESSES);
      const type = TYPE_BY_API_SEGMENT[segments[1] ?? ''];
      if (!type || segments.length < 3) return sendHubError(ctx, 404, undefined, 'Not Found');
      const { id, after } = splitRepoId(type, segments.slice(2), (s) => s !== undefined && API_KEYWORDS.has(s));
      const repo = findRepo(type, id);
      if (!checkAccess(ctx, repo, type, id, authOf(ctx.req))) return;
      const [verb, ...rest] = after;
      if (verb === undefined) {
        const rev = revisionOr404(ctx, repo, 'HEAD');
        return rev ? repoInfo(ctx, repo, rev) : undefined;
      }
      if (verb === 'revision') {
        // Python sends quote(revision, safe=''), JS encodeURIComponent; also accept raw slashes.
        const rev = revisionOr404(ctx, repo, decodeSegment(rest.join('/')));
        return rev ? repoInfo(ctx, repo, rev) : undefined;
      }
      if (verb === 'tree') return tree(ctx, repo, rest.join('/'));
      if (verb === 'paths-info') return pathsInfo(ctx, repo, rest.join('/'));
      return sendHubError(ctx, 404, undefined, 'Not Found');
    }
    let type: RepoType = 'model';
    let offset = 0;
    if (segments[0] === 'datasets' || segments[0] === 'spaces') {
      type = segments[0] === 'datasets' ? 'dataset' : 'space';
      offset = 1;
    }
    const s = segments.slice(offset);
    const verbAt = s[2] === 'resolve' || s[2] === 'raw' ? 2 : s[1] === 'resolve' || s[1] === 'raw' ? 1 : -1;
    if (verbAt < 0) return sendHubError(ctx, 404, undefined, 'Not Found');
    const id = s.slice(0, verbAt).map(decodeSegment).join('/');
    return resolve(ctx, type, id, s[verbAt] as 'resolve' | 'raw', s.slice(verbAt + 1).join('/'));
  }

  // ---------------------------------------------------------------- CDN route

  async function routeCdn(ctx: Ctx): Promise<void> {
    const xml = { 'Content-Type': 'application/xml' };
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return sendBody(ctx, 405, xml, s3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.'));
    const match = /^\/repos\/[0-9a-f]{2}\/[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(ctx.pathname);
    if (!match) return sendBody(ctx, 404, xml, s3Error('NoSuchKey', 'The specified key does not exist.'));
    const check = verifyCdnUrl(secret, ctx.pathname, ctx.query, Date.now());
    if (!check.ok) return sendBody(ctx, 403, xml, s3Error(check.code, check.message));
    const sha256 = match[1]!;
    const source = blobs.get(sha256);
    if (!source) return sendBody(ctx, 404, xml, s3Error('NoSuchKey', 'The specified key does not exist.'));
    const size = source.kind === 'literal' ? source.bytes.length : source.size;
    return serveContent(ctx, source, size, {
      headers: {
        ETag: `"${sha256}"`,
        'Content-Type': 'application/octet-stream',
        'Cache-Control': 'public, max-age=31536000, immutable',
        'Last-Modified': new Date(Date.UTC(2025, 0, 1)).toUTCString(),
      },
    });
  }

  // ---------------------------------------------------------------- dispatch

  async function handle(origin: Origin, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const record: RecordedRequest = {
      origin,
      method: req.method ?? 'GET',
      url: rawUrl,
      headers: { ...req.headers },
      status: 0,
      bytesSent: 0,
      receivedAt: Date.now(),
    };
    stats.requestCount++;
    if (stats.requests.length < maxRecorded) stats.requests.push(record);
    const controller = new AbortController();
    const abort = () => controller.abort();
    res.once('close', abort);
    closing.signal.addEventListener('abort', abort, { once: true });
    res.once('close', () => {
      closing.signal.removeEventListener('abort', abort);
      options.onRequest?.(record);
    });
    const ctx: Ctx = {
      origin,
      req,
      res,
      record,
      pathname: q < 0 ? rawUrl : rawUrl.slice(0, q),
      query: new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1)),
      method: (req.method ?? 'GET').toUpperCase(),
      signal: controller.signal,
    };
    res.setHeader('X-Request-Id', `Root=1-${randomUUID()}`);
    const pre = engine.take(origin, ctx.method, ctx.pathname, 'pre');
    let wait = engine.settings.latencyMs ?? 0;
    for (const action of pre) if (action.kind === 'delay') wait += action.ms;
    await sleep(wait, ctx.signal);
    if (ctx.signal.aborted) return;
    for (const action of pre) {
      if (action.kind === 'status') {
        const message = action.errorMessage ?? http.STATUS_CODES[action.status] ?? 'Injected failure';
        return sendHubError(ctx, action.status, action.errorCode, message, action.headers ?? {});
      }
      if (action.kind === 'rate-limit') {
        const headers: Record<string, string> = {};
        const bucket = rateLimitBucket(ctx.pathname);
        if (action.retryAfter !== undefined) headers['Retry-After'] = String(action.retryAfter);
        if (action.rateLimitReset !== undefined) {
          // Format from hub-docs rate-limits.md, parsed by PY utils/_http.py::parse_ratelimit_headers.
          headers.RateLimit = `"${bucket}";r=0;t=${action.rateLimitReset}`;
          headers['RateLimit-Policy'] = `"fixed window";"${bucket}";q=3000;w=300`;
        }
        if (action.retryAfter === undefined && action.rateLimitReset === undefined) headers['Retry-After'] = '1';
        return sendHubError(ctx, 429, undefined, 'You have been rate-limited; you can retry this action later.', headers);
      }
    }
    if (origin === 'hub') await routeHub(ctx);
    else await routeCdn(ctx);
  }

  function listener(origin: Origin) {
    return (req: http.IncomingMessage, res: http.ServerResponse) => {
      handle(origin, req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.setHeader('Content-Type', 'application/json; charset=utf-8');
          res.end(JSON.stringify({ error: `emulator internal error: ${error instanceof Error ? error.message : String(error)}` }));
        } else {
          res.destroy();
        }
      });
    };
  }

  const hubServer = http.createServer(listener('hub'));
  const cdnServer = http.createServer(listener('cdn'));
  async function listen(server: http.Server, port: number): Promise<number> {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolveListen();
      });
    });
    return (server.address() as AddressInfo).port;
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;
  hubUrl = `http://${urlHost}:${await listen(hubServer, options.port ?? 0)}`;
  try {
    cdnUrl = `http://${urlHost}:${await listen(cdnServer, options.cdnPort ?? 0)}`;
  } catch (error) {
    hubServer.close();
    throw error;
  }

  function repoOrThrow(repoId: string, type: RepoType): StoredRepo {
    const repo = findRepo(type, repoId);
    if (!repo) throw new MlcacheError('REPO_NOT_FOUND', `The emulator has no ${type} repo ${repoId}.`, { hint: 'Add it to the emulator options `repos`.' });
    return repo;
  }

  function revisionOrThrow(repo: StoredRepo, ref: string): StoredRevision {
    const rev = findRevision(repo, ref);
    if (!rev) throw new MlcacheError('REVISION_NOT_FOUND', `The emulator repo ${repo.id} has no revision ${ref}.`, { hint: 'Check the fixture refs.' });
    return rev;
  }

  async function fileAt(repoId: string, path: string, revision: string, type: RepoType) {
    const rev = revisionOrThrow(repoOrThrow(repoId, type), revision);
    const file = findFile(rev, path);
    if (!file) throw new MlcacheError('ENTRY_NOT_FOUND', `The emulator repo ${repoId}@${revision} has no file ${path}.`, { hint: 'Check the fixture files.' });
    return resolveFile(file);
  }

  return {
    get url() {
      return hubUrl;
    },
    get cdnUrl() {
      return cdnUrl;
    },
    stats,
    resetStats() {
      stats.bytesServed = 0;
      stats.requestCount = 0;
      stats.requests.length = 0;
    },
    setFaults(faults) {
      engine.set(faults);
    },
    addFaultRule(rule) {
      engine.add(rule);
    },
    commitOf(repoId, ref, type = 'model') {
      return revisionOrThrow(repoOrThrow(repoId, type), ref).commit;
    },
    moveRef(repoId, ref, target, type = 'model') {
      const repo = repoOrThrow(repoId, type);
      const to = revisionOrThrow(repo, target);
      for (const rev of repo.revisions) rev.refs = rev.refs.filter((r) => r !== ref);
      to.refs.push(ref);
    },
    async digestOf(repoId, path, revision = 'main', type = 'model'): Promise<FileDigest> {
      const r = await fileAt(repoId, path, revision, type);
      return { path: r.path, size: r.size, gitSha1: r.gitSha1, sha256: r.sha256, lfs: r.lfs, etag: r.etag };
    },
    async contentOf(repoId, path, revision = 'main', type = 'model') {
      const r = await fileAt(repoId, path, revision, type);
      return Buffer.from(readAll(r.source));
    },
    async close() {
      closing.abort();
      const stop = (server: http.Server) =>
        new Promise<void>((resolveClose) => {
          server.close(() => resolveClose());
          server.closeAllConnections();
        });
      await Promise.all([stop(hubServer), stop(cdnServer)]);
    },
  };
}
