/**
 * Planning a snapshot: revision → commit, the file list at that commit, include/exclude, and what
 * the cache already holds. Nothing is written here, so `--dry-run` and the disk preflight can use
 * the plan as is, and a hostile file list is refused before the first byte lands.
 */
import { lstat, stat } from 'node:fs/promises';
import { blobPath, readRef, readTreeCache, repoPaths, snapshotFilePath, validateRepoFilePath, validateRevisionName } from '../cache/index.js';
import type { HubClient, RepoFile, RepoRef } from '../hub/types.js';
import { isCommitHash } from '../hub/index.js';
import { MlcacheError } from '../errors.js';
import { selectPaths } from '../util/file-selection.js';

export interface SnapshotRequest {
  repo: RepoRef;
  /** Branch, tag, `refs/pr/N` or commit. @default 'main' */
  revision?: string | undefined;
  /** fnmatch patterns (huggingface_hub semantics). */
  include?: readonly string[] | undefined;
  exclude?: readonly string[] | undefined;
  /** Ordered weight-format alternatives: the first that matches a file is fetched (util/file-selection.ts). */
  formats?: ReadonlyArray<readonly string[]> | undefined;
  /** Exact paths (or `dir/` prefixes) to fetch; when given, include/exclude are ignored. */
  files?: readonly string[] | undefined;
}

export interface PlannedFile {
  path: string;
  size: number;
  /** Blob name: sha256 for LFS files, git blob sha1 otherwise. */
  etag: string;
  lfs: boolean;
  /** The blob is already in blobs/ with the right size. */
  cached: boolean;
  /** The snapshot pointer already resolves to that blob. */
  linked: boolean;
}

export interface SnapshotPlan {
  repo: RepoRef;
  revision: string;
  commit: string;
  /** Every file at the commit (for trees/<commit>.json), unfiltered. */
  tree: RepoFile[];
  /** Where the tree came from: the Hub, or trees/<commit>.json already in the cache. */
  treeSource: 'hub' | 'cache';
  files: PlannedFile[];
  bytesTotal: number;
  /** Bytes still to download (each blob counted once). */
  bytesNeeded: number;
  snapshotDir: string;
}

export interface PlanContext {
  hub: HubClient;
  cacheDir: string;
}

