/**
 * `mlcache prune [--dry-run] [--yes]`: free space without breaking anything in use — stale partial
 * downloads, orphan blobs, and (after a yes) revisions no ref points to. Partials and blobs of a
 * live download are kept (src/maintenance/prune-plan.ts has the rules).
 */
import path from 'node:path';
import { verifyCacheDir } from '../cache/verify-cache-dir.js';
import { HOST_TAG, isProcessAlive, isStaleRepoTemp, repoFolderName, scanCache, type CacheScan } from '../cache/index.js';
import type { Catalog, MachinePlatform } from '../catalog/index.js';
import type { Settings } from '../config/settings.js';
import { MlcacheError } from '../errors.js';
import { isCommitHash } from '../util/commit-hash.js';
// The modules one by one, not the barrel (which loads the Hub client and undici for doctor/repair).
import { removeTargets, type RemovalTarget } from '../maintenance/apply-removal.js';
import { readLockStates } from '../maintenance/lock-state.js';
import { planPrune, type PrunePlan } from '../maintenance/prune-plan.js';
import { catalogSelection, selectForMaintenance } from '../maintenance/select-from-catalog.js';

export interface PruneOptions {
  settings: Settings;
  dryRun?: boolean | undefined;
  /** Remove unreferenced revisions without asking. */
  yes?: boolean | undefined;
  /**
   * Asked before removing unreferenced revisions (the CLI passes a TTY prompt). Without it and
   * without `yes`, revisions are left in place and reported.
   */
  confirm?: ((question: string) => Promise<boolean>) | undefined;
  /** Catalog entries pinned to a commit protect that snapshot (default: the shipped + user catalog). */
  catalog?: Catalog | undefined;
  catalogPath?: string | undefined;
  platform?: MachinePlatform | undefined;
  /** For tests. @default Date.now() */
  now?: number | undefined;
  /** @default 60000 */
  recentMs?: number | undefined;
}

export interface PruneResult {
  dryRun: boolean;
  hubCache: string;
  plan: PrunePlan;
  /** Whether unreferenced revisions were (or, dry run, would be) removed. */
  revisionsIncluded: boolean;
  /** Why revisions were left, when they were. */
  revisionsLeftReason: string | undefined;
  removed: string[];
  bytesFreed: number;
  failed: Array<{ path: string; message: string }>;
}

async function pinnedCommits(options: PruneOptions): Promise<Set<string>> {
  try {
    const selection = await selectForMaintenance({ ...catalogSelection(options), all: true, usePresets: false });
    const pins = new Set<string>();
    for (const e of selection.entries) if (e.kind === 'hub' && isCommitHash(e.revision)) pins.add(`${repoFolderName(e.repo)}/${e.revision}`);
    return pins;
  } catch {
    return new Set(); // an unreadable catalog must not block freeing space
  }
}

export async function prune(options: PruneOptions): Promise<PruneResult> {
  const { settings } = options;
  await verifyCacheDir(settings.hubCache, settings.hubCacheSource);
  let scan: CacheScan;
  try {
    scan = await scanCache(settings.hubCache);
  } catch (error) {
    if (error instanceof MlcacheError && error.code === 'CACHE_NOT_FOUND') {
      const empty: PrunePlan = { partials: [], orphanBlobs: [], revisions: [], kept: [], bytes: { partials: 0, orphanBlobs: 0, revisions: 0, total: 0 } };
      return { dryRun: options.dryRun === true, hubCache: settings.hubCache, plan: empty, revisionsIncluded: false, revisionsLeftReason: undefined, removed: [], bytesFreed: 0, failed: [] };
    }
    throw error;
  }
  const now = options.now ?? Date.now();
  const plan = planPrune(scan, {
    now,
    locks: await readLockStates(settings.hubCache, now),
    recentMs: options.recentMs,
    protectedCommits: await pinnedCommits(options),
    isTempStale: (name, mtimeMs) => isStaleRepoTemp(name, mtimeMs, { now, hostTag: HOST_TAG, pid: process.pid, isAlive: isProcessAlive }),
  });

  let revisionsIncluded = false;
  let revisionsLeftReason: string | undefined;
  if (plan.revisions.length > 0) {
    if (options.yes === true) revisionsIncluded = true;
    else if (options.dryRun === true) revisionsIncluded = true; // show what a confirmed run would do
    else if (options.confirm !== undefined) {
      const n = plan.revisions.length;
      revisionsIncluded = await options.confirm(`Remove ${n} revision${n === 1 ? '' : 's'} no ref points to (${plan.bytes.revisions} bytes)?`);
      if (!revisionsIncluded) revisionsLeftReason = 'declined at the prompt';
    } else {
      revisionsLeftReason = 'not on a terminal and --yes not given';
    }
  }

  const targets: RemovalTarget[] = [
    ...plan.partials,
    ...plan.orphanBlobs,
    ...(revisionsIncluded
      ? plan.revisions.flatMap((r) => [
          { path: r.path, bytes: r.snapshotBytes },
          { path: path.join(path.dirname(path.dirname(r.path)), 'trees', `${r.commit}.json`), bytes: 0 },
          ...r.blobs,
        ])
      : []),
  ];
  if (options.dryRun === true) {
    return {
      dryRun: true,
      hubCache: settings.hubCache,
      plan,
      revisionsIncluded,
      revisionsLeftReason,
      removed: [],
      bytesFreed: 0,
      failed: [],
    };
  }
  const outcome = await removeTargets(targets);
  return {
    dryRun: false,
    hubCache: settings.hubCache,
    plan,
    revisionsIncluded,
    revisionsLeftReason,
    removed: outcome.removed,
    bytesFreed: outcome.bytesFreed,
    failed: outcome.failed,
  };
}
