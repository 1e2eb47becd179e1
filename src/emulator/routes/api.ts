/**
 * The Hub emulator's `/api/…` routes: whoami, the agent-harness registry, repo info (with
 * `blobs` and `expand`), the paginated tree listing and paths-info — shaped as huggingface_hub
 * hf_api.py and huggingface.js packages/hub read them.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { MlcacheError } from '../../errors.js';
import { INVALID_CREDENTIALS, authOf, checkAccess, revisionOr404 } from '../access.js';
import {
  fileAt as findFile,
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
} from '../repo-store.js';
import { sendHubError, sendJson } from '../respond.js';
import { findRepo, type EmulatorState, type RequestContext } from '../state.js';
import type { RepoType } from '../types.js';
import { decodeSegment, isTrue } from './segments.js';

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

/** `GET /api/…` (and POST paths-info): `segments` is the path split on '/', starting with 'api'. */
export async function routeApi(state: EmulatorState, ctx: RequestContext, segments: string[]): Promise<void> {
  if (segments[1] === 'whoami-v2') {
    const auth = authOf(state, ctx.req);
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
  const { id, after } = splitRepoId(state, type, segments.slice(2), (s) => s !== undefined && API_KEYWORDS.has(s));
  const repo = findRepo(state, type, id);
  if (!checkAccess(state, ctx, repo, type, id, authOf(state, ctx.req))) return;
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
  if (verb === 'tree') return tree(state, ctx, repo, rest.join('/'));
  if (verb === 'paths-info') return pathsInfo(ctx, repo, rest.join('/'));
  return sendHubError(ctx, 404, undefined, 'Not Found');
}

/** `[ns, name, ...after]` or `[name, ...after]` → repo id and what follows it. */
function splitRepoId(state: EmulatorState, type: RepoType, segments: string[], isKeyword: (s: string | undefined) => boolean): { id: string; after: string[] } {
  const [a = '', b, ...rest] = segments.map((s, i) => (i < 2 ? decodeSegment(s) : s));
  if (b === undefined) return { id: a, after: [] };
  if (isKeyword(b) && findRepo(state, type, a)) return { id: a, after: segments.slice(1) };
  if (findRepo(state, type, `${a}/${b}`) || !isKeyword(b)) return { id: `${a}/${b}`, after: rest };
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

async function repoInfo(ctx: RequestContext, repo: StoredRepo, rev: StoredRevision): Promise<void> {
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

async function tree(state: EmulatorState, ctx: RequestContext, repo: StoredRepo, remainder: string): Promise<void> {
  const { revision, path } = remainder === '' ? { revision: 'main', path: '' } : splitRevisionPath(repo, remainder);
  const rev = revisionOr404(ctx, repo, revision);
  if (!rev) return;
  const listing = listTree(rev, path, isTrue(ctx.query.get('recursive')));
  if (!listing) return sendHubError(ctx, 404, 'EntryNotFound', `${path} does not exist on "${revision}"`, { 'X-Repo-Commit': rev.commit });
  const cursor = decodeCursor(ctx.query.get('cursor'));
  if (cursor === undefined) return sendHubError(ctx, 400, undefined, 'Invalid cursor');
  const expand = isTrue(ctx.query.get('expand'));
  const page = treePage(listing, cursor, state.pageSize);
  const entries: Record<string, unknown>[] = [];
  for (const item of page.items) entries.push(await treeEntry(rev, item, expand));
  const headers: Record<string, string> = { 'X-Repo-Commit': rev.commit };
  if (page.next) {
    // An absolute URL that already carries the query, like the Hub's (PY utils/_pagination.py::paginate).
    const next = new URLSearchParams(ctx.query);
    next.set('cursor', encodeCursor(page.next));
    headers.Link = `<${state.hubUrl}${ctx.pathname}?${next.toString()}>; rel="next"`;
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

async function pathsInfo(ctx: RequestContext, repo: StoredRepo, remainder: string): Promise<void> {
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
