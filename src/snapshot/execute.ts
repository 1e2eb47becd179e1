/**
 * Executing a plan: blobs through the transfer engine (verified, atomic), then snapshot pointers,
 * then refs. The ref is written last, and only when every selected file is in place, so a
 * reader never follows a ref to a half-built snapshot of this run. Files are fed to the engine
 * through a fixed window (FEED_WINDOW), in plan order, so a million-file plan costs the same
 * queued memory as a small one.
 */
import {
  blobPath,
  ensureCacheRoot,
  ensureRepoDirs,
  linkSnapshotFile,
  lockPath,
  removeRepoTempDirIfEmpty,
  sweepRepoTemps,
  symlinksSupported,
  writeRef,
  writeTreeCache,
} from '../cache/index.js';
import { lstat, rm } from 'node:fs/promises';
import type { TransferEngine, TransferItem } from '../download/types.js';
import type { HubClient, RepoRef } from '../hub/types.js';
import { HubHttpError, isMlcacheError, REPO_WIDE_CODES, type MlcacheError } from '../errors.js';
import { fileSource } from './file-source.js';
import type { PlannedFile, SnapshotPlan } from './plan.js';
import { createFailureLog, type FileFailure } from './failure-log.js';
import { errorInfo } from '../util/error-info.js';
import { runPool } from '../util/run-pool.js';

