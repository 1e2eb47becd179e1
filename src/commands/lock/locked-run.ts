/**
 * `cache-models --frozen / --locked` against mlcache.lock (docs/cache-models.md "Lock file"):
 * `prepareLockedRun` reads the lock and checks it against today's catalog before anything is
 * fetched (no network); `planLockedHubEntry` plans one Hub entry at its locked commit, from the
 * locked files (--frozen) or from the Hub's listing checked against the lock (--locked).
 */
import { selectEntries, type Catalog, type MachinePlatform, type SelectedHubEntry } from '../../catalog/index.js';
import type { Settings } from '../../config/settings.js';
import { MlcacheError, isMlcacheError } from '../../errors.js';
import type { HubClient, RepoFile } from '../../hub/types.js';
import {
  compareWithLock,
  describeComparison,
  entryKey,
  isInSync,
  lockfilePath,
  readLockfile,
  selectsAnything,
  type LockSelection,
  type LockedEntry,
  type LockedHubEntry,
  type Lockfile,
} from '../../lock/index.js';
import { planSnapshot, type SnapshotPlan } from '../../snapshot/index.js';

export interface LockedRunOptions {
  settings: Settings;
  catalog: Catalog;
  lockfile?: string | undefined;
  catalogPath?: string | undefined;
  shippedCatalogPath?: string | undefined;
  /** The run's selection flags; none: the lock's own selection. */
  all?: boolean | undefined;
  groups?: string[] | undefined;
  models?: string[] | undefined;
  force?: boolean | undefined;
  platform: MachinePlatform;
  /** 'frozen' or 'locked', for messages. */
  mode: 'frozen' | 'locked';
}

export interface LockedRun {
  lockfile: string;
  lock: Lockfile;
  /** The selection the run uses (its flags, else the lock's). */
  selection: { all: boolean; groups: string[]; models: string[]; force: boolean | undefined };
  /** Locked entries by `group/name`. */
  entries: Map<string, LockedEntry>;
}

function mismatch(lines: string[], file: string, mode: 'frozen' | 'locked'): MlcacheError {
  const shown = lines.slice(0, 10);
  const more = lines.length > shown.length ? `\n  … and ${lines.length - shown.length} more` : '';
  return new MlcacheError('LOCK_MISMATCH', `The catalog and ${file} disagree, so --${mode} downloads nothing:\n  ${shown.join('\n  ')}${more}`, {
    hint: 'Run `mlcache lock` (it keeps the commits of unchanged entries), commit mlcache.lock, and run again.',
    details: { lockfile: file, differences: lines },
  });
}

/**
 * Read the lock and check it against the catalog before anything is fetched: the lock's own
 * selection, recomputed from today's catalog for the lock's platform, must give exactly the
 * locked entries (nothing added, removed or changed), and every entry this run selects on this
 * machine must be locked. No network.
 */
export async function prepareLockedRun(options: LockedRunOptions): Promise<LockedRun> {
  const file = lockfilePath({ cwd: options.settings.cwd, lockfile: options.lockfile, catalogPath: options.catalogPath ?? options.settings.catalogPath, shippedPath: options.shippedCatalogPath });
  const lockData = await readLockfile(file);
  const recomputed = selectEntries(options.catalog, { ...lockData.selection, platform: lockData.platform }).entries;
  const comparison = compareWithLock(recomputed, lockData.entries);
  if (!isInSync(comparison)) throw mismatch(describeComparison(comparison), file, options.mode);

  const selection = selectsAnything(options)
    ? { all: options.all === true, groups: options.groups ?? [], models: options.models ?? [], force: options.force }
    : { all: lockData.selection.all, groups: lockData.selection.groups, models: lockData.selection.models, force: lockData.selection.force };
  const run = selectEntries(options.catalog, { ...selection, platform: options.platform }).entries;
  const entries = new Map(lockData.entries.map((e) => [entryKey(e), e]));
  const problems: string[] = [];
  for (const entry of run) {
    if (entry.skipped !== undefined) continue;
    const locked = entries.get(entryKey(entry));
    if (locked === undefined) {
      problems.push(`${entryKey(entry)}: selected by this run but not in the lock (locked for ${lockData.platform.os}-${lockData.platform.arch}, selection ${describeSelection(lockData.selection)})`);
      continue;
    }
    // Equal by the check above unless --model asks for another revision of a locked repo.
    const fields = compareWithLock([entry], [locked]).changed[0]?.fields;
    if (fields) problems.push(`${entryKey(entry)}: ${fields.join(', ')} differ from the lock`);
  }
  if (problems.length > 0) throw mismatch(problems, file, options.mode);
  return { lockfile: file, lock: lockData, selection, entries };
}

