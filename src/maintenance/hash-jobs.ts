/**
 * Re-hashing what the cache holds. A blob's name is its digest (huggingface_hub
 * file_download.py::_hf_hub_download_to_cache_dir; Hub docs `docs/hub/local-cache.md`):
 * 64 hex → sha256 of the content (LFS/Xet files), 40 hex → git blob sha1 (regular files).
 * Snapshot copies (no-symlink caches) are checked against trees/<commit>.json when it lists them.
 * Big files are hashed in worker threads so the event loop keeps rendering progress.
 */
import type { ScannedRepo, TreeCacheFile } from '../cache/index.js';
import type { TransferEvent } from '../download/types.js';
import type { DigestAlgorithm } from '../util/digest-algorithm.js';
import { hashFile } from '../util/hash.js';
import { runPool } from '../util/run-pool.js';
import { repoLabel } from './findings.js';

export interface HashJob {
  /** Unique id (the absolute path). */
  id: string;
  kind: 'blob' | 'copy' | 'artifact';
  path: string;
  size: number;
  algorithm: DigestAlgorithm;
  expected: string;
  /** Repo label or artifact entry name. */
  repo: string;
  /** Repo-relative path (copies) or destination (artifacts). */
  file?: string | undefined;
  commit?: string | undefined;
}

export interface HashOutcome {
  job: HashJob;
  /** Lower-case hex; undefined when the file could not be read. */
  actual: string | undefined;
  error?: string | undefined;
}

export function algorithmForBlobName(name: string): DigestAlgorithm {
  return name.length === 64 ? 'sha256' : 'git-sha1';
}

/** Pure: one job per blob, plus one per snapshot copy that trees/<commit>.json describes. */
export function hashJobsForRepo(repo: ScannedRepo, trees: ReadonlyMap<string, readonly TreeCacheFile[]> = new Map()): HashJob[] {
  const label = repoLabel(repo.repo);
  const jobs: HashJob[] = repo.blobs.map((b) => ({
    id: b.path,
    kind: 'blob',
    path: b.path,
    size: b.size,
    algorithm: algorithmForBlobName(b.name),
    expected: b.name,
    repo: label,
  }));
  for (const rev of repo.revisions) {
    const tree = trees.get(rev.commit);
    if (tree === undefined) continue;
    const byPath = new Map(tree.map((t) => [t.path, t]));
    for (const f of rev.files) {
      const t = byPath.get(f.path);
      if (f.kind !== 'copy' || t === undefined || f.size === undefined) continue;
      jobs.push({
        id: f.fullPath,
        kind: 'copy',
        path: f.fullPath,
        size: f.size,
        algorithm: t.lfs ? 'sha256' : 'git-sha1',
        expected: (t.lfs?.oid ?? t.oid).toLowerCase(),
        repo: label,
        file: f.path,
        commit: rev.commit,
      });
    }
  }
  return jobs;
}

export interface RunHashJobsOptions {
  /** Files hashed at once. @default 2 */
  concurrency?: number | undefined;
  /** Files at or above this size are hashed in a worker thread. @default 4 MiB */
  workerThreshold?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Progress as transfer-style events, so the CLI's progress renderer shows them. */
  onEvent?: ((event: TransferEvent) => void) | undefined;
}

export async function runHashJobs(jobs: readonly HashJob[], options: RunHashJobsOptions = {}): Promise<HashOutcome[]> {
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const threshold = options.workerThreshold ?? 4 * 1024 * 1024;
  const emit = (event: TransferEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // a renderer must not break verification
    }
  };
  for (const job of jobs) emit({ type: 'file-queued', id: job.id, label: labelOf(job), group: job.repo, size: job.size });
  const out = new Array<HashOutcome>(jobs.length);
  await runPool(jobs.length, concurrency, async (i) => {
    options.signal?.throwIfAborted();
    const job = jobs[i]!;
    const started = Date.now();
    emit({ type: 'file-started', id: job.id, label: labelOf(job), size: job.size, resumedBytes: 0, chunks: 1 });
    try {
      const actual = await hashFile(job.path, job.algorithm, { worker: job.size >= threshold, signal: options.signal });
      out[i] = { job, actual };
      emit({ type: 'file-progress', id: job.id, bytesDone: job.size, size: job.size });
      emit({ type: 'file-done', id: job.id, label: labelOf(job), size: job.size, bytesTransferred: 0, durationMs: Date.now() - started });
    } catch (error) {
      options.signal?.throwIfAborted();
      const e = error as NodeJS.ErrnoException;
      const message = `${e.code ?? 'error'}: ${e.message}`;
      out[i] = { job, actual: undefined, error: message };
      emit({ type: 'file-failed', id: job.id, label: labelOf(job), code: 'FILESYSTEM', message });
    }
  });
  return out;
}

function labelOf(job: HashJob): string {
  const name = job.kind === 'blob' ? `blobs/${job.expected}` : (job.file ?? job.path);
  return `verify ${job.repo}: ${name}`;
}
