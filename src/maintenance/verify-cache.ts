/**
 * `mlcache verify` without repair: scan, re-hash every blob (and snapshot copies and URL artifacts),
 * check the selected catalog entries against trees/<commit>.json, and collect findings.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { readTreeCache, repoFolderName, scanCache, type CacheRepo, type CacheScan, type TreeCacheFile } from '../cache/index.js';
import type { SelectedEntry, SelectedUrlEntry } from '../catalog/index.js';
import type { TransferEvent } from '../download/types.js';
import { MlcacheError } from '../errors.js';
import { finding, repoLabel, type Finding } from './findings.js';
import { hashJobsForRepo, runHashJobs, type HashJob } from './hash-jobs.js';
import { checkHubEntryOffline } from './offline-resolve.js';
import { findingsFromScan } from './scan-findings.js';
import { targetExists } from '../util/path-exists.js';

export interface VerifyCacheOptions {
  cacheDir: string;
  torchHome: string;
  /** Only these repos (REPO arguments); with `entries`, their repos are added. Neither: every repo. */
  repos?: readonly CacheRepo[] | undefined;
  /** Catalog entries to check for completeness (and URL artifacts to hash). */
  entries?: readonly SelectedEntry[] | undefined;
  /** Check every cached repo as well as the entries (--all). */
  allRepos?: boolean | undefined;
  /** @default 2 */
  concurrency?: number | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: TransferEvent) => void) | undefined;
}

export interface VerifyReport {
  cacheDir: string;
  findings: Finding[];
  /** Repo labels checked. */
  repos: string[];
  filesHashed: number;
  bytesHashed: number;
  /** The scan the findings came from (repair uses it). */
  scan: CacheScan | undefined;
}

async function scanOrEmpty(cacheDir: string, required: boolean): Promise<CacheScan | undefined> {
  try {
    return await scanCache(cacheDir);
  } catch (error) {
    if (required) throw error;
    return undefined;
  }
}