export function describeSelection(selection: LockSelection): string {
  const parts = [
    ...(selection.all ? ['--all'] : []),
    ...selection.groups.map((g) => `--group ${g}`),
    ...selection.models.map((m) => `--model ${m}`),
    ...(selection.force ? ['--force'] : []),
  ];
  return parts.join(' ') || '(none)';
}

/** The locked files as the snapshot planner takes them (SnapshotRequest.tree). */
export function lockedTree(entry: LockedHubEntry): RepoFile[] {
  return entry.files.map((f) => ({ path: f.path, size: f.lfs ? f.lfs.size : f.size, oid: f.blobId, ...(f.lfs ? { lfs: { oid: f.lfs.sha256, size: f.lfs.size } } : {}) }));
}

export interface LockedPlanResult {
  snapshot?: SnapshotPlan;
  gatedWithoutToken: boolean;
  error?: unknown;
}

/**
 * Plan a Hub entry from its locked commit. --frozen: the locked files are the tree (no revision
 * or tree call; the engine verifies each blob against the locked sha256 / git sha1). --locked:
 * the Hub (or trees/<commit>.json) lists the locked commit and must agree with the lock.
 */
export async function planLockedHubEntry(
  hub: HubClient,
  cacheDir: string,
  entry: SelectedHubEntry,
  locked: LockedHubEntry,
  mode: 'frozen' | 'locked',
): Promise<LockedPlanResult> {
  const request = {
    repo: entry.repo,
    revision: entry.revision,
    commit: locked.commit,
    files: locked.files.map((f) => f.path),
    ...(mode === 'frozen' ? { tree: lockedTree(locked) } : {}),
  };
  const complete = (plan: SnapshotPlan) => plan.files.length > 0 && plan.files.every((f) => f.cached && f.linked);
  if (entry.gated && !hub.hasToken && mode === 'frozen') {
    // Everything cached: no token needed, as without the lock (cache-models.ts planHubEntry).
    const local = await planSnapshot({ hub, cacheDir }, request).catch(() => undefined);
    return local && complete(local) ? { snapshot: local, gatedWithoutToken: false } : { gatedWithoutToken: true };
  }
  try {
    const snapshot = await planSnapshot({ hub, cacheDir }, request);
    if (mode === 'locked') {
      const want = new Map(lockedTree(locked).map((f) => [f.path, f.lfs?.oid ?? f.oid]));
      const wrong = snapshot.files.filter((f) => want.get(f.path) !== f.etag).map((f) => f.path);
      if (wrong.length > 0) {
        return {
          snapshot,
          gatedWithoutToken: false,
          error: new MlcacheError('LOCK_MISMATCH', `${entry.repo.id}@${locked.commit.slice(0, 12)}: the Hub lists other content than the lock for ${wrong.slice(0, 3).join(', ')}${wrong.length > 3 ? ` and ${wrong.length - 3} more` : ''}.`, {
            hint: 'The lock was edited or written against another endpoint: run `mlcache lock --upgrade ' + entryKey(entry) + '` and commit it.',
          }),
        };
      }
    }
    return { snapshot, gatedWithoutToken: false };
  } catch (error) {
    const gated = isMlcacheError(error) && error.code === 'GATED_REPO' && !hub.hasToken;
    return { gatedWithoutToken: gated, error };
  }
}
