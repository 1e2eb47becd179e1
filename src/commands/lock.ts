/**
 * `mlcache lock`: resolve the selected catalog entries to commits and files and write
 * mlcache.lock (docs/cache-models.md "Lock file"). Like `npm install` with a package-lock.json,
 * an entry the lock already satisfies keeps its commit and costs no request; `--upgrade [ENTRY…]`
 * moves entries to their revision's current commit. The file is rewritten only when its bytes
 * change. `prepareLockedRun` is what `cache-models --frozen / --locked` call.
 */
import type { Dispatcher } from 'undici';
import { loadCatalog, selectEntries, type Catalog, type MachinePlatform, type SelectedEntry, type SelectedHubEntry } from '../catalog/index.js';
import type { Settings } from '../config/settings.js';
import { MlcacheError, isMlcacheError } from '../errors.js';
import { cutValue } from '../util/cut-value.js';
import type { HubClient, RepoFile } from '../hub/types.js';
import {
  compareWithLock,
  describeComparison,
  diffFiles,
  entryKey,
  hubRequest,
  isInSync,
  lockfilePath,
  normalizeSelection,
  readLockText,
  parseLockText,
  readLockfile,
  selectsAnything,
  sortEntries,
  urlLockEntry,
  writeLockfile,
  type FileChanges,
  type LockSelection,
  type LockedEntry,
  type LockedFile,
  type LockedHubEntry,
  type Lockfile,
} from '../lock/index.js';
import { planSnapshot, type SnapshotPlan } from '../snapshot/index.js';
import { createRuntime, verifyOnline, type Runtime, type RuntimeTuning } from '../runtime/hub-runtime.js';
import type { CatalogSelectionOptions, LockfileOptions } from './run-options.js';

/** No selection flags: the existing lock's selection, else --all. The platform: the existing lock's, else this machine's. */
export interface LockOptions extends CatalogSelectionOptions, LockfileOptions {
  /** Lock entries whose platform excludes the locked platform too. */
  force?: boolean | undefined;
  /** --upgrade: move entries to their revision's current commit. */
  upgrade?: boolean | undefined;
  /** --upgrade ENTRY…: only these (group/name, name or repo id). @default every entry */
  upgradeEntries?: string[] | undefined;
  token?: string | undefined;
  dispatcher?: Dispatcher | undefined;
  tuning?: RuntimeTuning | undefined;
  signal?: AbortSignal | undefined;
  /** Use this catalog instead of the shipped one (tests). */
  shippedCatalogPath?: string | undefined;
}

export type LockChangeKind = 'added' | 'removed' | 'updated' | 'upgraded';

export interface LockChange {
  entry: string;
  kind: LockChangeKind;
  commitBefore?: string | undefined;
  commitAfter?: string | undefined;
  /** Hub entries: files added/removed/changed and the bytes before and after. */
  files?: FileChanges | undefined;
}

export interface LockResult {
  lockfile: string;
  /** False when the file already held exactly these bytes. */
  written: boolean;
  lock: Lockfile;
  changes: LockChange[];
}

function currentPlatform(): MachinePlatform {
  return { os: process.platform, arch: process.arch };
}

/** The files a locked entry records, from the planned selection and the commit's tree. */
function lockedFiles(selectedPaths: readonly string[], tree: readonly RepoFile[]): LockedFile[] {
  const byPath = new Map(tree.map((f) => [f.path, f]));
  return selectedPaths.map((p) => {
    const f = byPath.get(p)!;
    return { path: f.path, size: f.lfs?.size ?? f.size, blobId: f.oid, ...(f.lfs ? { lfs: { sha256: f.lfs.oid, size: f.lfs.size } } : {}) };
  });
}

/**
 * Resolve one Hub entry at `commit` (one tree listing unless trees/<commit>.json is cached). The
 * caller resolves each repo's revision once, so entries of one repo and revision share a commit.
 */
async function resolveHubEntry(hub: HubClient, cacheDir: string, entry: SelectedHubEntry, commit: string, signal: AbortSignal | undefined): Promise<LockedHubEntry> {
  const plan = await planSnapshot(
    { hub, cacheDir, signal },
    { repo: entry.repo, revision: entry.revision, commit, include: entry.include, exclude: entry.exclude, formats: entry.formats },
  );
  if (plan.files.length === 0) {
    throw new MlcacheError('ENTRY_NOT_FOUND', `${entry.repo.id}@${entry.revision}: the include/exclude patterns match no file.`, {
      hint: 'Check the patterns in the catalog against the repo’s files (`mlcache cache-models --dry-run` lists them).',
    });
  }
  return { ...hubRequest(entry), commit: plan.commit, files: lockedFiles(plan.files.map((f) => f.path), plan.tree) };
}

/** `--upgrade ENTRY` names an entry as `group/name`, by its name, or by its repo id. */
function matchesTarget(entry: SelectedEntry, target: string): boolean {
  return entryKey(entry) === target || entry.name === target || (entry.kind === 'hub' && entry.repo.id === target);
}

/** The flags' selection; else the existing lock's (with --force applied); else --all. */
function chooseSelection(options: LockOptions, existing: Lockfile | undefined): LockSelection {
  if (selectsAnything(options)) return normalizeSelection(options);
  if (existing !== undefined) return { ...existing.selection, force: options.force ?? existing.selection.force };
  return normalizeSelection({ all: true, force: options.force });
}

async function readExisting(file: string): Promise<Lockfile | undefined> {
  const text = await readLockText(file);
  return text === undefined ? undefined : parseLockText(text, file);
}

