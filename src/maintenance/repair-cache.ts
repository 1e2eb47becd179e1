/**
 * `mlcache verify --repair`: fix exactly what verify found, and fetch only what is bad.
 *
 * - Refs with a trailing newline are rewritten without it (atomic).
 * - Bad blobs are deleted, then the snapshot files that used them are planned and executed again
 *   at their commit through the engine (planSnapshot with `files`, so nothing else is fetched).
 * - Missing blobs, dangling pointers and files a tree cache lists but the snapshot lacks are
 *   fetched the same way. A pointer the Hub no longer has at that commit is removed (decision:
 *   a dangling pointer is worse than none — Python's scan_cache_dir drops the whole repo for it).
 * - A ref to a missing snapshot is refilled with the catalog entry's selection at that commit
 *   when an entry selects the repo; otherwise the ref is removed (the next download rewrites it).
 * - URL artifacts that are missing, the wrong size or the wrong hash are downloaded again.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { atomicWriteFile, createRepoTemp, isCommitHash, repoPaths, type CacheRepo, type CacheScan } from '../cache/index.js';
import type { SelectedEntry } from '../catalog/index.js';
import type { TransferEngine } from '../download/types.js';
import { isMlcacheError } from '../errors.js';
import { resolveUrlArtifact } from '../hub/index.js';
import type { HubClient } from '../hub/types.js';
import { executeSnapshot, planSnapshot } from '../snapshot/index.js';
import { repoLabel, type Finding } from './findings.js';

export interface RepairContext {
  hub: HubClient;
  engine: TransferEngine;
  cacheDir: string;
  torchHome: string;
  /** Copy blobs into snapshots (HF_HUB_DISABLE_SYMLINKS). */
  copy?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** For URL artifacts whose URL redirects (hub/url-artifact-source.ts). */
  dispatcher?: Dispatcher | undefined;
}

export interface RepairSummary {
  fixed: number;
  removed: number;
  failed: number;
  skipped: number;
  bytesFetched: number;
}

interface Refetch {
  repo: CacheRepo;
  commit: string;
  files: Set<string>;
  findings: Finding[];
  /** Fetch this selection instead of explicit files (refilling a missing snapshot). */
  selection?: { include: string[] | undefined; exclude: string[] | undefined; formats: string[][] | undefined } | undefined;
}

