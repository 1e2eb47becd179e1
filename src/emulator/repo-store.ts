/**
 * Fixture repos normalised for serving: commits resolved, refs indexed, directories derived, and
 * per-file digests computed lazily (a tree page only hashes the files on that page).
 */
import { createHash } from 'node:crypto';
import { defaultSeed, sizeOf, type ContentSource } from './content.js';
import { digestOfSource, gitBlobSha1, type ContentDigest } from './digests.js';
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
  files: Map<string, StoredFile>;
  dirs: Set<string>;
  date: Date;
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
    const commit = rev.commit?.toLowerCase() ?? deriveCommit(type, fixture.id, index, rev.refs, files);
    return { commit, refs: [...rev.refs], files, dirs, date: new Date(BASE_DATE + index * 86_400_000) };
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
function deriveCommit(type: RepoType, id: string, index: number, refs: string[], files: Map<string, StoredFile>): string {
  const hash = createHash('sha1').update(`${type}/${id}\n${index}\n${[...refs].sort().join(',')}\n`);
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
 * revision (`refs%2Fpr%2F1`), JS's listFiles sends it raw (`refs/pr/1`; hub-protocol.md §1 Tree
 * listing "Disagreement"), so a raw remainder is matched against the repo's longest known ref.
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

/**
 * Entries under `path` ('' = root), sorted by path so a directory precedes its contents (JS
 * snapshotDownload mkdirs directory entries as they come). Undefined when `path` is no directory.
 */
export function listTree(rev: StoredRevision, path: string, recursive: boolean): TreeItem[] | undefined {
  if (path !== '' && !rev.dirs.has(path)) return undefined;
  const prefix = path === '' ? '' : `${path}/`;
  const inScope = (p: string) => p.startsWith(prefix) && (recursive || !p.slice(prefix.length).includes('/'));
  const items: TreeItem[] = [];
  for (const d of rev.dirs) if (inScope(d)) items.push({ type: 'directory', path: d });
  for (const f of rev.files.values()) if (inScope(f.path)) items.push({ type: 'file', path: f.path, file: f });
  items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return items;
}

/** One tree / paths-info entry in the Hub's wire shape (hub-protocol.md §1 Tree listing). */
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
