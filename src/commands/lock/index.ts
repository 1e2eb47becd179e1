/**
 * `mlcache lock`: resolve the selected catalog entries to commits and files and write
 * mlcache.lock (docs/cache-models.md "Lock file"). Like `npm install` with a package-lock.json,
 * an entry the lock already satisfies keeps its commit and costs no request; `--upgrade [ENTRY…]`
 * moves entries to their revision's current commit. The file is rewritten only when its bytes
 * change. What `cache-models --frozen / --locked` call (`prepareLockedRun`, `planLockedHubEntry`)
 * is in locked-run.ts, re-exported here.
 */
import type { Dispatcher } from 'undici';
import { loadCatalog, selectEntries, type MachinePlatform, type SelectedEntry, type SelectedHubEntry } from '../../catalog/index.js';
import { MlcacheError, isMlcacheError } from '../../errors.js';
import { cutValue } from '../../util/cut-value.js';
import type { HubClient, RepoFile } from '../../hub/types.js';
import {
  compareWithLock,
  diffFiles,
  entryKey,
  hubRequest,
  lockfilePath,
  normalizeSelection,
  readLockText,
  parseLockText,
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
} from '../../lock/index.js';
import { planSnapshot } from '../../snapshot/index.js';
import { createRuntime, verifyOnline, type Runtime, type RuntimeTuning } from '../../runtime/hub-runtime.js';
import type { CatalogSelectionOptions, LockfileOptions } from '../run-options.js';

export {
  describeSelection,
  lockedTree,
  planLockedHubEntry,
  prepareLockedRun,
  type LockedPlanResult,
  type LockedRun,
  type LockedRunOptions,
} from './locked-run.js';

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