function describe(error: unknown): string {
  if (isMlcacheError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** Mutates each finding's `repaired`/`repairNote`. */
export async function repairFindings(
  ctx: RepairContext,
  findings: Finding[],
  scan: CacheScan | undefined,
  entries: readonly SelectedEntry[],
): Promise<RepairSummary> {
  const summary: RepairSummary = { fixed: 0, removed: 0, failed: 0, skipped: 0, bytesFetched: 0 };
  const mark = (f: Finding, outcome: NonNullable<Finding['repaired']>, note?: string) => {
    f.repaired = outcome;
    f.repairNote = note;
    summary[outcome]++;
  };
  const repoOf = (label: string | undefined): CacheRepo | undefined =>
    scan?.repos.find((r) => repoLabel(r.repo) === label)?.repo ??
    entries.flatMap((e) => (e.kind === 'hub' && repoLabel({ id: e.repo.id, type: e.repo.type }) === label ? [e.repo] : []))[0];

  const refetches = new Map<string, Refetch>();
  const queue = (repo: CacheRepo, commit: string, file: string | undefined, f: Finding, selection?: Refetch['selection']) => {
    const key = `${repoLabel(repo)}@${commit}${selection ? '#selection' : ''}`;
    let r = refetches.get(key);
    if (!r) {
      r = { repo, commit, files: new Set(), findings: [], selection };
      refetches.set(key, r);
    }
    if (file !== undefined) r.files.add(file);
    if (!r.findings.includes(f)) r.findings.push(f);
  };

  for (const f of findings) {
    if (f.severity !== 'damage') continue;
    const repo = repoOf(f.repo);
    switch (f.kind) {
      case 'ref-trailing-newline': {
        try {
          // Staged in the repo's private temp folder, never beside the ref (a reader lists refs/).
          const refRepo = repoOf(f.repo);
          await atomicWriteFile(f.path, f.commit ?? '', { createTemp: refRepo ? (write) => createRepoTemp(ctx.cacheDir, refRepo, 'ref', write) : undefined });
          mark(f, 'fixed', 'rewritten without the newline');
        } catch (error) {
          mark(f, 'failed', describe(error));
        }
        break;
      }
      case 'blob-mismatch': {
        try {
          await fs.rm(f.path, { force: true });
        } catch (error) {
          mark(f, 'failed', `cannot delete: ${describe(error)}`);
          break;
        }
        const affected = f.affected ?? [];
        if (affected.length === 0 || repo === undefined) mark(f, 'removed', 'deleted (no snapshot used it)');
        else for (const a of affected) queue(repo, a.commit, a.file, f);
        break;
      }
      case 'copy-mismatch':
      case 'blob-missing':
      case 'broken-link':
      case 'snapshot-incomplete': {
        if (repo === undefined || f.commit === undefined || f.file === undefined) {
          mark(f, 'skipped', 'not enough information to re-fetch');
          break;
        }
        if (f.kind === 'copy-mismatch') await fs.rm(f.path, { force: true }).catch(() => undefined);
        queue(repo, f.commit, f.file, f);
        break;
      }
      case 'ref-missing-snapshot': {
        const entry = entries.find((e) => e.kind === 'hub' && e.skipped === undefined && repo !== undefined && repoLabel(e.repo) === repoLabel(repo));
        if (repo !== undefined && entry?.kind === 'hub' && f.commit !== undefined && isCommitHash(f.commit)) {
          queue(repo, f.commit, undefined, f, { include: entry.include, exclude: entry.exclude, formats: entry.formats });
        } else {
          try {
            await fs.rm(f.path, { force: true });
            mark(f, 'removed', 'ref removed (no catalog entry selects this repo, so there is nothing to refill it with)');
          } catch (error) {
            mark(f, 'failed', describe(error));
          }
        }
        break;
      }
      case 'artifact-missing':
      case 'artifact-size':
      case 'artifact-mismatch': {
        const entry = entries.find((e) => e.kind === 'url' && e.name === f.repo && path.join(ctx.torchHome, ...e.destination.split('/')) === f.path);
        if (entry?.kind !== 'url') {
          mark(f, 'skipped', 'no catalog entry for this artifact');
          break;
        }
        try {
          await fs.rm(f.path, { force: true });
          await fs.mkdir(path.dirname(f.path), { recursive: true });
          const r = await ctx.engine.download({
            id: f.path,
            label: `${entry.name} (${entry.destination})`,
            group: entry.group,
            size: entry.size,
            digest: { algorithm: 'sha256', hex: entry.sha256 },
            destination: f.path,
            resolve: () => (ctx.dispatcher ? resolveUrlArtifact(entry.url, { dispatcher: ctx.dispatcher, signal: ctx.signal }) : Promise.resolve({ url: entry.url, headers: {} })),
          });
          summary.bytesFetched += r.bytesTransferred;
          mark(f, 'fixed', 'downloaded again (sha256 checked)');
        } catch (error) {
          mark(f, 'failed', describe(error));
        }
        break;
      }
      default:
        mark(f, 'skipped', 'cannot be repaired automatically');
    }
  }

  // A bad blob may be used by several commits: combine the outcomes per finding (worst wins).
  const outcomes = new Map<Finding, Array<{ outcome: NonNullable<Finding['repaired']>; note: string | undefined }>>();
  const collect = (f: Finding, outcome: NonNullable<Finding['repaired']>, note?: string) => {
    const list = outcomes.get(f) ?? [];
    list.push({ outcome, note });
    outcomes.set(f, list);
  };
  for (const r of refetches.values()) await runRefetch(ctx, r, summary, collect);
  const rank = { failed: 3, skipped: 2, removed: 1, fixed: 0 } as const;
  for (const [f, list] of outcomes) {
    const worst = list.reduce((a, b) => (rank[b.outcome] > rank[a.outcome] ? b : a));
    mark(f, worst.outcome, [...new Set(list.map((x) => x.note).filter((n): n is string => n !== undefined))].join('; ') || undefined);
  }
  return summary;
}

async function runRefetch(
  ctx: RepairContext,
  r: Refetch,
  summary: RepairSummary,
  mark: (f: Finding, outcome: NonNullable<Finding['repaired']>, note?: string) => void,
): Promise<void> {
  const planCtx = { hub: ctx.hub, cacheDir: ctx.cacheDir };
  const exec = async (files: string[] | undefined) => {
    const plan = await planSnapshot(planCtx, {
      repo: r.repo,
      revision: r.commit,
      files,
      include: r.selection?.include,
      exclude: r.selection?.exclude,
      formats: r.selection?.formats,
    });
    const result = await executeSnapshot({ hub: ctx.hub, engine: ctx.engine, cacheDir: ctx.cacheDir, copy: ctx.copy, signal: ctx.signal }, plan);
    summary.bytesFetched += result.bytesFetched;
    return result.failures;
  };

  if (r.selection) {
    try {
      const failures = await exec(undefined);
      for (const f of r.findings) {
        if (failures.length === 0) mark(f, 'fixed', `snapshot ${r.commit.slice(0, 12)} downloaded again`);
        else mark(f, 'failed', failures.map((x) => `${x.path}: ${x.message}`).join('; '));
      }
    } catch (error) {
      const gone = isMlcacheError(error) && error.code === 'REVISION_NOT_FOUND';
      for (const f of r.findings) {
        if (gone && f.kind === 'ref-missing-snapshot') {
          await fs.rm(f.path, { force: true }).catch(() => undefined);
          mark(f, 'removed', `the Hub has no commit ${r.commit.slice(0, 12)}: ref removed`);
        } else {
          mark(f, 'failed', describe(error));
        }
      }
    }
    return;
  }

  // Explicit files; a file the Hub does not have at this commit makes planSnapshot refuse the
  // whole list, so fall back to one plan per file to tell which ones are gone.
  const failed = new Map<string, string>();
  const gone = new Set<string>();
  try {
    for (const x of await exec([...r.files])) failed.set(x.path, x.message);
  } catch (error) {
    if (!(isMlcacheError(error) && error.code === 'ENTRY_NOT_FOUND')) {
      for (const file of r.files) failed.set(file, describe(error));
    } else {
      for (const file of r.files) {
        try {
          for (const x of await exec([file])) failed.set(x.path, x.message);
        } catch (inner) {
          if (isMlcacheError(inner) && inner.code === 'ENTRY_NOT_FOUND') gone.add(file);
          else failed.set(file, describe(inner));
        }
      }
    }
  }

  const snapDir = path.join(repoPaths(ctx.cacheDir, r.repo).snapshotsDir, r.commit);
  for (const f of r.findings) {
    const files = f.kind === 'blob-mismatch' ? (f.affected ?? []).filter((a) => a.commit === r.commit).map((a) => a.file) : [f.file ?? ''];
    const errors = files.filter((file) => failed.has(file)).map((file) => `${file}: ${failed.get(file)}`);
    const missing = files.filter((file) => gone.has(file));
    if (errors.length > 0) {
      mark(f, 'failed', errors.join('; '));
    } else if (missing.length > 0 && (f.kind === 'blob-missing' || f.kind === 'broken-link' || f.kind === 'blob-mismatch')) {
      for (const file of missing) await fs.rm(path.join(snapDir, ...file.split('/')), { force: true }).catch(() => undefined);
      mark(f, 'removed', `the Hub has no ${missing.join(', ')} at ${r.commit.slice(0, 12)}: dangling pointer removed`);
    } else if (missing.length > 0) {
      mark(f, 'failed', `the Hub has no ${missing.join(', ')} at ${r.commit.slice(0, 12)}`);
    } else {
      mark(f, 'fixed', `downloaded again at ${r.commit.slice(0, 12)}`);
    }
  }
}
