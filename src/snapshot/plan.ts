/**
 * Planning a snapshot: revision → commit, the file list at that commit, include/exclude, and what
 * the cache already holds. Nothing is written here, so `--dry-run` and the disk preflight can use
 * the plan as is, and a hostile file list is refused before the first byte lands. Its parts:
 * plan-listing.ts (names, shape and selection of a listing), cache-presence.ts (what the cache
 * already holds), checkpoint.ts (the abort/yield points of the per-file loops).
 */
import { readRef, readTreeCache, repoPaths, validateRevisionName, verifyEtag } from '../cache/index.js';
import type { HubClient, RepoFile, RepoRef } from '../hub/types.js';
import { isCommitHash } from '../hub/index.js';
import { markLinked, presentBlobs } from './cache-presence.js';
import { SLICE, checkpoint } from './checkpoint.js';
import { selectFiles, verifyNames, verifyTreeShape } from './plan-listing.js';

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
  /**
   * The commit `revision` is known to point at (mlcache.lock): no revision call; `revision` is
   * still the ref written when the snapshot is complete.
   */
  commit?: string | undefined;
  /**
   * The files at `commit` as mlcache.lock records them (`cache-models --frozen`): no tree call,
   * and the blobs are verified against these hashes. Only the locked (selected) files, so it is
   * never written as trees/<commit>.json, which must list the whole commit.
   */
  tree?: RepoFile[] | undefined;
}

export interface PlannedFile {
  path: string;
  size: number;
  /** Blob name: sha256 for LFS files, git blob sha1 otherwise. */
  etag: string;
  lfs: boolean;
  /** The blob is already in blobs/ (see presentBlobs). */
  cached: boolean;
  /** The blob is cached and the snapshot pointer already exists (a link or a whole copy). */
  linked: boolean;
}

export interface SnapshotPlan {
  repo: RepoRef;
  revision: string;
  commit: string;
  /** Every file at the commit (for trees/<commit>.json), unfiltered. */
  tree: RepoFile[];
  /**
   * Where the tree came from: the Hub, trees/<commit>.json already in the cache, mlcache.lock
   * (SnapshotRequest.tree), a registry artifact holding every file of the commit, or one holding
   * only some ('subset': no trees file is written, since it would claim files the commit has are
   * absent).
   */
  treeSource: 'hub' | 'cache' | 'lock' | 'artifact' | 'subset';
  files: PlannedFile[];
  bytesTotal: number;
  /** Bytes still to download (each blob counted once). */
  bytesNeeded: number;
  snapshotDir: string;
  /** Temps an older mlcache left inside the snapshot folders (never files of the tree): executeSnapshot removes them. */
  strayTemps?: string[] | undefined;
  /**
   * The transfer engine's leftovers (partial, journal, journal temp) of blobs that are already
   * complete: of no use to any run (a kill between a blob's rename and its journal's removal, or a
   * twin that lost the race). executeSnapshot removes them; the engine never sees cached blobs.
   */
  spentLeftovers?: string[] | undefined;
}

export interface PlanContext {
  hub: HubClient;
  cacheDir: string;
  /** Checked between slices of the per-file loops (a million-file plan takes seconds): abort stops planning. */
  signal?: AbortSignal | undefined;
}

export async function planSnapshot(ctx: PlanContext, request: SnapshotRequest): Promise<SnapshotPlan> {
  const revision = request.revision ?? 'main';
  const { repo } = request;
  // The revision becomes refs/<revision>, written after every file is in place: a name that
  // cannot be a ref (`..`, absolute, control characters) must fail before the first request, not
  // after the whole download (UNSAFE_PATH, exit 10).
  validateRevisionName(revision);
  const commit = request.commit ?? (isCommitHash(revision) ? revision : (await ctx.hub.resolveRevision(repo, revision)).commit);

  const cachedTree = request.tree === undefined ? await readTreeCache(ctx.cacheDir, repo, commit) : undefined;
  const tree: RepoFile[] = request.tree ?? cachedTree ?? (await ctx.hub.listFiles(repo, commit));
  const treeSource = request.tree !== undefined ? 'lock' : cachedTree ? 'cache' : 'hub';
  return planTree(ctx, { ...request, revision }, { commit, tree, treeSource });
}

/**
 * The plan for a file list already in hand (the Hub's, the cache's trees/<commit>.json, or a
 * registry artifact's layers): validate every name, select, and subtract what the cache holds.
 * `treeSource` decides whether executeSnapshot writes trees/<commit>.json: only a listing that is
 * the commit's whole tree from its source ('hub', 'artifact') is written; 'cache' is already there
 * and 'subset' is not the whole commit.
 */
export async function planTree(
  ctx: Pick<PlanContext, 'cacheDir' | 'signal'>,
  request: SnapshotRequest & { revision: string },
  listing: { commit: string; tree: RepoFile[]; treeSource: SnapshotPlan['treeSource'] },
): Promise<SnapshotPlan> {
  const { repo, revision } = request;
  const { commit, tree, treeSource } = listing;
  const pause = checkpoint(ctx.signal);
  await verifyNames(tree, repo, pause);
  const treePaths = await verifyTreeShape(tree, repo, pause);
  const selected = selectFiles(tree, request, commit);

  const snapshotDir = `${repoPaths(ctx.cacheDir, repo).snapshotsDir}/${commit}`;
  const files: PlannedFile[] = [];
  for (const [index, f] of selected.entries()) {
    if (index % SLICE === 0) await pause();
    const etag = f.lfs?.oid ?? f.oid;
    // Blob names come from the Hub too: refuse a bad one here, before anything is written.
    verifyEtag(etag);
    files.push({ path: f.path, size: f.lfs?.size ?? f.size, etag, lfs: f.lfs !== undefined, cached: false, linked: false });
  }
  // What the cache holds: one listing of blobs/ and one of each snapshot folder, not a stat per file.
  const { present, spentLeftovers } = await presentBlobs(ctx.cacheDir, repo, files, ctx.signal);
  for (const f of files) f.cached = present.has(f.etag);
  const strayTemps = await markLinked(snapshotDir, files, treePaths, ctx.signal);

  await pause();
  files.sort(byPath);
  await pause();
  const seen = new Set<string>();
  let bytesTotal = 0;
  let bytesNeeded = 0;
  for (const f of files) {
    bytesTotal += f.size;
    if (!f.cached && !seen.has(f.etag)) bytesNeeded += f.size;
    seen.add(f.etag);
  }
  return { repo, revision, commit, tree, treeSource, files, bytesTotal, bytesNeeded, snapshotDir, strayTemps, spentLeftovers };
}

/** The order `localeCompare` gives (dry-run lists it), through one collator instead of one per call. */
const collator = new Intl.Collator();
const byPath = (a: PlannedFile, b: PlannedFile): number => collator.compare(a.path, b.path);

/** The commit a revision points at in the local cache (refs/<revision>), with no network. */
export async function cachedCommit(cacheDir: string, repo: RepoRef, revision: string): Promise<string | undefined> {
  if (isCommitHash(revision)) return revision;
  const ref = await readRef(cacheDir, repo, revision);
  return ref !== undefined && isCommitHash(ref) ? ref : undefined;
}
