/**
 * `mlcache download <repo_id> [files...]`: one repo at one revision into the HF hub cache.
 * Prints (through the CLI) the snapshot path alone on stdout, so `$(mlcache download org/name)`
 * works. Blobs already in the cache are never fetched again.
 */
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { checkSpace, DOWNLOAD_MARGIN, type SpaceCheck } from '../cache/disk-space.js';
import { repoPaths } from '../cache/repo-paths.js';
import { verifyCacheDir } from '../cache/verify-cache-dir.js';
import type { Settings } from '../config/settings.js';
import { indexLeftovers, journalPath, listFolder, readJournalFile } from '../download/journal.js';
import { totalLength } from '../download/intervals.js';
import type { TransferEvent } from '../download/types.js';
import { MlcacheError, type ErrorCode } from '../errors.js';
import { parseRepoId } from '../hub/index.js';
import type { RepoType } from '../hub/types.js';
import { executeSnapshot, planSnapshot, type SnapshotPlan, type FileFailure } from '../snapshot/index.js';
import { formatBytes } from '../util/bytes.js';
import { createRuntime, verifyOnline, type RuntimeTuning } from './runtime.js';

export interface DownloadOptions {
  settings: Settings;
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
  /** Plan only: what would be fetched and its size; nothing is written. */
  dryRun?: boolean | undefined;
  connections?: number | undefined;
  maxRate?: number | undefined;
  dispatcher?: Dispatcher | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: TransferEvent) => void) | undefined;
  /** Warnings for the user (e.g. patterns ignored because files were named). */
  onWarning?: ((message: string) => void) | undefined;
  /** Stall timeout, retries and request timeouts (runtime.ts); defaults otherwise. */
  tuning?: RuntimeTuning | undefined;
  /** --skip-space-check: download even when the disk preflight finds too little free space. @default false */
  skipSpaceCheck?: boolean | undefined;
  /** Free bytes on the filesystem holding a folder (tests). @default statfs: bavail × bsize */
  freeSpace?: ((dir: string) => Promise<number>) | undefined;
}

/** The disk preflight: what the plan still needs on the cache's filesystem against what is free there. */
export interface DownloadSpace extends SpaceCheck {
  /** Bytes of the needed blobs already journaled in resumable partials (not fetched again). */
  bytesResumable: number;
}

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
}