async function fileSize(p: string): Promise<number | undefined> {
  try {
    const s = await stat(p);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

async function pointerTargetsBlob(pointer: string, expectedSize: number): Promise<boolean> {
  try {
    await lstat(pointer);
    return (await fileSize(pointer)) === expectedSize;
  } catch {
    return false;
  }
}

/** Select files by explicit paths (`dir/` selects everything below); unknown paths are an error. */
function selectExplicit(tree: RepoFile[], wanted: readonly string[], repo: RepoRef, revision: string): RepoFile[] {
  const byPath = new Map(tree.map((f) => [f.path, f]));
  const selected = new Map<string, RepoFile>();
  for (const want of wanted) {
    const exact = byPath.get(want);
    if (exact) {
      selected.set(exact.path, exact);
      continue;
    }
    const prefix = want.endsWith('/') ? want : `${want}/`;
    const below = tree.filter((f) => f.path.startsWith(prefix));
    if (below.length === 0) {
      throw new MlcacheError('ENTRY_NOT_FOUND', `${repo.id} has no file "${want}" at revision ${revision}.`, {
        hint: 'Check the file name (it is case-sensitive), or run with --dry-run to list the files.',
      });
    }
    for (const f of below) selected.set(f.path, f);
  }
  return [...selected.values()];
}

/**
 * A listing where one path is both a file and a folder of another (`a` and `a/b`), or lists a path
 * twice, cannot be materialized as a snapshot; no honest Hub sends one. Refuse it before writing.
 */
function verifyTreeShape(tree: RepoFile[], repo: RepoRef): void {
  const files = new Set<string>();
  for (const file of tree) {
    if (files.has(file.path)) {
      throw new MlcacheError('PROTOCOL', `${repo.id}'s file list names "${file.path}" twice.`, {
        hint: 'Nothing was written. Retry later; if it persists, the endpoint or a proxy is misbehaving.',
      });
    }
    files.add(file.path);
  }
  for (const file of tree) {
    const parts = file.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join('/');
      if (files.has(folder)) {
        throw new MlcacheError('PROTOCOL', `${repo.id}'s file list names "${folder}" both as a file and as the folder of "${file.path}".`, {
          hint: 'Nothing was written. Retry later; if it persists, the endpoint or a proxy is misbehaving.',
        });
      }
    }
  }
}

function selectByPatterns(tree: RepoFile[], request: SnapshotRequest, commit: string): RepoFile[] {
  const { selected, format } = selectPaths(
    tree.map((f) => f.path),
    request,
  );
  if (format === -1) {
    const expected = (request.formats ?? []).map((patterns) => patterns.join(' + ')).join(' | ');
    throw new MlcacheError('ENTRY_NOT_FOUND', `${request.repo.id} has none of the expected weight formats at ${commit.slice(0, 12)} (${expected}).`, {
      hint: 'The repo layout changed: list its files with `mlcache download <repo> --dry-run` and update the entry\'s "formats".',
    });
  }
  const keep = new Set(selected);
  return tree.filter((f) => keep.has(f.path));
}

export async function planSnapshot(ctx: PlanContext, request: SnapshotRequest): Promise<SnapshotPlan> {
  const revision = request.revision ?? 'main';
  const { repo } = request;
  // The revision becomes refs/<revision>, written after every file is in place: a name that
  // cannot be a ref (`..`, absolute, control characters) must fail before the first request, not
  // after the whole download (UNSAFE_PATH, exit 10).
  validateRevisionName(revision);
  const commit = isCommitHash(revision) ? revision : (await ctx.hub.resolveRevision(repo, revision)).commit;

  const cachedTree = await readTreeCache(ctx.cacheDir, repo, commit);
  const tree: RepoFile[] = cachedTree ?? (await ctx.hub.listFiles(repo, commit));
  const treeSource = cachedTree ? 'cache' : 'hub';

  // Every name from the Hub is untrusted: refuse the whole plan if one is hostile.
  for (const file of tree) {
    try {
      validateRepoFilePath(file.path);
    } catch (error) {
      throw new MlcacheError('UNSAFE_PATH', `${repo.id} lists an unsafe file name: ${(error as Error).message}`, {
        hint: 'Nothing was written. The repo (or a proxy in between) is sending hostile paths; report it to the repo owner.',
        cause: error,
      });
    }
  }

  verifyTreeShape(tree, repo);

  const selected =
    request.files && request.files.length > 0 ? selectExplicit(tree, request.files, repo, revision) : selectByPatterns(tree, request, commit);

  const snapshotDir = `${repoPaths(ctx.cacheDir, repo).snapshotsDir}/${commit}`;
  const seen = new Set<string>();
  let bytesTotal = 0;
  let bytesNeeded = 0;
  const files = await Promise.all(
    selected.map(async (f): Promise<PlannedFile> => {
      const etag = f.lfs?.oid ?? f.oid;
      const size = f.lfs?.size ?? f.size;
      const cached = (await fileSize(blobPath(ctx.cacheDir, repo, etag))) === size;
      const linked = cached && (await pointerTargetsBlob(snapshotFilePath(ctx.cacheDir, repo, commit, f.path), size));
      return { path: f.path, size, etag, lfs: f.lfs !== undefined, cached, linked };
    }),
  );
  files.sort((a, b) => a.path.localeCompare(b.path));
  for (const f of files) {
    bytesTotal += f.size;
    if (!f.cached && !seen.has(f.etag)) bytesNeeded += f.size;
    seen.add(f.etag);
  }
  return { repo, revision, commit, tree, treeSource, files, bytesTotal, bytesNeeded, snapshotDir };
}

/** The commit a revision points at in the local cache (refs/<revision>), with no network. */
export async function cachedCommit(cacheDir: string, repo: RepoRef, revision: string): Promise<string | undefined> {
  if (isCommitHash(revision)) return revision;
  const ref = await readRef(cacheDir, repo, revision);
  return ref !== undefined && isCommitHash(ref) ? ref : undefined;
}