export async function verifyCache(options: VerifyCacheOptions): Promise<VerifyReport> {
  const entries = options.entries ?? [];
  const requested = options.repos ?? [];
  const everything = options.allRepos === true || (requested.length === 0 && entries.length === 0);
  const scan = await scanOrEmpty(options.cacheDir, everything && entries.length === 0);

  const folders = new Set<string>();
  for (const repo of requested) {
    const folder = repoFolderName(repo);
    if (!scan?.repos.some((r) => r.folder === folder)) {
      throw new MlcacheError('CACHE_NOT_FOUND', `${repoLabel(repo)} is not in the cache ${options.cacheDir}.`, {
        hint: 'Check the repo id (and --repo-type), or run `mlcache status --all-repos` to list what is cached.',
      });
    }
    folders.add(folder);
  }
  for (const e of entries) if (e.kind === 'hub' && e.skipped === undefined) folders.add(repoFolderName(e.repo));
  const repos = (scan?.repos ?? []).filter((r) => everything || folders.has(r.folder));
  const findings: Finding[] = scan ? findingsFromScan(scan, everything ? {} : { folders }) : [];

  // Hash blobs (and copies described by a tree cache).
  const jobs: HashJob[] = [];
  for (const repo of repos) {
    const trees = new Map<string, TreeCacheFile[]>();
    for (const rev of repo.revisions) {
      if (!rev.hasTreeCache || !rev.files.some((f) => f.kind === 'copy')) continue;
      const tree = await readTreeCache(options.cacheDir, repo.repo, rev.commit).catch(() => undefined);
      if (tree) trees.set(rev.commit, tree);
    }
    jobs.push(...hashJobsForRepo(repo, trees));
  }

  // URL artifacts: missing or wrong size is known without hashing.
  const artifactEntries = new Map<string, SelectedUrlEntry>();
  for (const e of entries) {
    if (e.kind !== 'url' || e.skipped !== undefined) continue;
    const file = path.join(options.torchHome, ...e.destination.split('/'));
    const st = await fs.stat(file).catch(() => undefined);
    if (st === undefined || !st.isFile()) {
      findings.push(
        finding('artifact-missing', { repo: e.name, path: file, file: e.destination, message: `${e.name}: ${file} is missing (group ${e.group}).` }),
      );
    } else if (st.size !== e.size) {
      findings.push(
        finding('artifact-size', {
          repo: e.name,
          path: file,
          file: e.destination,
          message: `${e.name}: ${file} is ${st.size} bytes, the catalog says ${e.size}.`,
        }),
      );
    } else {
      artifactEntries.set(file, e);
      jobs.push({ id: file, kind: 'artifact', path: file, size: st.size, algorithm: 'sha256', expected: e.sha256, repo: e.name, file: e.destination });
    }
  }

  const outcomes = await runHashJobs(jobs, { concurrency: options.concurrency, signal: options.signal, onEvent: options.onEvent });
  let bytesHashed = 0;
  for (const { job, actual, error } of outcomes) {
    if (actual === undefined) {
      findings.push(finding('unreadable', { repo: job.repo, path: job.path, file: job.file, commit: job.commit, message: `${job.repo}: cannot read ${job.path} (${error ?? 'error'}).` }));
      continue;
    }
    bytesHashed += job.size;
    if (actual === job.expected) continue;
    const algo = job.algorithm === 'sha256' ? 'sha256' : 'git blob sha1';
    if (job.kind === 'blob') {
      const repo = repos.find((r) => r.blobs.some((b) => b.path === job.path));
      const affected = (repo?.revisions ?? []).flatMap((rev) =>
        rev.files.filter((f) => f.resolvedPath === job.path || (f.blobName === job.expected && !f.broken)).map((f) => ({ commit: rev.commit, file: f.path })),
      );
      const used = affected.length > 0 ? `; used by ${affected.map((a) => `${a.file}@${a.commit.slice(0, 12)}`).join(', ')}` : '; no snapshot uses it';
      findings.push(
        finding('blob-mismatch', {
          repo: job.repo,
          path: job.path,
          affected,
          message: `${job.repo}: blobs/${job.expected} has ${algo} ${actual}, not its name (${job.size} bytes)${used}.`,
          ...(affected.length === 0 ? { repair: 'Deletes the blob (no snapshot uses it).' } : {}),
        }),
      );
    } else if (job.kind === 'copy') {
      findings.push(
        finding('copy-mismatch', {
          repo: job.repo,
          path: job.path,
          file: job.file,
          commit: job.commit,
          message: `${job.repo}@${(job.commit ?? '').slice(0, 12)}: ${job.file ?? job.path} has ${algo} ${actual}, trees/${job.commit ?? '?'}.json says ${job.expected}.`,
        }),
      );
    } else {
      const e = artifactEntries.get(job.path);
      findings.push(
        finding('artifact-mismatch', {
          repo: job.repo,
          path: job.path,
          file: job.file,
          message: `${job.repo}: ${job.path} has sha256 ${actual}, the catalog says ${job.expected}${e ? ` (group ${e.group})` : ''}.`,
        }),
      );
    }
  }

  // Completeness of the selected entries (huggingface_hub's IncompleteSnapshotError check).
  for (const e of entries) {
    if (e.kind !== 'hub' || e.skipped !== undefined) continue;
    let result = await checkHubEntryOffline(options.cacheDir, e);
    // A ref with a trailing newline is its own finding; still check the snapshot it means.
    if (result.commit !== undefined && result.files.length === 0 && result.missingFiles.length === 0 && result.commit !== e.revision) {
      if (await targetExists(path.join(options.cacheDir, repoFolderName(e.repo), 'snapshots', result.commit))) result = await checkHubEntryOffline(options.cacheDir, { ...e, revision: result.commit });
    }
    const label = result.target;
    if (result.commit === undefined || (!result.ok && result.missingFiles.length === 0 && result.files.length === 0)) {
      const alreadyReported = findings.some((f) => f.repo === label && (f.kind === 'ref-missing-snapshot' || f.kind === 'ref-trailing-newline'));
      if (!alreadyReported) {
        findings.push(
          finding('entry-missing', {
            repo: label,
            path: path.join(options.cacheDir, repoFolderName(e.repo)),
            message: `${label}@${e.revision} (group ${e.group}) is not usable from the cache: ${result.problems.join('; ')}.`,
          }),
        );
      }
      continue;
    }
    const scanned = repos.find((r) => repoLabel(r.repo) === label);
    const rev = scanned?.revisions.find((r) => r.commit === result.commit);
    const broken = new Set((rev?.files ?? []).filter((f) => f.broken).map((f) => f.path));
    for (const file of result.missingFiles) {
      if (broken.has(file)) continue; // already a blob-missing / broken-link finding
      findings.push(
        finding('snapshot-incomplete', {
          repo: label,
          path: path.join(rev?.path ?? path.join(options.cacheDir, repoFolderName(e.repo), 'snapshots', result.commit), ...file.split('/')),
          file,
          commit: result.commit,
          message: result.treeCache
            ? `${label}@${result.commit.slice(0, 12)}: ${file} is listed in trees/${result.commit}.json and selected by group ${e.group}, but the snapshot lacks it.`
            : `${label}@${result.commit.slice(0, 12)}: ${file} is named by the include patterns of group ${e.group}, but the snapshot lacks it.`,
        }),
      );
    }
  }

  return {
    cacheDir: options.cacheDir,
    findings,
    repos: repos.map((r) => repoLabel(r.repo)),
    filesHashed: outcomes.length,
    bytesHashed,
    scan,
  };
}
