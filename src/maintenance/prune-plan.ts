/**
 * What `mlcache prune` and `mlcache rm` would delete, decided from a cache scan alone. Pure: the
 * I/O (reading locks, deleting) lives in lock-state.ts and apply-removal.ts.
 *
 * Safety rules (a running download must never lose its work):
 * - a partial file or blob whose `.locks/<repo>/<etag>.lock` is held by a live process is kept;
 * - one modified within `recentMs` (default 1 min) is kept too, unless its lock owner is known dead
 *   (huggingface_hub ≥ 1.18 holds no lock it can be judged by, so recency is the only signal);
 * - a revision counts as referenced when a ref names it even with a trailing newline (that ref is
 *   verify's business, not a reason to delete the snapshot), or when a catalog entry pins it.
 */
import path from 'node:path';
import type { CacheScan, ScannedRepo, ScannedRevision } from '../cache/index.js';
import { STALE_TEMP_MS } from '../cache/repo-temp.js';
import { repoLabel } from './findings.js';

/** live: held by a running process; dead: its owner is gone; foreign: not mlcache's format (e.g. Python filelock); none: no lock file. */
export type LockState = 'live' | 'dead' | 'foreign' | 'none';

export interface PruneItem {
  path: string;
  bytes: number;
  repo: string;
  reason: string;
}

export interface PruneRevision {
  repo: string;
  folder: string;
  commit: string;
  /** snapshots/<commit> */
  path: string;
  /** Copies (no-symlink caches) inside the snapshot folder. */
  snapshotBytes: number;
  /** Blobs that only this revision (or other removed ones) uses: deleted with it. */
  blobs: PruneItem[];
}

export interface KeptItem {
  path: string;
  bytes: number;
  repo: string;
  reason: string;
}

export interface PrunePlan {
  partials: PruneItem[];
  orphanBlobs: PruneItem[];
  revisions: PruneRevision[];
  kept: KeptItem[];
  bytes: { partials: number; orphanBlobs: number; revisions: number; total: number };
}

export interface PlanPruneOptions {
  now: number;
  /** Lock state per `<repo folder>/<etag>`; missing means 'none'. */
  locks?: ReadonlyMap<string, LockState> | undefined;
  /** @default 60000 */
  recentMs?: number | undefined;
  /** `<repo folder>/<commit>` that a catalog entry pins: never pruned as unreferenced. */
  protectedCommits?: ReadonlySet<string> | undefined;
  /**
   * Whether an entry of a repo's `.mlcache-tmp/` is stale (src/cache `isStaleRepoTemp`: its
   * writer's pid is dead on this host, or nothing wrote to it for 10 minutes). Default: age alone.
   */
  isTempStale?: ((name: string, mtimeMs: number) => boolean) | undefined;
}

/** The blob name a partial file belongs to: `<etag>.<8hex>.incomplete`, `<etag>.incomplete`, `<etag>.<8hex>.mlcache-journal`. */
export function partialEtag(name: string): string | undefined {
  const head = name.split('.')[0] ?? '';
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(head) ? head : undefined;
}

