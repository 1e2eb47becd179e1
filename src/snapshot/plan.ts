/**
 * Planning a snapshot: revision → commit, the file list at that commit, include/exclude, and what
 * the cache already holds. Nothing is written here, so `--dry-run` and the disk preflight can use
 * the plan as is, and a hostile file list is refused before the first byte lands.
 */
import type { Dir, Dirent } from 'node:fs';
import { lstat, opendir, stat } from 'node:fs/promises';
import path from 'node:path';
import { readRef, readTreeCache, repoPaths, validateRepoFilePath, validateRevisionName, verifyEtag } from '../cache/index.js';
import type { HubClient, RepoFile, RepoRef } from '../hub/types.js';
import { isCommitHash } from '../hub/index.js';
import { indexLeftovers, journalPath, partialPath } from '../download/journal.js';
import { MlcacheError } from '../errors.js';
import { selectPaths } from '../util/file-selection.js';
import { runPool } from '../util/run-pool.js';

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
 * Returns the set of paths (planning reuses it). O(path length) per file.
 */
async function verifyTreeShape(tree: RepoFile[], repo: RepoRef, pause: Checkpoint): Promise<Set<string>> {
  const files = new Set<string>();
  for (const [index, file] of tree.entries()) {
    if (index % SLICE === 0) await pause();
    if (files.has(file.path)) {
      throw new MlcacheError('PROTOCOL', `${repo.id}'s file list names "${file.path}" twice.`, {
        hint: 'Nothing was written. Retry later; if it persists, the endpoint or a proxy is misbehaving.',
      });
    }
    files.add(file.path);
  }
  for (const [index, file] of tree.entries()) {
    if (index % SLICE === 0) await pause();
    for (let slash = file.path.indexOf('/'); slash !== -1; slash = file.path.indexOf('/', slash + 1)) {
      const folder = file.path.slice(0, slash);
      if (files.has(folder)) {
        throw new MlcacheError('PROTOCOL', `${repo.id}'s file list names "${folder}" both as a file and as the folder of "${file.path}".`, {
          hint: 'Nothing was written. Retry later; if it persists, the endpoint or a proxy is misbehaving.',
        });
      }
    }
  }
  return files;
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
  // Every name from the Hub is untrusted: refuse the whole plan if one is hostile.
  const pause = checkpoint(ctx.signal);
  for (const [index, file] of tree.entries()) {
    if (index % SLICE === 0) await pause();
    try {
      validateRepoFilePath(file.path);
    } catch (error) {
      throw new MlcacheError('UNSAFE_PATH', `${repo.id} lists an unsafe file name: ${(error as Error).message}`, {
        hint: 'Nothing was written. The repo (or a proxy in between) is sending hostile paths; report it to the repo owner.',
        cause: error,
      });
    }
  }

  const treePaths = await verifyTreeShape(tree, repo, pause);

  const selected =
    request.files && request.files.length > 0 ? selectExplicit(tree, request.files, repo, revision) : selectByPatterns(tree, request, commit);

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

type Checkpoint = () => Promise<void>;

/** Items between two checkpoints: a few milliseconds of work. */
const SLICE = 16_384;

/**
 * Called every SLICE items of the per-file loops: let the event loop run (a signal handler, the
 * progress display) and stop if the run was aborted.
 */
function checkpoint(signal: AbortSignal | undefined): Checkpoint {
  return async () => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
  };
}

/** The order `localeCompare` gives (dry-run lists it), through one collator instead of one per call. */
const collator = new Intl.Collator();
const byPath = (a: PlannedFile, b: PlannedFile): number => collator.compare(a.path, b.path);

/** Folders listed at once while planning. */
const LIST_CONCURRENCY = 8;

/**
 * The etags of `files` that are in blobs/, from one streamed listing of the folder (a million-blob
 * folder is never held as one array). A regular file under the blob's name is a blob: blobs are
 * content-addressed and only ever renamed into place whole, after verification (commitBlob), the
 * way huggingface_hub's hf_hub_download trusts `os.path.exists(blob_path)`; `mlcache verify`
 * re-hashes them. An entry that is not plainly a file (a symlink, as huggingface_hub's shared blob
 * store makes, or a filesystem that reports no type) is stat()ed and must be a file of the size.
 */
