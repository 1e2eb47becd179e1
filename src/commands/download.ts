/**
 * `mlcache download <repo_id> [files...]`: one repo at one revision into the HF hub cache.
 * Prints (through the CLI) the snapshot path alone on stdout, so `$(mlcache download org/name)`
 * works. Blobs already in the cache are never fetched again.
 */
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { MlcacheError } from '../errors.js';
import { verifyCacheDir } from '../cache/verify-cache-dir.js';
import { parseRepoId } from '../hub/index.js';
import type { RepoRef, RepoType } from '../hub/types.js';
import { cachedCommit, executeSnapshot, placeFromCache, planSnapshot, planTree, splitByLocalDir, type PlacedBy, type SnapshotPlan } from '../snapshot/index.js';
import { readTreeCache } from '../cache/index.js';
import { failuresError, insufficientSpace, interrupted, preflight, type DownloadSpace } from '../runtime/snapshot-checks.js';
import { createRuntime, verifyOnline } from '../runtime/hub-runtime.js';
import type { TransferRunOptions } from './run-options.js';

export interface DownloadOptions extends TransferRunOptions {
  repoId: string;
  /** Exact files (or `dir/` prefixes); include/exclude are ignored when given. */
  files?: string[] | undefined;
  /** @default 'main' */
  revision?: string | undefined;
  /** @default 'model' */
  repoType?: RepoType | undefined;
  include?: string[] | undefined;
  exclude?: string[] | undefined;
  token?: string | undefined;
  /**
   * --local-dir DIR: also put real files at DIR/<path> with huggingface_hub's metadata
   * (snapshot/local-dir.ts). Files DIR already holds at this commit are neither fetched nor
   * rewritten; the others come through the hub cache and are reflinked or copied.
   */
  localDir?: string | undefined;
}

export interface LocalDirResult {
  path: string;
  /** Files already up to date in DIR (metadata or a matching hash). */
  upToDate: number;
  /** Files written to DIR, by how. */
  placed: Record<PlacedBy, number>;
}

export type { DownloadSpace } from '../runtime/snapshot-checks.js';

export interface DownloadResult {
  repoId: string;
  repoType: RepoType;
  revision: string;
  commit: string;
  snapshotPath: string;
  dryRun: boolean;
  files: Array<{ path: string; size: number; cached: boolean }>;
  bytesTotal: number;
  bytesNeeded: number;
  bytesFetched: number;
  bytesCached: number;
  filesFetched: number;
  durationMs: number;
  plan: SnapshotPlan;
  /** The disk preflight (also computed for --dry-run, where it never refuses). */
  space: DownloadSpace;
  /** With `localDir`: what DIR held and what was written there (nothing is written with dryRun). */
  localDir?: LocalDirResult | undefined;
}

/**
 * `--local-dir DIR` before any request: a file where the folder should be, or a folder inside the
 * hub cache (plain files among the cache's repo folders), is a wrong flag, not something to find
 * out after the download.
 */
async function checkLocalDir(dir: string, hubCache: string): Promise<string> {
  const found = await stat(dir).catch(() => undefined);
  if (found !== undefined && !found.isDirectory()) {
    throw new MlcacheError('USAGE', `--local-dir ${dir} is a file, not a folder.`, { hint: 'Point --local-dir at a folder; it is created when missing.' });
  }
  const real = async (p: string) => realpath(p).catch(() => path.resolve(p));
  const inside = path.relative(await real(hubCache), await real(dir));
  if (inside === '' || (!inside.startsWith('..') && !path.isAbsolute(inside))) {
    throw new MlcacheError('USAGE', `--local-dir ${dir} is inside the hub cache (${hubCache}).`, {
      hint: 'Choose a folder outside the hub cache: the cache keeps its own layout, and the files are placed from it.',
    });
  }
  return dir;
}

/**
 * HF_HUB_OFFLINE=1: the snapshot as the cache holds it, with no request — what `hf download` does
 * offline (file_download.py `try_to_load_from_cache`, `_snapshot_download.py`
 * `_raise_if_incomplete_snapshot`): refs/<revision> → the commit, trees/<commit>.json → the files
 * the patterns select, every one of them in the cache. Missing links are made again (no network);
 * anything missing is the OFFLINE error, naming what. `--local-dir` still needs the network.
 */
