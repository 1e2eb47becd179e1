/**
 * Executing a plan: blobs through the transfer engine (verified, atomic), then snapshot pointers,
 * then refs. The ref is written last, and only when every selected file is in place, so a
 * reader never follows a ref to a half-built snapshot of this run.
 */
import {
  blobPath,
  ensureCacheRoot,
  ensureRepoDirs,
  linkSnapshotFile,
  lockPath,
  symlinksSupported,
  writeRef,
  writeTreeCache,
} from '../cache/index.js';
import type { TransferEngine, TransferItem } from '../download/types.js';
import type { HubClient, RepoRef } from '../hub/types.js';
import { HubHttpError, isMlcacheError } from '../errors.js';
import { fileSource } from './file-source.js';
import type { PlannedFile, SnapshotPlan } from './plan.js';

export interface ExecuteContext {
  hub: HubClient;
  engine: TransferEngine;
  cacheDir: string;
  /** Copy blobs into snapshots instead of symlinking (HF_HUB_DISABLE_SYMLINKS). */
  copy?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export interface FileFailure {
  path: string;
  code: string;
  message: string;
  hint?: string | undefined;
}

export interface SnapshotResult {
  plan: SnapshotPlan;
  snapshotDir: string;
  filesFetched: number;
  bytesFetched: number;
  bytesCached: number;
  failures: FileFailure[];
  durationMs: number;
}

/**
 * A regular file's first GET goes straight to the resolve URL (file-source.ts), so a refusal there
 * (401/403/404) reaches us as a bare status from the engine. Ask the Hub once more with the
 * metadata HEAD, whose X-Error-Code maps to the typed error with its hint (gated repo: where to
 * accept the conditions; missing file; bad token). Only on failure, so it costs nothing otherwise.
 */
async function explainRefusal(hub: HubClient, repo: RepoRef, commit: string, file: PlannedFile, error: unknown): Promise<never> {
  if (error instanceof HubHttpError && !file.lfs && [401, 403, 404].includes(error.status)) {
    try {
      await hub.resolveFile(repo, commit, file.path);
    } catch (typed) {
      if (isMlcacheError(typed)) throw typed;
    }
  }
  throw error;
}

function describe(error: unknown): { code: string; message: string; hint?: string | undefined } {
  if (isMlcacheError(error)) return { code: error.code, message: error.message, hint: error.hint };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

export async function executeSnapshot(ctx: ExecuteContext, plan: SnapshotPlan): Promise<SnapshotResult> {
  const started = Date.now();
  const { repo, commit } = plan;
  await ensureCacheRoot(ctx.cacheDir);
  await ensureRepoDirs(ctx.cacheDir, repo);
  // The full listing at this commit, in huggingface_hub's format: its offline mode trusts it.
  if (plan.treeSource === 'hub') await writeTreeCache(ctx.cacheDir, repo, commit, plan.tree);
  const copy = ctx.copy === true || !(await symlinksSupported(ctx.cacheDir));

  // One download per blob, however many paths share it.
  const downloads = new Map<string, Promise<number>>();
  const fetchBlob = (file: PlannedFile): Promise<number> => {
    let pending = downloads.get(file.etag);
    if (!pending) {
      const item: TransferItem = {
        id: blobPath(ctx.cacheDir, repo, file.etag),
        label: `${repo.id}: ${file.path}`,
        group: repo.id,
        size: file.size,
        digest: { algorithm: file.lfs ? 'sha256' : 'git-sha1', hex: file.etag },
        destination: blobPath(ctx.cacheDir, repo, file.etag),
        lockPath: lockPath(ctx.cacheDir, repo, file.etag),
        resolve: fileSource(ctx.hub, repo, commit, file),
      };
      pending = ctx.engine.download(item).then(
        (r) => r.bytesTransferred,
        (error: unknown) => explainRefusal(ctx.hub, repo, commit, file, error),
      );
      downloads.set(file.etag, pending);
    }
    return pending;
  };

  let filesFetched = 0;
  let bytesFetched = 0;
  let bytesCached = 0;
  const failures: FileFailure[] = [];
  await Promise.all(
    plan.files.map(async (file) => {
      try {
        if (file.cached) {
          bytesCached += file.size;
        } else {
          const first = !downloads.has(file.etag);
          const transferred = await fetchBlob(file);
          if (first) {
            bytesFetched += transferred;
            filesFetched++;
          }
        }
        if (!file.linked || copy) await linkSnapshotFile(ctx.cacheDir, repo, commit, file.path, file.etag, { copy });
      } catch (error) {
        failures.push({ path: file.path, ...describe(error) });
      }
    }),
  );
  if (failures.length === 0 && plan.revision !== commit) await writeRef(ctx.cacheDir, repo, plan.revision, commit);
  failures.sort((a, b) => a.path.localeCompare(b.path));
  return { plan, snapshotDir: plan.snapshotDir, filesFetched, bytesFetched, bytesCached, failures, durationMs: Date.now() - started };
}