export interface ExecuteContext {
  /** Where blobs come from: the Hub (resolve URLs, CDN redirects) unless `source` is given. */
  hub?: HubClient | undefined;
  /** Another source of a file's bytes (a registry's blob URL); the Hub's when absent. */
  source?: ((file: PlannedFile) => TransferItem['resolve']) | undefined;
  /** The transfer engine; not needed when `deliver` places every blob. */
  engine?: TransferEngine | undefined;
  /**
   * Put one blob at `item.destination` another way than the network (`import` copies it from an
   * OCI layout, verifying its digest); returns the bytes moved. The engine is used when absent.
   */
  deliver?: ((file: PlannedFile, item: TransferItem) => Promise<number>) | undefined;
  cacheDir: string;
  /** Copy blobs into snapshots instead of symlinking (HF_HUB_DISABLE_SYMLINKS). */
  copy?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export type { FileFailure } from './failure-log.js';

export interface SnapshotResult {
  plan: SnapshotPlan;
  snapshotDir: string;
  filesFetched: number;
  bytesFetched: number;
  bytesCached: number;
  /** The first MAX_FAILURE_RECORDS failures, sorted by path; failureCount counts them all. */
  failures: FileFailure[];
  failureCount: number;
  /** Files handled (all of them unless the run was aborted, which stops the feeding). */
  filesProcessed: number;
  durationMs: number;
}

/** A regular file's bare 401/403/404 from the engine: the Hub can say why (explainRefusal). */
function isRefusal(error: unknown, file: PlannedFile): boolean {
  return error instanceof HubHttpError && !file.lfs && [401, 403, 404].includes(error.status);
}

/**
 * A regular file's first GET goes straight to the resolve URL (file-source.ts), so a refusal there
 * (401/403/404) reaches us as a bare status from the engine. Ask the Hub once more with the
 * metadata HEAD, whose X-Error-Code maps to the typed error with its hint (gated repo: where to
 * accept the conditions; missing file; bad token). Only on failure, so it costs nothing otherwise.
 */
async function explainRefusal(hub: HubClient, repo: RepoRef, commit: string, file: PlannedFile, error: unknown): Promise<never> {
  if (isRefusal(error, file)) {
    try {
      await hub.resolveFile(repo, commit, file.path);
    } catch (typed) {
      if (isMlcacheError(typed)) throw typed;
    }
  }
  throw error;
}

/**
 * Files handed on at once. The engine has its own item and connection slots (a few dozen); the
 * window only has to keep those busy, so queued work costs O(FEED_WINDOW), not O(files), and
 * an abort stops the feeding at once.
 */
export const FEED_WINDOW = 256;
/** Failure records kept (with the count of all of them): a million failures stay small. */
export const MAX_FAILURE_RECORDS = 1000;

export async function executeSnapshot(ctx: ExecuteContext, plan: SnapshotPlan): Promise<SnapshotResult> {
  const started = Date.now();
  const { repo, commit } = plan;
  await ensureCacheRoot(ctx.cacheDir);
  await ensureRepoDirs(ctx.cacheDir, repo);
  // What a killed run left: temps in .mlcache-tmp/ of dead processes, and (older mlcache) temp
  // names inside the snapshot folders.
  await sweepRepoTemps(ctx.cacheDir, repo);
  await removeStrayTemps(plan.strayTemps ?? []);
  // Partials and journals of blobs that are complete can serve no run: gone (missing files are fine).
  await Promise.all((plan.spentLeftovers ?? []).map((p) => rm(p, { force: true }).catch(() => undefined)));
  const copy = ctx.copy === true || !(await symlinksSupported(ctx.cacheDir));
  const hub = (): HubClient => {
    if (!ctx.hub) throw new Error('executeSnapshot needs a hub client or a source');
    return ctx.hub;
  };

  // A refusal that holds for the whole repo (gated, no token, …): the files not yet asked for fail
  // with it at once, without a request each, and the feeding stops.
  let refusal: MlcacheError | undefined;
  const noteRefusal = (error: unknown): void => {
    if (isMlcacheError(error) && REPO_WIDE_CODES.has(error.code)) refusal ??= error;
  };
  // While a bare refusal (a regular file's 401/403/404) is being explained, the next files wait for
  // the answer instead of each asking the Hub and being refused in turn.
  let explaining: Promise<void> | undefined;
  // One download per blob, however many paths share it. Only blobs that several paths need are
  // remembered (their promise is shared); the rest go straight to the engine.
  const shared = sharedBlobs(plan.files);
  const sharedDownloads = new Map<string, Promise<number>>();
  const download = (file: PlannedFile): Promise<number> => {
    const source = ctx.source ? ctx.source(file) : ctx.deliver ? () => Promise.reject(new Error('delivered locally')) : fileSource(hub(), repo, commit, file);
    const item: TransferItem = {
      id: blobPath(ctx.cacheDir, repo, file.etag),
      label: `${repo.id}: ${file.path}`,
      group: repo.id,
      size: file.size,
      digest: { algorithm: file.lfs ? 'sha256' : 'git-sha1', hex: file.etag },
      destination: blobPath(ctx.cacheDir, repo, file.etag),
      lockPath: lockPath(ctx.cacheDir, repo, file.etag),
      resolve: async (reason) => {
        if (explaining) await explaining;
        if (refusal) throw refusal;
        try {
          return await source(reason);
        } catch (error) {
          noteRefusal(error);
          throw error;
        }
      },
    };
    if (ctx.deliver) return ctx.deliver(file, item);
    if (!ctx.engine) throw new Error('executeSnapshot needs an engine or a deliver function');
    return ctx.engine.download(item).then(
      (r) => r.bytesTransferred,
      (error: unknown) => {
        // The repo's refusal, already explained, fails the files after it without a request.
        if (!ctx.hub || error === refusal) throw error;
        const explained = explainRefusal(ctx.hub, repo, commit, file, error);
        if (isRefusal(error, file)) explaining = explained.then(() => undefined, noteRefusal);
        return explained;
      },
    );
  };

  let filesFetched = 0;
  let bytesFetched = 0;
  let bytesCached = 0;
  const failures = createFailureLog(MAX_FAILURE_RECORDS);
  const processFile = async (file: PlannedFile): Promise<void> => {
    try {
      if (file.cached) {
        bytesCached += file.size;
      } else {
        let pending: Promise<number> | undefined;
        let first = true;
        if (shared.has(file.etag)) {
          pending = sharedDownloads.get(file.etag);
          first = pending === undefined;
          if (pending === undefined) sharedDownloads.set(file.etag, (pending = download(file)));
        } else {
          pending = download(file);
        }
        const transferred = await pending;
        if (first) {
          bytesFetched += transferred;
          filesFetched++;
        }
      }
      if (!file.linked || copy) await linkSnapshotFile(ctx.cacheDir, repo, commit, file.path, file.etag, { copy });
    } catch (error) {
      noteRefusal(error);
      failures.add({ path: file.path, ...errorInfo(error) });
    }
  };
  const aborted = () => ctx.signal?.aborted === true;
  const processed = await runPool(plan.files.length, FEED_WINDOW, (index) => processFile(plan.files[index]!), () => aborted() || refusal !== undefined);

  // The full listing at this commit, in huggingface_hub's format: its offline mode trusts it.
  // Written after the files, so a million-file listing (seconds to sort and write) delays neither
  // the first request nor an interrupted run's exit; the next run writes it if this one stopped.
  if ((plan.treeSource === 'hub' || plan.treeSource === 'artifact') && !aborted()) await writeTreeCache(ctx.cacheDir, repo, commit, plan.tree);
  // The ref last, and only when every selected file is in place.
  const complete = processed === plan.files.length && failures.count === 0 && !aborted();
  if (complete && plan.revision !== commit) await writeRef(ctx.cacheDir, repo, plan.revision, commit);
  await removeRepoTempDirIfEmpty(ctx.cacheDir, repo);
  return {
    plan,
    snapshotDir: plan.snapshotDir,
    filesFetched,
    bytesFetched,
    bytesCached,
    failures: failures.records(),
    failureCount: failures.count,
    filesProcessed: processed,
    durationMs: Date.now() - started,
  };
}

/** Etags of blobs still to fetch that more than one path of the plan needs. */
function sharedBlobs(files: readonly PlannedFile[]): Set<string> {
  const seen = new Set<string>();
  const shared = new Set<string>();
  for (const f of files) {
    if (f.cached) continue;
    if (seen.has(f.etag)) shared.add(f.etag);
    else seen.add(f.etag);
  }
  return shared;
}

/** Legacy temps are a minute old at least before they go (an older mlcache may be linking right now). */
const STRAY_TEMP_MIN_AGE_MS = 60_000;

async function removeStrayTemps(paths: readonly string[]): Promise<void> {
  const now = Date.now();
  for (const p of paths) {
    const st = await lstat(p).catch(() => undefined);
    if (st !== undefined && !st.isDirectory() && now - st.mtimeMs > STRAY_TEMP_MIN_AGE_MS) await rm(p, { force: true }).catch(() => undefined);
  }
}