export async function lock(options: LockOptions): Promise<LockResult> {
  const { settings } = options;
  const file = lockfilePath({ cwd: settings.cwd, lockfile: options.lockfile, catalogPath: options.catalogPath ?? settings.catalogPath, shippedPath: options.shippedCatalogPath });
  const existing = await readExisting(file);
  const { catalog } = await loadCatalog({
    cwd: settings.cwd,
    catalogPath: options.catalogPath,
    envCatalogPath: settings.catalogPath,
    ...(options.shippedCatalogPath ? { shippedPath: options.shippedCatalogPath } : {}),
  });
  const selection = chooseSelection(options, existing);
  const platform = options.platform ?? existing?.platform ?? currentPlatform();
  const selected = selectEntries(catalog, { ...selection, platform }).entries;
  const comparison = compareWithLock(selected, existing?.entries ?? []);

  const work = selected.filter((e) => e.skipped === undefined);
  const targets = options.upgradeEntries ?? [];
  for (const target of targets) {
    if (!work.some((e) => matchesTarget(e, target))) {
      throw new MlcacheError('USAGE', `--upgrade ${cutValue(target)}: no such entry in the selection.`, {
        hint: `Name an entry as group/name (e.g. ${work[0] ? entryKey(work[0]) : 'asr/org/model'}), by its name, or by its repo id.`,
      });
    }
  }
  const upgrading = (e: SelectedEntry): boolean => options.upgrade === true && (targets.length === 0 || targets.some((t) => matchesTarget(e, t)));

  // The Hub client only when an entry needs resolving (a satisfied lock makes no request and works offline).
  let runtime: Promise<Runtime> | undefined;
  const hub = async (): Promise<HubClient> => {
    runtime ??= Promise.resolve().then(() => {
      verifyOnline(settings);
      return createRuntime({ settings, token: options.token, dispatcher: options.dispatcher, tuning: options.tuning, signal: options.signal });
    });
    return (await runtime).hub;
  };

  const changes: LockChange[] = [];
  try {
    const kept = new Map(comparison.unchanged.map((u) => [entryKey(u.selected), u.locked]));
    const previous = new Map((existing?.entries ?? []).map((e) => [entryKey(e), e]));
    // One revision call per repo and revision: entries that share them lock the same commit.
    const commits = new Map<string, Promise<string>>();
    const commitOf = async (client: HubClient, entry: SelectedHubEntry): Promise<string> => {
      const key = JSON.stringify([entry.repo.type, entry.repo.id, entry.revision]);
      let pending = commits.get(key);
      if (pending === undefined) commits.set(key, (pending = client.resolveRevision(entry.repo, entry.revision).then((info) => info.commit)));
      return pending;
    };
    const settled = await Promise.allSettled(
      work.map(async (entry): Promise<LockedEntry> => {
        const keep = kept.get(entryKey(entry));
        if (entry.kind === 'url') return keep ?? urlLockEntry(entry);
        if (keep !== undefined && !upgrading(entry)) return keep;
        const client = await hub();
        return resolveHubEntry(client, settings.hubCache, entry, await commitOf(client, entry), options.signal);
      }),
    );
    const failed = settled.flatMap((s, i) => (s.status === 'rejected' ? [{ entry: work[i]!, error: s.reason as unknown }] : []));
    if (failed.length > 0) {
      const first = failed[0]!;
      const names = failed.map((f) => entryKey(f.entry)).join(', ');
      const code = isMlcacheError(first.error) ? first.error.code : 'INTERNAL';
      const message = first.error instanceof Error ? first.error.message : String(first.error);
      throw new MlcacheError(code, `Cannot lock ${names}; the lock was not written. ${entryKey(first.entry)}: ${message}`, {
        hint: isMlcacheError(first.error) && first.error.hint ? first.error.hint : 'Fix the error and run `mlcache lock` again.',
        cause: first.error,
      });
    }
    const entries = sortEntries(settled.map((s) => (s as PromiseFulfilledResult<LockedEntry>).value));
    for (const entry of entries) {
      const before = previous.get(entryKey(entry));
      const change = describeChange(before, entry, kept.has(entryKey(entry)));
      if (change) changes.push(change);
    }
    const now = new Set(entries.map(entryKey));
    for (const e of existing?.entries ?? []) if (!now.has(entryKey(e))) changes.push({ entry: entryKey(e), kind: 'removed', ...(e.kind === 'hub' ? { commitBefore: e.commit } : {}) });
    const next: Lockfile = { version: 1, platform, selection, entries };
    const written = await writeLockfile(file, next);
    return { lockfile: file, written, lock: next, changes };
  } finally {
    if (runtime !== undefined) await runtime.then((r) => r.close(), () => undefined);
  }
}

function describeChange(before: LockedEntry | undefined, after: LockedEntry, satisfied: boolean): LockChange | undefined {
  const key = entryKey(after);
  if (before === undefined) return { entry: key, kind: 'added', ...(after.kind === 'hub' ? { commitAfter: after.commit, files: diffFiles([], after.files) } : {}) };
  if (before.kind === 'hub' && after.kind === 'hub') {
    const files = diffFiles(before.files, after.files);
    const moved = before.commit !== after.commit || files.added.length + files.removed.length + files.changed.length > 0;
    if (satisfied && !moved) return undefined;
    if (!moved && JSON.stringify(before) === JSON.stringify(after)) return undefined;
    return { entry: key, kind: satisfied ? 'upgraded' : 'updated', commitBefore: before.commit, commitAfter: after.commit, files };
  }
  return JSON.stringify(before) === JSON.stringify(after) ? undefined : { entry: key, kind: 'updated' };
}

// ---- cache-models --frozen / --locked ----------------------------------------------------------

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
