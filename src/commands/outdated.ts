/**
 * `mlcache outdated`: which locked entries' revisions point at another commit now, and what an
 * upgrade would change (files added, removed, changed; bytes). One revision call per repo and
 * revision (`?blobs=true` carries every file's size and hashes), no file listings: cheap enough
 * for a scheduled CI job that opens an upgrade PR with `mlcache lock --upgrade`.
 */
import type { Dispatcher } from 'undici';
import { selectPaths } from '../util/file-selection.js';
import type { Settings } from '../config/settings.js';
import { isCommitHash } from '../hub/index.js';
import type { RepoFile } from '../hub/types.js';
import { diffFiles, entryKey, lockfilePath, readLockfile, type FileChanges, type LockedFile, type LockedHubEntry } from '../lock/index.js';
import { createRuntime, verifyOnline, type RuntimeTuning } from '../runtime/hub-runtime.js';

export interface OutdatedOptions {
  settings: Settings;
  lockfile?: string | undefined;
  catalogPath?: string | undefined;
  token?: string | undefined;
  dispatcher?: Dispatcher | undefined;
  tuning?: RuntimeTuning | undefined;
  signal?: AbortSignal | undefined;
}

export interface OutdatedEntry {
  entry: string;
  repo: string;
  revision: string;
  lockedCommit: string;
  currentCommit: string;
  /** What `lock --upgrade` would change; undefined when the endpoint gave no file facts, or the patterns match no file any more. */
  files: FileChanges | undefined;
}

export interface OutdatedResult {
  lockfile: string;
  /** Hub entries checked (those locked at a branch or tag; a commit revision cannot move). */
  checked: number;
  outdated: OutdatedEntry[];
}

function toLocked(f: RepoFile): LockedFile {
  return { path: f.path, size: f.lfs?.size ?? f.size, blobId: f.oid, ...(f.lfs ? { lfs: { sha256: f.lfs.oid, size: f.lfs.size } } : {}) };
}

/** The files the entry's patterns select among `files` (as the planner selects them). */
function selectedFiles(entry: LockedHubEntry, files: RepoFile[]): LockedFile[] | undefined {
  const { selected, format } = selectPaths(
    files.map((f) => f.path),
    { include: entry.include, exclude: entry.exclude, formats: entry.formats },
  );
  if (format === -1) return undefined;
  const keep = new Set(selected);
  return files.filter((f) => keep.has(f.path)).map(toLocked);
}

export async function outdated(options: OutdatedOptions): Promise<OutdatedResult> {
  const { settings } = options;
  const file = lockfilePath({ cwd: settings.cwd, lockfile: options.lockfile, catalogPath: options.catalogPath ?? settings.catalogPath });
  const lock = await readLockfile(file);
  const movable = lock.entries.filter((e): e is LockedHubEntry => e.kind === 'hub' && !isCommitHash(e.revision));
  if (movable.length === 0) return { lockfile: file, checked: 0, outdated: [] };
  verifyOnline(settings);
  const runtime = await createRuntime({ settings, token: options.token, dispatcher: options.dispatcher, tuning: options.tuning, signal: options.signal });
  try {
    // One call per repo and revision, however many entries share it.
    const calls = new Map<string, ReturnType<typeof runtime.hub.revisionFiles>>();
    for (const e of movable) {
      const key = JSON.stringify([e.type, e.repo, e.revision]);
      if (!calls.has(key)) calls.set(key, runtime.hub.revisionFiles({ id: e.repo, type: e.type }, e.revision));
    }
    const out: OutdatedEntry[] = [];
    for (const e of movable) {
      const now = await calls.get(JSON.stringify([e.type, e.repo, e.revision]))!;
      if (now.commit === e.commit) continue;
      const after = now.files === undefined ? undefined : selectedFiles(e, now.files);
      out.push({ entry: entryKey(e), repo: e.repo, revision: e.revision, lockedCommit: e.commit, currentCommit: now.commit, files: after === undefined ? undefined : diffFiles(e.files, after) });
    }
    return { lockfile: file, checked: movable.length, outdated: out };
  } finally {
    await runtime.close();
  }
}