export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const { settings } = options;
  const repo = parseRepoId(options.repoId, options.repoType ?? 'model');
  verifyOnline(settings);
  if (options.files && options.files.length > 0 && ((options.include?.length ?? 0) > 0 || (options.exclude?.length ?? 0) > 0)) {
    options.onWarning?.('Files were named, so --include/--exclude are ignored (as `hf download` does).');
  }
  // A cache path that is a file is a wrong setting: refuse before any request.
  await verifyCacheDir(settings.hubCache, settings.hubCacheSource);
  const runtime = await createRuntime(options);
  try {
    const plan = await planSnapshot(
      { hub: runtime.hub, cacheDir: settings.hubCache, signal: options.signal },
      { repo, revision: options.revision, include: options.include, exclude: options.exclude, files: options.files },
    );
    const base = {
      repoId: repo.id,
      repoType: repo.type,
      revision: plan.revision,
      commit: plan.commit,
      snapshotPath: plan.snapshotDir,
      files: plan.files.map((f) => ({ path: f.path, size: f.size, cached: f.cached })),
      bytesTotal: plan.bytesTotal,
      bytesNeeded: plan.bytesNeeded,
      plan,
    };
    const space = await preflight(settings.hubCache, plan, options.freeSpace);
    if (options.dryRun) {
      return { ...base, space, dryRun: true, bytesFetched: 0, bytesCached: plan.bytesTotal - plan.bytesNeeded, filesFetched: 0, durationMs: 0 };
    }
    if (!space.fits && options.skipSpaceCheck !== true) throw insufficientSpace(repo.id, space);
    const result = await executeSnapshot(
      { hub: runtime.hub, engine: runtime.engine, cacheDir: settings.hubCache, copy: settings.disableSymlinks, signal: options.signal },
      plan,
    );
    if (options.signal?.aborted) throw interrupted();
    if (result.failureCount > 0) throw failuresError(repo.id, result.failures, result.failureCount);
    return {
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

/**
 * Bytes the plan still needs (each blob once, minus what resumable partials already hold: those
 * blocks are allocated and already missing from the free space) against the free space of the
 * cache's filesystem.
 */
async function preflight(cacheDir: string, plan: SnapshotPlan, freeSpace: ((dir: string) => Promise<number>) | undefined): Promise<DownloadSpace> {
  const bytesResumable = plan.bytesNeeded > 0 ? await journaledBytes(cacheDir, plan) : 0;
  const check = await checkSpace(cacheDir, Math.max(0, plan.bytesNeeded - bytesResumable), { margin: DOWNLOAD_MARGIN, freeSpace });
  return { ...check, bytesResumable };
}

/** Per needed blob, the most bytes any of its journals (`<etag>.<8hex>.mlcache-journal`) records as done. */
async function journaledBytes(cacheDir: string, plan: SnapshotPlan): Promise<number> {
  const { blobsDir } = repoPaths(cacheDir, plan.repo);
  // One listing, indexed by blob name: a lookup per needed blob, not a scan of every journal.
  const leftovers = indexLeftovers(await listFolder(blobsDir));
  if (leftovers.size === 0) return 0;
  let total = 0;
  const seen = new Set<string>();
  for (const f of plan.files) {
    if (f.cached || seen.has(f.etag)) continue;
    seen.add(f.etag);
    let best = 0;
    for (const nonce of leftovers.get(f.etag)?.journals ?? []) {
      const parsed = await readJournalFile(journalPath(path.join(blobsDir, f.etag), nonce));
      if (parsed?.ok === true) best = Math.max(best, Math.min(totalLength(parsed.journal.completed), f.size));
    }
    total += best;
  }
  return total;
}

function insufficientSpace(repoId: string, space: DownloadSpace): MlcacheError {
  const needs = space.bytesNeeded;
  const resumed = space.bytesResumable > 0 ? ` (${formatBytes(space.bytesResumable)} more are already in resumable partial files)` : '';
  return new MlcacheError(
    'INSUFFICIENT_SPACE',
    `Not enough disk space for ${repoId}: it needs ${formatBytes(needs)} (${formatBytes(space.bytesRequired)} with margin)${resumed}, ` +
      `but ${formatBytes(space.bytesFree ?? 0)} is free on ${space.path}; nothing was downloaded.`,
    {
      hint: 'Free some space or point --cache-dir at a larger disk; --include/--exclude fetch less, --skip-space-check downloads anyway.',
      details: { space },
    },
  );
}

function interrupted(): MlcacheError {
  return new MlcacheError('INTERRUPTED', 'Interrupted; the files and ranges finished so far are kept.', {
    hint: 'Run the same command again to resume where it stopped.',
  });
}

/** Failure codes that tell the user what to fix, before the rest (a full disk fails every file). */
const DECIDING_CODES: readonly ErrorCode[] = ['DISK_FULL', 'PERMISSION', 'GATED_REPO', 'TOKEN_MISSING', 'TOKEN_INVALID', 'FORBIDDEN'];

/**
 * One failure is reported as itself. Several with the same message (a full disk, say) are one
 * sentence naming the files; otherwise a short list. The most actionable cause decides the code
 * and the hint (DISK_FULL over a network error that followed it, for instance).
 */
function failuresError(repoId: string, failures: FileFailure[], count: number): MlcacheError {
  const deciding = DECIDING_CODES.map((code) => failures.find((f) => f.code === code)).find((f) => f !== undefined) ?? failures[0]!;
  const options = { hint: deciding.hint ?? 'Run the same command again; finished files are kept.', details: { failures } };
  const code = deciding.code as ErrorCode;
  if (count === 1) return new MlcacheError(code, `${repoId}: ${deciding.path}: ${deciding.message}`, options);
  // `failures` holds the first records only (executeSnapshot keeps MAX_FAILURE_RECORDS); `count` is all of them.
  const names = (list: FileFailure[]) => `${list.slice(0, 5).map((f) => f.path).join(', ')}${count > 5 ? ` and ${count - 5} more` : ''}`;
  if (failures.every((f) => f.message === deciding.message)) {
    return new MlcacheError(code, `${count} files of ${repoId} failed: ${deciding.message.replace(/\.$/, '')} (${names(failures)}).`, options);
  }
  const lines = failures.slice(0, 5).map((f) => `  ${f.path}: ${f.message}`);
  const more = count > 5 ? `\n  … and ${count - 5} more` : '';
  return new MlcacheError(code, `${count} files of ${repoId} failed:\n${lines.join('\n')}${more}`, options);
}