async function downloadOffline(options: DownloadOptions, repo: RepoRef): Promise<DownloadResult> {
  const { settings } = options;
  const revision = options.revision ?? 'main';
  const miss = (why: string) =>
    new MlcacheError('OFFLINE', `HF_HUB_OFFLINE is set and ${repo.id}@${revision} is not complete in the cache (${settings.hubCache}): ${why}.`, {
      hint: 'Download it once with the network (unset HF_HUB_OFFLINE), or see what the cache holds with `mlcache offline-check`.',
    });
  if (options.localDir !== undefined) verifyOnline(settings);
  await verifyCacheDir(settings.hubCache, settings.hubCacheSource);
  const commit = await cachedCommit(settings.hubCache, repo, revision);
  if (commit === undefined) throw miss(`no refs/${revision} to say which commit it is`);
  const tree = await readTreeCache(settings.hubCache, repo, commit);
  if (tree === undefined) throw miss(`no trees/${commit}.json to say which files the commit has`);
  const plan = await planTree(
    { cacheDir: settings.hubCache, signal: options.signal },
    { repo, revision, include: options.include, exclude: options.exclude, files: options.files },
    { commit, tree, treeSource: 'cache' },
  );
  const missing = plan.files.filter((f) => !f.cached);
  if (missing.length > 0) throw miss(`${missing.length} of ${plan.files.length} selected files are missing (${missing.slice(0, 3).map((f) => f.path).join(', ')}${missing.length > 3 ? ', …' : ''})`);
  const space = await preflight(settings.hubCache, plan, options.freeSpace);
  const started = Date.now();
  if (options.dryRun !== true) await executeSnapshot({ cacheDir: settings.hubCache, copy: settings.disableSymlinks, signal: options.signal }, plan);
  return {
    repoId: repo.id,
    repoType: repo.type,
    revision,
    commit,
    snapshotPath: plan.snapshotDir,
    dryRun: options.dryRun === true,
    files: plan.files.map((f) => ({ path: f.path, size: f.size, cached: true })),
    bytesTotal: plan.bytesTotal,
    bytesNeeded: 0,
    bytesFetched: 0,
    bytesCached: plan.bytesTotal,
    filesFetched: 0,
    durationMs: Date.now() - started,
    plan,
    space,
  };
}

export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const { settings } = options;
  const repo = parseRepoId(options.repoId, options.repoType ?? 'model');
  if (settings.offline) return downloadOffline(options, repo);
  if (options.files && options.files.length > 0 && ((options.include?.length ?? 0) > 0 || (options.exclude?.length ?? 0) > 0)) {
    options.onWarning?.('Files were named, so --include/--exclude are ignored (as `hf download` does).');
  }
  // A cache path that is a file is a wrong setting: refuse before any request.
  await verifyCacheDir(settings.hubCache, settings.hubCacheSource);
  const localDir = options.localDir === undefined ? undefined : await checkLocalDir(path.resolve(settings.cwd, options.localDir), settings.hubCache);
  const runtime = await createRuntime(options);
  try {
    const fullPlan = await planSnapshot(
      { hub: runtime.hub, cacheDir: settings.hubCache, signal: options.signal },
      { repo, revision: options.revision, include: options.include, exclude: options.exclude, files: options.files },
    );
    let plan = fullPlan;
    let upToDate = 0;
    if (localDir !== undefined) {
      // Files DIR holds at this commit need nothing from the Hub or the cache.
      const split = await splitByLocalDir(localDir, fullPlan.commit, fullPlan.files, options.signal);
      upToDate = split.upToDate;
      plan = withFiles(fullPlan, split.stale);
    }
    const base = {
      repoId: repo.id,
      repoType: repo.type,
      revision: plan.revision,
      commit: plan.commit,
      snapshotPath: plan.snapshotDir,
      files: fullPlan.files.map((f) => ({ path: f.path, size: f.size, cached: f.cached })),
      bytesTotal: plan.bytesTotal,
      bytesNeeded: plan.bytesNeeded,
      plan,
    };
    // The copies into DIR count too, on DIR's filesystem (the cache's when they share one).
    const placement = localDir === undefined ? undefined : { path: localDir, files: plan.files };
    const space = await preflight(settings.hubCache, plan, options.freeSpace, placement);
    if (options.dryRun) {
      const local = localDir === undefined ? undefined : { path: localDir, upToDate, placed: { reflink: 0, copy: 0 } };
      return { ...base, localDir: local, space, dryRun: true, bytesFetched: 0, bytesCached: plan.bytesTotal - plan.bytesNeeded, filesFetched: 0, durationMs: 0 };
    }
    if (!space.fits && options.skipSpaceCheck !== true) throw insufficientSpace(repo.id, space);
    const result = await executeSnapshot(
      { hub: runtime.hub, engine: runtime.engine, cacheDir: settings.hubCache, copy: settings.disableSymlinks, signal: options.signal },
      plan,
    );
    if (options.signal?.aborted) throw interrupted();
    if (result.failureCount > 0) throw failuresError(repo.id, result.failures, result.failureCount);
    let local: LocalDirResult | undefined;
    if (localDir !== undefined) {
      const placed = await placeFromCache({ cacheDir: settings.hubCache, repo, commit: plan.commit, localDir, signal: options.signal }, plan.files);
      if (options.signal?.aborted) throw interrupted();
      local = { path: localDir, upToDate, placed };
    }
    return {
      localDir: local,
      ...base,
      space,
      dryRun: false,
      bytesFetched: result.bytesFetched,
      bytesCached: result.bytesCached,
      filesFetched: result.filesFetched,
      durationMs: result.durationMs,
    };
  } finally {
    await runtime.close();
  }
}


/** The plan restricted to `files`, with bytesNeeded recounted (each missing blob once). Pure. */
function withFiles(plan: SnapshotPlan, files: SnapshotPlan['files']): SnapshotPlan {
  if (files.length === plan.files.length) return plan;
  const seen = new Set<string>();
  let bytesNeeded = 0;
  for (const f of files) {
    if (!f.cached && !seen.has(f.etag)) bytesNeeded += f.size;
    seen.add(f.etag);
  }
  return { ...plan, files, bytesNeeded };
}
