/**
 * The pure core of the lock: canonical bytes, the comparison of a catalog selection with a lock,
 * file-level differences between two locked entries, and the cache key. No I/O.
 */
import { createHash } from 'node:crypto';
import type { MachinePlatform, SelectedEntry, SelectedHubEntry } from '../catalog/index.js';
import {
  LOCKFILE_VERSION,
  type LockSelection,
  type LockedEntry,
  type LockedFile,
  type LockedHubEntry,
  type LockedUrlEntry,
  type Lockfile,
} from './lockfile-schema.js';

/** Code-unit order: the same bytes on every machine and locale (localeCompare is not). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How an entry is named in messages and `lock --upgrade ENTRY`: `group/name`. */
export function entryKey(entry: { group: string; name: string }): string {
  return `${entry.group}/${entry.name}`;
}

/** The selection flags as the lock records them: sorted, each once. */
export function normalizeSelection(flags: { all?: boolean | undefined; groups?: readonly string[] | undefined; models?: readonly string[] | undefined; force?: boolean | undefined }): LockSelection {
  const uniqueSorted = (values: readonly string[] | undefined) => [...new Set(values ?? [])].sort(compareText);
  return { all: flags.all === true, groups: uniqueSorted(flags.groups), models: uniqueSorted(flags.models), force: flags.force === true };
}

/** Whether the flags select anything (else the lock's own selection is used). */
export function selectsAnything(flags: { all?: boolean | undefined; groups?: readonly string[] | undefined; models?: readonly string[] | undefined }): boolean {
  return flags.all === true || (flags.groups?.length ?? 0) > 0 || (flags.models?.length ?? 0) > 0;
}

function sortedFile(f: LockedFile): LockedFile {
  return { path: f.path, size: f.size, blobId: f.blobId, ...(f.lfs ? { lfs: { sha256: f.lfs.sha256, size: f.lfs.size } } : {}) };
}

function sortedEntry(e: LockedEntry): LockedEntry {
  if (e.kind === 'url') {
    return { group: e.group, name: e.name, kind: 'url', url: e.url, sha256: e.sha256, size: e.size, destination: e.destination };
  }
  return {
    group: e.group,
    name: e.name,
    kind: 'hub',
    repo: e.repo,
    type: e.type,
    revision: e.revision,
    ...(e.include ? { include: [...e.include] } : {}),
    ...(e.exclude ? { exclude: [...e.exclude] } : {}),
    ...(e.formats ? { formats: e.formats.map((f) => [...f]) } : {}),
    commit: e.commit,
    files: [...e.files].sort((a, b) => compareText(a.path, b.path)).map(sortedFile),
  };
}

/** Entries in lock order: by group, then name. */
export function sortEntries(entries: readonly LockedEntry[]): LockedEntry[] {
  return [...entries].sort((a, b) => compareText(a.group, b.group) || compareText(a.name, b.name));
}

/**
 * The lock's bytes: fixed key order, sorted entries and files, two-space JSON and a final newline,
 * no timestamp. The same facts always give the same bytes (a lock that did not change is not
 * rewritten, and a diff shows only what moved).
 */
export function serializeLock(lock: Lockfile): string {
  const canonical: Lockfile = {
    version: LOCKFILE_VERSION,
    platform: { os: lock.platform.os, arch: lock.platform.arch },
    selection: normalizeSelection(lock.selection),
    entries: sortEntries(lock.entries).map(sortedEntry),
  };
  return `${JSON.stringify(canonical, null, 2)}\n`;
}

/** What the catalog asks of a Hub entry, as the lock records it (everything but commit and files). */
export function hubRequest(entry: SelectedHubEntry): Omit<LockedHubEntry, 'commit' | 'files'> {
  return {
    group: entry.group,
    name: entry.name,
    kind: 'hub',
    repo: entry.repo.id,
    type: entry.repo.type,
    revision: entry.revision,
    ...(entry.include ? { include: entry.include } : {}),
    ...(entry.exclude ? { exclude: entry.exclude } : {}),
    ...(entry.formats ? { formats: entry.formats } : {}),
  };
}