async function presentBlobs(
  cacheDir: string,
  repo: RepoRef,
  files: readonly PlannedFile[],
  signal: AbortSignal | undefined,
): Promise<{ present: Set<string>; spentLeftovers: string[] }> {
  const sizes = new Map<string, number>();
  for (const f of files) sizes.set(f.etag, f.size);
  const present = new Set<string>();
  const blobsDir = repoPaths(cacheDir, repo).blobsDir;
  /** The engine's own leftovers (few: one per interrupted file at most). */
  const leftoverNames: string[] = [];
  await forEachEntry(blobsDir, async (entry) => {
    const size = sizes.get(entry.name);
    if (size === undefined) {
      if (/\.(?:incomplete|mlcache-journal|tmp)$/.test(entry.name)) leftoverNames.push(entry.name);
      return;
    }
    if (entry.isFile()) {
      present.add(entry.name);
    } else if (entry.isSymbolicLink() || isUnknownType(entry)) {
      const st = await stat(path.join(blobsDir, entry.name)).catch(() => undefined);
      if (st?.isFile() === true && st.size === size) present.add(entry.name);
    }
  }, signal);
  const spentLeftovers: string[] = [];
  for (const [base, left] of indexLeftovers(leftoverNames)) {
    if (!present.has(base)) continue;
    for (const nonce of new Set([...left.journals, ...left.partials])) {
      spentLeftovers.push(journalPath(path.join(blobsDir, base), nonce), partialPath(path.join(blobsDir, base), nonce));
    }
    for (const name of left.temps) spentLeftovers.push(path.join(blobsDir, name));
  }
  return { present, spentLeftovers };
}

/**
 * Set `linked` on each cached file whose pointer exists, from one listing per snapshot folder. A
 * pointer at `snapshots/<commit>/<path>` can only ever be this commit's file: a link, or a copy
 * renamed into place whole. Returns the temp names an older mlcache left in those folders
 * (`<name>.<8hex>.tmp`, `.mlcache-<8hex>.tmp`; never a file of the tree) for executeSnapshot to
 * remove.
 */
async function markLinked(snapshotDir: string, files: readonly PlannedFile[], treePaths: ReadonlySet<string>, signal: AbortSignal | undefined): Promise<string[]> {
  const folders = new Map<string, Map<string, PlannedFile>>();
  for (const f of files) {
    const slash = f.path.lastIndexOf('/');
    const folder = slash === -1 ? '' : f.path.slice(0, slash);
    let names = folders.get(folder);
    if (names === undefined) folders.set(folder, (names = new Map<string, PlannedFile>()));
    names.set(f.path.slice(slash + 1), f);
  }
  const strays: string[] = [];
  const list = [...folders];
  await runPool(list.length, LIST_CONCURRENCY, async (index) => {
    const [folder, names] = list[index]!;
    const dir = folder === '' ? snapshotDir : path.join(snapshotDir, ...folder.split('/'));
    await forEachEntry(dir, async (entry) => {
      const file = names.get(entry.name);
      if (file !== undefined) {
        if (!file.cached) return;
        if (entry.isSymbolicLink() || entry.isFile()) file.linked = true;
        else if (isUnknownType(entry)) file.linked = (await lstat(path.join(dir, entry.name)).catch(() => undefined))?.isDirectory() === false;
      } else if (LEGACY_TEMP.test(entry.name) && !treePaths.has(folder === '' ? entry.name : `${folder}/${entry.name}`)) {
        strays.push(path.join(dir, entry.name));
      }
    }, signal);
  }, () => signal?.aborted === true);
  signal?.throwIfAborted();
  return strays;
}

/** Temp names mlcache ≤ 0.x wrote next to a pointer (util/atomic-write.ts tempSibling). */
const LEGACY_TEMP = /\.[0-9a-f]{8}\.tmp$/;

function isUnknownType(entry: Dirent): boolean {
  return !entry.isFile() && !entry.isDirectory() && !entry.isSymbolicLink() && !entry.isFIFO() && !entry.isSocket() && !entry.isBlockDevice() && !entry.isCharacterDevice();
}

/**
 * Each entry of `dir`, streamed (opendir); nothing when it does not exist or cannot be read. An
 * abort (checked every SLICE entries) stops the listing and is rethrown.
 */
async function forEachEntry(dir: string, visit: (entry: Dirent) => Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  let handle: Dir;
  try {
    handle = await opendir(dir, { bufferSize: 256 });
  } catch {
    return;
  }
  let seen = 0;
  try {
    for await (const entry of handle) {
      if (++seen % SLICE === 0 && signal?.aborted === true) break;
      await visit(entry);
    }
  } catch {
    // An unreadable folder: what was not seen is planned as missing, and fetched or linked again.
  }
  signal?.throwIfAborted();
}

/** The commit a revision points at in the local cache (refs/<revision>), with no network. */
export async function cachedCommit(cacheDir: string, repo: RepoRef, revision: string): Promise<string | undefined> {
  if (isCommitHash(revision)) return revision;
  const ref = await readRef(cacheDir, repo, revision);
  return ref !== undefined && isCommitHash(ref) ? ref : undefined;
}
