/**
 * Fixture repos normalised for serving: commits resolved, refs indexed, directories derived, and
 * per-file digests computed lazily (a tree page only hashes the files on that page).
 */
import { createHash } from 'node:crypto';
import { defaultSeed, sizeOf, type ContentSource } from './content.js';
import { digestOfSource, gitBlobSha1, type ContentDigest } from './digests.js';
import { SyntheticSet, type SyntheticRun } from './synthetic.js';
import type { FileDigest, FixtureFile, FixtureRepo, RepoType } from './types.js';

/** Literal content at or above this size defaults to LFS (types.ts FixtureFile.lfs). */
export const LFS_THRESHOLD = 10 * 1000 * 1000;

export interface StoredFile {
  path: string;
  source: ContentSource;
  size: number;
  lfs: boolean;
  /** Cheap identity of the content (for commit derivation without hashing). */
  identity: string;
}

export interface StoredRevision {
  commit: string;
  refs: string[];
  /** The explicit files (`FixtureRevision.files`); synthetic ones are looked up through `fileAt`. */
  files: Map<string, StoredFile>;
  dirs: Set<string>;
  date: Date;
  synthetic: SyntheticSet | undefined;
}

export interface StoredRepo {
  id: string;
  type: RepoType;
  gated: false | 'auto' | 'manual';
  private: boolean;
  disabled: boolean;
  accessTokens: string[] | undefined;
  revisions: StoredRevision[];
  createdAt: Date;
}

/** Everything a tree / paths-info / resolve answer needs about one file. */
export interface ResolvedFile extends FileDigest {
  /** git sha1 of the LFS pointer text (the tree's `oid` for LFS files); equals gitSha1 otherwise. */
  blobId: string;
  pointer: string | undefined;
  source: ContentSource;
}