export function urlLockEntry(entry: Extract<SelectedEntry, { kind: 'url' }>): LockedUrlEntry {
  return { group: entry.group, name: entry.name, kind: 'url', url: entry.url, sha256: entry.sha256, size: entry.size, destination: entry.destination };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The fields in which the catalog's entry differs from the locked one (empty: the lock satisfies it). */
export function changedFields(selected: SelectedEntry, locked: LockedEntry): string[] {
  if (selected.kind !== locked.kind) return ['kind'];
  if (selected.kind === 'url') {
    const l = locked as LockedUrlEntry;
    const want = urlLockEntry(selected);
    return (['url', 'sha256', 'size', 'destination'] as const).filter((k) => !same(want[k], l[k]));
  }
  const l = locked as LockedHubEntry;
  const want = hubRequest(selected);
  const fields: string[] = (['repo', 'type', 'revision', 'include', 'exclude', 'formats'] as const).filter((k) => !same(want[k], l[k]));
  // A commit pinned in the catalog must be the locked commit.
  if (/^[0-9a-f]{40}$/.test(selected.revision) && selected.revision !== l.commit && !fields.includes('revision')) fields.push('commit');
  return fields;
}

export interface LockComparison {
  /** Selected by the catalog, absent from the lock. */
  added: SelectedEntry[];
  /** In the lock, no longer selected by the catalog. */
  removed: LockedEntry[];
  /** In both, but the catalog asks for something else now. */
  changed: Array<{ selected: SelectedEntry; locked: LockedEntry; fields: string[] }>;
  /** In both, and the lock satisfies the catalog. */
  unchanged: Array<{ selected: SelectedEntry; locked: LockedEntry }>;
}

/** Compare the catalog's selection (entries not skipped) with the lock's entries. Pure. */
export function compareWithLock(selected: readonly SelectedEntry[], locked: readonly LockedEntry[]): LockComparison {
  const byKey = new Map(locked.map((e) => [entryKey(e), e]));
  const result: LockComparison = { added: [], removed: [], changed: [], unchanged: [] };
  const seen = new Set<string>();
  for (const entry of selected) {
    if (entry.skipped !== undefined) continue;
    const key = entryKey(entry);
    seen.add(key);
    const l = byKey.get(key);
    if (l === undefined) {
      result.added.push(entry);
      continue;
    }
    const fields = changedFields(entry, l);
    if (fields.length > 0) result.changed.push({ selected: entry, locked: l, fields });
    else result.unchanged.push({ selected: entry, locked: l });
  }
  for (const l of locked) if (!seen.has(entryKey(l))) result.removed.push(l);
  return result;
}

export function isInSync(comparison: LockComparison): boolean {
  return comparison.added.length === 0 && comparison.removed.length === 0 && comparison.changed.length === 0;
}

/** One line per difference, for error messages and `mlcache lock`'s output. */
export function describeComparison(comparison: LockComparison): string[] {
  return [
    ...comparison.added.map((e) => `${entryKey(e)}: in the catalog, not in the lock`),
    ...comparison.removed.map((e) => `${entryKey(e)}: in the lock, no longer selected by the catalog`),
    ...comparison.changed.map((c) => `${entryKey(c.selected)}: ${c.fields.join(', ')} changed in the catalog`),
  ];
}

export interface FileChanges {
  added: string[];
  removed: string[];
  /** Same path, other content. */
  changed: string[];
  bytesBefore: number;
  bytesAfter: number;
}

const contentId = (f: LockedFile): string => f.lfs?.sha256 ?? f.blobId;

/** File-level difference between two sets of locked files (an upgrade, or `outdated`). Pure. */
export function diffFiles(before: readonly LockedFile[], after: readonly LockedFile[]): FileChanges {
  const old = new Map(before.map((f) => [f.path, f]));
  const now = new Map(after.map((f) => [f.path, f]));
  const added = after.filter((f) => !old.has(f.path)).map((f) => f.path);
  const removed = before.filter((f) => !now.has(f.path)).map((f) => f.path);
  const changed = after.filter((f) => old.has(f.path) && contentId(old.get(f.path)!) !== contentId(f)).map((f) => f.path);
  const sum = (files: readonly LockedFile[]) => files.reduce((n, f) => n + f.size, 0);
  return { added, removed, changed, bytesBefore: sum(before), bytesAfter: sum(after) };
}

/**
 * `mlcache-<os>-<arch>-<hash>`: a key for actions/cache and GitLab's cache that changes exactly
 * when the lock's content, the selection or the platform changes. The lock is hashed in its
 * canonical form, so reformatting the file by hand does not change the key. 16 hex characters
 * (64 bits) of sha256.
 */
export function cacheKey(lock: Lockfile, selection: LockSelection, platform: MachinePlatform): string {
  const hash = createHash('sha256')
    .update('mlcache-cache-key-v1\n')
    .update(serializeLock(lock))
    .update(JSON.stringify(normalizeSelection(selection)))
    .update(`\n${platform.os}\n${platform.arch}\n`)
    .digest('hex');
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.]/g, '_');
  return `mlcache-${safe(platform.os)}-${safe(platform.arch)}-${hash.slice(0, 16)}`;
}

/**
 * A locked entry as a catalog selection entry pinned to its locked commit, for the maintenance
 * code (`verify --frozen`): the include patterns are the locked paths, so the completeness check
 * asks for exactly the locked files.
 */
export function lockedAsSelected(entry: LockedEntry): SelectedEntry {
  if (entry.kind === 'url') return { kind: 'url', group: entry.group, name: entry.name, url: entry.url, sha256: entry.sha256, size: entry.size, destination: entry.destination, optional: false, purpose: 'mlcache.lock' };
  return {
    kind: 'hub',
    group: entry.group,
    name: entry.name,
    repo: { id: entry.repo, type: entry.type },
    revision: entry.commit,
    include: entry.files.map((f) => f.path),
    exclude: undefined,
    formats: undefined,
    gated: false,
    optional: false,
    purpose: 'mlcache.lock',
    approxBytes: undefined,
  };
}