export function lockKey(folder: string, etag: string): string {
  return `${folder}/${etag}`;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

/** Keep or remove a file that an in-flight download may own. */
function judge(
  folder: string,
  etag: string | undefined,
  mtimeMs: number,
  options: PlanPruneOptions,
): { remove: true; why: string } | { remove: false; why: string } {
  const state = etag === undefined ? 'none' : (options.locks?.get(lockKey(folder, etag)) ?? 'none');
  const recentMs = options.recentMs ?? 60_000;
  const age = options.now - mtimeMs;
  if (state === 'live') return { remove: false, why: 'a live process holds its lock' };
  if (state === 'dead') return { remove: true, why: 'the process that held its lock is gone' };
  if (age < recentMs) return { remove: false, why: `modified ${ago(age)} ago; it may belong to a running download` };
  return { remove: true, why: `stale: last written ${ago(age)} ago` };
}

/** Keep or remove an entry of a repo's `.mlcache-tmp/` (a writer's temp). */
function judgeTemp(name: string, mtimeMs: number, options: PlanPruneOptions): { remove: boolean; why: string } {
  const stale = options.isTempStale ? options.isTempStale(name, mtimeMs) : options.now - mtimeMs > STALE_TEMP_MS;
  return stale ? { remove: true, why: 'a temporary file its writer left behind' } : { remove: false, why: 'a temporary file a running writer may still use' };
}

function isReferenced(repo: ScannedRepo, rev: ScannedRevision, options: PlanPruneOptions): boolean {
  if (repo.refs.some((r) => r.raw.trim() === rev.commit)) return true;
  return options.protectedCommits?.has(`${repo.folder}/${rev.commit}`) === true;
}

function copyBytes(rev: ScannedRevision): number {
  return rev.files.filter((f) => f.kind === 'copy').reduce((sum, f) => sum + (f.size ?? 0), 0);
}

/** Blob paths the given revisions resolve to. */
function usedBlobPaths(revisions: readonly ScannedRevision[]): Set<string> {
  const used = new Set<string>();
  for (const rev of revisions) for (const f of rev.files) if (f.resolvedPath !== undefined) used.add(f.resolvedPath);
  return used;
}

export function planPrune(scan: CacheScan, options: PlanPruneOptions): PrunePlan {
  const partials: PruneItem[] = [];
  const orphanBlobs: PruneItem[] = [];
  const revisions: PruneRevision[] = [];
  const kept: KeptItem[] = [];

  for (const repo of scan.repos) {
    const label = repoLabel(repo.repo);
    for (const p of repo.partialFiles) {
      const verdict = p.kind === 'temp' ? judgeTemp(p.name, p.mtimeMs, options) : judge(repo.folder, partialEtag(p.name), p.mtimeMs, options);
      // What deleting it frees: the allocated bytes, never the apparent size of a preallocated partial.
      const item = { path: p.path, bytes: p.allocated, repo: label, reason: verdict.why };
      (verdict.remove ? partials : kept).push(item);
    }
    const removableBlob = (b: ScannedRepo['blobs'][number]) => judge(repo.folder, b.name, b.mtimeMs, options);
    for (const b of repo.blobs) {
      if (b.referenced) continue;
      const verdict = removableBlob(b);
      const item = { path: b.path, bytes: b.size, repo: label, reason: verdict.remove ? `orphan blob (${verdict.why})` : verdict.why };
      (verdict.remove ? orphanBlobs : kept).push(item);
    }

    const stale = repo.revisions.filter((rev) => !isReferenced(repo, rev, options));
    if (stale.length === 0) continue;
    const remaining = repo.revisions.filter((rev) => isReferenced(repo, rev, options));
    const stillUsed = usedBlobPaths(remaining);
    const claimed = new Set<string>();
    for (const rev of stale) {
      const blobs: PruneItem[] = [];
      for (const f of rev.files) {
        if (f.kind !== 'symlink' || f.resolvedPath === undefined || f.blobName === undefined) continue;
        if (stillUsed.has(f.resolvedPath) || claimed.has(f.resolvedPath)) continue;
        const blob = repo.blobs.find((b) => b.name === f.blobName);
        if (blob === undefined) continue;
        claimed.add(f.resolvedPath);
        blobs.push({ path: blob.path, bytes: blob.size, repo: label, reason: `used only by unreferenced revision ${rev.commit.slice(0, 12)}` });
      }
      revisions.push({ repo: label, folder: repo.folder, commit: rev.commit, path: rev.path, snapshotBytes: copyBytes(rev), blobs });
    }
  }

  const sum = (items: readonly { bytes: number }[]) => items.reduce((a, b) => a + b.bytes, 0);
  const revisionBytes = revisions.reduce((a, r) => a + r.snapshotBytes + sum(r.blobs), 0);
  return {
    partials,
    orphanBlobs,
    revisions,
    kept,
    bytes: {
      partials: sum(partials),
      orphanBlobs: sum(orphanBlobs),
      revisions: revisionBytes,
      total: sum(partials) + sum(orphanBlobs) + revisionBytes,
    },
  };
}

export interface RemovalPlan {
  repo: string;
  folder: string;
  /** Whole repo: delete the repo folder and its `.locks/<folder>`. */
  wholeRepo: boolean;
  /** Folders or files to delete, in order. */
  paths: string[];
  /** Blobs deleted because no remaining snapshot uses them. */
  blobs: PruneItem[];
  /** Blobs kept because another revision still uses them. */
  keptBlobs: number;
  refs: string[];
  bytes: number;
}

/**
 * `mlcache rm REPO[@REV]`: the whole repo, or one revision — its snapshot, the refs naming it,
 * its trees/<commit>.json, and the blobs no remaining snapshot resolves to.
 */
export function planRemoval(repo: ScannedRepo, cacheDir: string, commit?: string): RemovalPlan {
  const label = repoLabel(repo.repo);
  if (commit === undefined) {
    const bytes =
      repo.blobsSize + repo.partialFiles.reduce((a, p) => a + p.allocated, 0) + repo.revisions.reduce((a, r) => a + copyBytes(r), 0);
    return {
      repo: label,
      folder: repo.folder,
      wholeRepo: true,
      paths: [repo.path, path.join(cacheDir, '.locks', repo.folder)],
      blobs: repo.blobs.map((b) => ({ path: b.path, bytes: b.size, repo: label, reason: 'repo removed' })),
      keptBlobs: 0,
      refs: repo.refs.map((r) => r.name),
      bytes,
    };
  }
  const target = repo.revisions.find((r) => r.commit === commit);
  const remaining = repo.revisions.filter((r) => r.commit !== commit);
  const stillUsed = usedBlobPaths(remaining);
  const blobs: PruneItem[] = [];
  let keptBlobs = 0;
  const seen = new Set<string>();
  for (const f of target?.files ?? []) {
    if (f.kind !== 'symlink' || f.blobName === undefined || f.resolvedPath === undefined || seen.has(f.resolvedPath)) continue;
    seen.add(f.resolvedPath);
    if (stillUsed.has(f.resolvedPath)) {
      keptBlobs++;
      continue;
    }
    const blob = repo.blobs.find((b) => b.name === f.blobName);
    if (blob) blobs.push({ path: blob.path, bytes: blob.size, repo: label, reason: `used only by ${commit.slice(0, 12)}` });
  }
  const refs = repo.refs.filter((r) => r.raw.trim() === commit).map((r) => r.name);
  const paths = [
    ...(target ? [target.path] : []),
    ...refs.map((name) => path.join(repo.path, 'refs', ...name.split('/'))),
    path.join(repo.path, 'trees', `${commit}.json`),
    path.join(repo.path, '.no_exist', commit),
    ...blobs.map((b) => b.path),
  ];
  const bytes = blobs.reduce((a, b) => a + b.bytes, 0) + (target ? copyBytes(target) : 0);
  return { repo: label, folder: repo.folder, wholeRepo: false, paths, blobs, keptBlobs, refs, bytes };
}