export function lfsPointer(sha256: string, size: number): string {
  // The git-lfs spec v1 pointer the Hub stores in git for LFS files.
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`;
}

function toSource(file: FixtureFile): ContentSource {
  if (file.generated) return { kind: 'generated', size: file.generated.size, seed: file.generated.seed ?? defaultSeed(file.path) };
  const content = file.content ?? '';
  return { kind: 'literal', bytes: typeof content === 'string' ? Buffer.from(content) : Buffer.from(content) };
}

function normalisePath(p: string): string {
  return p.replace(/^\/+/, '').replace(/\/+$/, '');
}

const BASE_DATE = Date.UTC(2025, 0, 1);

export function buildRepo(fixture: FixtureRepo): StoredRepo {
  const type = fixture.type ?? 'model';
  const revisions = fixture.revisions.map((rev, index): StoredRevision => {
    const files = new Map<string, StoredFile>();
    const dirs = new Set<string>();
    for (const f of rev.files) {
      // Verbatim, not normalised: tests serve hostile names (`../x`, `/etc/x`) to check clients refuse them.
      const p = f.path;
      const source = toSource(f);
      const size = sizeOf(source);
      const lfs = f.lfs ?? (source.kind === 'generated' || size >= LFS_THRESHOLD);
      const identity =
        source.kind === 'literal' ? createHash('sha1').update(source.bytes).digest('hex') : `gen:${source.seed}:${source.size}`;
      files.set(p, { path: p, source, size, lfs, identity });
      const parts = p.split('/');
      for (let i = 1; i < parts.length; i++) if (parts[i - 1] !== '') dirs.add(parts.slice(0, i).join('/'));
    }
    const synthetic = rev.synthetic ? new SyntheticSet(rev.synthetic) : undefined;
    if (synthetic) {
      for (const p of files.keys()) {
        if (synthetic.indexOf(p) !== undefined || synthetic.isDir(p)) throw new Error(`${fixture.id}: file ${p} collides with the synthetic files`);
      }
    }
    const spec = synthetic ? `${synthetic.prefix}:${synthetic.count}:${synthetic.fileSize}` : '';
    const commit = rev.commit?.toLowerCase() ?? deriveCommit(type, fixture.id, index, rev.refs, files, spec);
    return { commit, refs: [...rev.refs], files, dirs, date: new Date(BASE_DATE + index * 86_400_000), synthetic };
  });
  return {
    id: fixture.id,
    type,
    gated: fixture.gated ?? false,
    private: fixture.private ?? false,
    disabled: fixture.disabled ?? false,
    accessTokens: fixture.accessTokens,
    revisions,
    createdAt: new Date(BASE_DATE),
  };
}

/** Deterministic 40-hex commit from repo id and revision contents. */
function deriveCommit(type: RepoType, id: string, index: number, refs: string[], files: Map<string, StoredFile>, synthetic: string): string {
  const hash = createHash('sha1').update(`${type}/${id}\n${index}\n${[...refs].sort().join(',')}\n`);
  // Kept out of the hash when absent, so the commits of existing fixtures do not change.
  if (synthetic !== '') hash.update(`synthetic:${synthetic}\n`);
  for (const f of [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1))) hash.update(`${f.path}\0${f.lfs}\0${f.identity}\n`);
  return hash.digest('hex');
}

const COMMIT = /^[0-9a-f]{40}$/;

/** The revision a ref, commit or `HEAD` names, or undefined. */
export function findRevision(repo: StoredRepo, revision: string): StoredRevision | undefined {
  let name = revision;
  if (name === 'HEAD') name = 'main';
  for (const prefix of ['refs/heads/', 'refs/tags/']) if (name.startsWith(prefix)) name = name.slice(prefix.length);
  const byRef = repo.revisions.find((r) => r.refs.includes(name));
  if (byRef) return byRef;
  if (revision === 'HEAD') return repo.revisions[0];
  const lower = revision.toLowerCase();
  if (COMMIT.test(lower)) return repo.revisions.find((r) => r.commit === lower);
  return undefined;
}

/**
 * Split `<revision>/<path>` as found after `/tree/` or `/resolve/`. Python encodes `/` inside the
 * revision (`refs%2Fpr%2F1`), JS's listFiles sends it raw (`refs/pr/1`; huggingface_hub
 * hf_api.py::list_repo_tree vs huggingface.js lib/list-files.ts::listFiles), so a raw remainder is matched against the repo's longest known ref.
 */
export function splitRevisionPath(repo: StoredRepo | undefined, rawRemainder: string): { revision: string; path: string } {
  const [rawFirst = '', ...rawRest] = rawRemainder.split('/');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  if (/%2f/i.test(rawFirst)) return { revision: decode(rawFirst), path: normalisePath(decode(rawRest.join('/'))) };
  const decoded = decode(rawRemainder);
  if (repo) {
    const refs = repo.revisions.flatMap((r) => r.refs).filter((ref) => ref.includes('/'));
    refs.sort((a, b) => b.length - a.length);
    for (const ref of refs) {
      if (decoded === ref) return { revision: ref, path: '' };
      if (decoded.startsWith(`${ref}/`)) return { revision: ref, path: normalisePath(decoded.slice(ref.length + 1)) };
    }
  }
  return { revision: decode(rawFirst), path: normalisePath(rawRest.map(decode).join('/')) };
}

export async function resolveFile(file: StoredFile): Promise<ResolvedFile> {
  const digest: ContentDigest = await digestOfSource(file.source);
  const pointer = file.lfs ? lfsPointer(digest.sha256, file.size) : undefined;
  return {
    path: file.path,
    size: file.size,
    gitSha1: digest.gitSha1,
    sha256: digest.sha256,
    lfs: file.lfs,
    etag: file.lfs ? digest.sha256 : digest.gitSha1,
    blobId: pointer ? gitBlobSha1(pointer) : digest.gitSha1,
    pointer,
    source: file.source,
  };
}

/** Fake but stable git tree oid for a directory entry. */
export function directoryOid(commit: string, dir: string): string {
  return createHash('sha1').update(`tree\0${commit}\0${dir}`).digest('hex');
}

export type TreeItem = { type: 'directory'; path: string } | { type: 'file'; path: string; file: StoredFile };

/** The file at `path` in a revision, explicit or synthetic (built on the fly, O(1)). */
export function fileAt(rev: StoredRevision, path: string): StoredFile | undefined {
  const explicit = rev.files.get(path);
  if (explicit || !rev.synthetic) return explicit;
  const index = rev.synthetic.indexOf(path);
  return index === undefined ? undefined : syntheticFile(rev.synthetic, index);
}

export function isDirectory(rev: StoredRevision, path: string): boolean {
  return rev.dirs.has(path) || (rev.synthetic?.isDir(path) ?? false);
}

function syntheticFile(set: SyntheticSet, index: number): StoredFile {
  const path = set.pathOf(index);
  const source = set.contentOf(index);
  return { path, source, size: sizeOf(source), lfs: false, identity: `synthetic:${path}` };
}

/** What one tree request lists: the explicit entries (sorted) and a lazily indexed synthetic run. */
export interface TreeListing {
  explicit: TreeItem[];
  synthetic: SyntheticRun;
  set: SyntheticSet | undefined;
}

/** Where a tree page starts: a position in each of the two sorted runs. */
export interface TreeCursor {
  explicit: number;
  synthetic: number;
}

/**
 * Entries under `path` ('' = root), sorted by path so a directory precedes its contents (JS
 * snapshotDownload mkdirs directory entries as they come). Undefined when `path` is no directory.
 */
export function listTree(rev: StoredRevision, path: string, recursive: boolean): TreeListing | undefined {
  if (path !== '' && !isDirectory(rev, path)) return undefined;
  const prefix = path === '' ? '' : `${path}/`;
  const inScope = (p: string) => p.startsWith(prefix) && (recursive || !p.slice(prefix.length).includes('/'));
  const items: TreeItem[] = [];
  for (const d of rev.dirs) if (inScope(d)) items.push({ type: 'directory', path: d });
  for (const f of rev.files.values()) if (inScope(f.path)) items.push({ type: 'file', path: f.path, file: f });
  items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const synthetic = rev.synthetic?.scope(path, recursive) ?? { length: 0, at: () => ({ type: 'directory', path: '' }) };
  return { explicit: items, synthetic, set: rev.synthetic };
}

/**
 * One page of a listing: a merge of the two sorted runs from `cursor`, `pageSize` entries long,
 * O(pageSize) however long the synthetic run is. A directory both runs name (the synthetic prefix
 * holding explicit files too) is listed once.
 */
export function treePage(listing: TreeListing, cursor: TreeCursor, pageSize: number): { items: TreeItem[]; next: TreeCursor | undefined } {
  const { explicit, synthetic, set } = listing;
  let e = cursor.explicit;
  let s = cursor.synthetic;
  const items: TreeItem[] = [];
  const toItem = (position: number): TreeItem => {
    const entry = synthetic.at(position);
    return entry.type === 'directory' || !set ? { type: 'directory', path: entry.path } : { type: 'file', path: entry.path, file: syntheticFile(set, entry.index) };
  };
  while (items.length < pageSize && (e < explicit.length || s < synthetic.length)) {
    const a = e < explicit.length ? explicit[e] : undefined;
    const b = s < synthetic.length ? synthetic.at(s) : undefined;
    if (a && (!b || a.path < b.path)) {
      items.push(a);
      e++;
    } else if (a && b && a.path === b.path) {
      items.push(a);
      e++;
      s++;
    } else {
      items.push(toItem(s));
      s++;
    }
  }
  const more = e < explicit.length || s < synthetic.length;
  return { items, next: more ? { explicit: e, synthetic: s } : undefined };
}

/** One tree / paths-info entry in the Hub's wire shape (huggingface_hub hf_api.py::RepoFile,
 * huggingface.js types/api/api-index-tree.ts). */
export async function treeEntry(rev: StoredRevision, item: TreeItem, expand: boolean): Promise<Record<string, unknown>> {
  const extra = expand
    ? {
        lastCommit: { id: rev.commit, title: `Update ${item.path}`, date: rev.date.toISOString() },
        securityFileStatus: { status: 'safe' },
      }
    : {};
  if (item.type === 'directory') return { type: 'directory', oid: directoryOid(rev.commit, item.path), size: 0, path: item.path, ...extra };
  const r = await resolveFile(item.file);
  return {
    type: 'file',
    oid: r.blobId,
    size: r.size,
    ...(r.lfs ? { lfs: { oid: r.sha256, size: r.size, pointerSize: Buffer.byteLength(r.pointer ?? '') } } : {}),
    path: r.path,
    ...extra,
  };
}
