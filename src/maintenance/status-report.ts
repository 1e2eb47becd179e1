/**
 * `mlcache status` data: per catalog entry (resolved offline, like huggingface_hub with
 * HF_HUB_OFFLINE=1), per cached repo, downloads in progress, and totals per cache directory.
 * Reads only the filesystem, never the network.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { scanCache, type CacheScan, type ScannedPartialFile, type ScannedRepo } from '../cache/index.js';
import type { SelectedEntry } from '../catalog/index.js';
import { totalLength } from '../download/intervals.js';
import { journalPath, readJournalFile } from '../download/journal.js';
import { repoLabel } from './findings.js';
import { checkHubEntryOffline, checkUrlEntryOffline, type OfflineEntryResult } from './offline-resolve.js';

export interface PartialProgress {
  path: string;
  name: string;
  /**
   * Bytes really downloaded so far: the completed ranges of mlcache's journal, else (no journal:
   * huggingface_hub's `<etag>.incomplete`, an unreadable journal) the bytes allocated on disk.
   * Never the apparent size: a preallocated partial is as long as the whole file from its start.
   */
  bytesDone: number;
  /** Full size when a journal says it. */
  bytesTotal: number | undefined;
  /** Space the partial file takes on disk (st_blocks × 512). */
  bytesAllocated: number;
  source: 'journal' | 'allocated';
  mtimeMs: number;
}

export interface StatusEntry extends OfflineEntryResult {
  /** Set when the entry does not apply to this machine. */
  skipped?: string | undefined;
  /** Distinct bytes the entry's present files take. */
  sizeOnDisk: number;
  /** Downloads in progress in this entry's repo. */
  partials: PartialProgress[];
  /**
   * `status --registry`: whether the registry holds this entry's artifact (by the cached commit,
   * else the revision's tag), i.e. whether registry-first cache-models would find it there.
   */
  registry?: { reference: string; available?: boolean | undefined; error?: string | undefined } | undefined;
}

export interface StatusGroup {
  name: string;
  entries: StatusEntry[];
  /** Every applicable entry resolves offline. */
  complete: boolean;
}

export interface StatusRevision {
  commit: string;
  refs: string[];
  files: number;
  size: number;
  treeCache: boolean;
  brokenFiles: number;
}

export interface StatusRepo {
  repo: string;
  folder: string;
  revisions: StatusRevision[];
  /** Distinct files reached from snapshots (each blob once). */
  sizeOnDisk: number;
  /** Every blob, referenced or not. */
  blobsSize: number;
  partials: PartialProgress[];
  warnings: string[];
  /** Some selected catalog entry names this repo. */
  inCatalog: boolean;
}

export interface StatusReport {
  hubCache: string;
  cacheExists: boolean;
  groups: StatusGroup[];
  repos: StatusRepo[];
  totals: {
    /** partialBytes: disk space the partial downloads and their journals take (allocated bytes). */
    hubCache: { path: string; bytes: number; blobsBytes: number; repos: number; partialBytes: number };
    torchHome: { path: string; bytes: number; artifactsPresent: number; artifactsSelected: number };
    mlx: { path: string; bytes: number } | undefined;
  };
}

export interface BuildStatusOptions {
  hubCache: string;
  torchHome: string;
  mlxDir?: string | undefined;
  entries: readonly SelectedEntry[];
}

/** Total bytes of regular files below `dir` (symlinks not followed, so blobs are not counted twice). */
export async function dirSize(dir: string): Promise<number> {
  let total = 0;
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else if (e.isFile()) total += await fs.lstat(p).then((s) => s.size, () => 0);
  }
  return total;
}

/** The journal beside a `<etag>.<8hex>.incomplete` partial: `<etag>.<8hex>.mlcache-journal`. */
function journalFor(partialPath: string): string | undefined {
  const own = /^(.+)\.([0-9a-f]{8})\.incomplete$/.exec(partialPath);
  return own ? journalPath(own[1]!, own[2]!) : undefined;
}

/** How far partial downloads got: mlcache's journal beside `<etag>.<nonce>.incomplete`, else the allocated bytes. */
export async function partialProgress(partials: readonly ScannedPartialFile[]): Promise<PartialProgress[]> {
  const out: PartialProgress[] = [];
  for (const p of partials) {
    if (p.kind !== 'incomplete' && p.kind !== 'other') continue;
    const base: PartialProgress = { path: p.path, name: p.name, bytesDone: p.allocated, bytesTotal: undefined, bytesAllocated: p.allocated, source: 'allocated', mtimeMs: p.mtimeMs };
    const journalFile = p.kind === 'incomplete' ? journalFor(p.path) : undefined;
    const parsed = journalFile === undefined ? undefined : await readJournalFile(journalFile);
    if (parsed?.ok === true) {
      const done = totalLength(parsed.journal.completed);
      out.push({ ...base, bytesDone: done, bytesTotal: parsed.journal.size, source: 'journal' });
      continue;
    }
    out.push(base);
  }
  return out;
}

function sizeOfFiles(result: OfflineEntryResult): number {
  const distinct = new Map<string, number>();
  for (const f of result.files) distinct.set(f.resolvedPath, f.size);
  return [...distinct.values()].reduce((a, b) => a + b, 0);
}

async function statusRepo(repo: ScannedRepo, inCatalog: boolean): Promise<StatusRepo> {
  return {
    repo: repoLabel(repo.repo),
    folder: repo.folder,
    revisions: repo.revisions.map((r) => ({
      commit: r.commit,
      refs: repo.refs.filter((ref) => ref.raw.trim() === r.commit).map((ref) => ref.name),
      files: r.files.length,
      size: r.size,
      treeCache: r.hasTreeCache,
      brokenFiles: r.files.filter((f) => f.broken).length,
    })),
    sizeOnDisk: repo.sizeOnDisk,
    blobsSize: repo.blobsSize,
    partials: await partialProgress(repo.partialFiles),
    warnings: repo.warnings.map((w) => w.message),
    inCatalog,
  };
}

export async function buildStatus(options: BuildStatusOptions): Promise<StatusReport> {
  let scan: CacheScan | undefined;
  try {
    scan = await scanCache(options.hubCache);
  } catch {
    scan = undefined; // no cache yet: everything is missing
  }
  const catalogFolders = new Set<string>();
  const repoByLabel = new Map((scan?.repos ?? []).map((r) => [repoLabel(r.repo), r]));

  const groups = new Map<string, StatusGroup>();
  let artifactsPresent = 0;
  let artifactsSelected = 0;
  for (const entry of options.entries) {
    const result =
      entry.kind === 'hub' ? await checkHubEntryOffline(options.hubCache, entry) : await checkUrlEntryOffline(options.torchHome, entry);
    const scanned = entry.kind === 'hub' ? repoByLabel.get(result.target) : undefined;
    if (scanned) catalogFolders.add(scanned.folder);
    if (entry.kind === 'url' && entry.skipped === undefined) {
      artifactsSelected++;
      if (result.ok) artifactsPresent++;
    }
    const status: StatusEntry = {
      ...result,
      skipped: entry.skipped,
      sizeOnDisk: sizeOfFiles(result),
      partials: scanned ? await partialProgress(scanned.partialFiles) : [],
    };
    let group = groups.get(entry.group);
    if (!group) {
      group = { name: entry.group, entries: [], complete: true };
      groups.set(entry.group, group);
    }
    group.entries.push(status);
    if (!status.ok && status.skipped === undefined) group.complete = false;
  }

  const repos = await Promise.all((scan?.repos ?? []).map((r) => statusRepo(r, catalogFolders.has(r.folder))));
  const mlxDir = options.mlxDir;
  return {
    hubCache: options.hubCache,
    cacheExists: scan !== undefined,
    groups: [...groups.values()],
    repos,
    totals: {
      hubCache: {
        path: options.hubCache,
        bytes: scan?.sizeOnDisk ?? 0,
        blobsBytes: scan?.blobsSize ?? 0,
        repos: scan?.repos.length ?? 0,
        // Space the partial files and journals take (allocated, not their apparent sizes).
        partialBytes: (scan?.partialFiles ?? []).reduce((a, p) => a + p.allocated, 0),
      },
      torchHome: { path: options.torchHome, bytes: await dirSize(options.torchHome), artifactsPresent, artifactsSelected },
      mlx: mlxDir === undefined ? undefined : { path: mlxDir, bytes: await dirSize(mlxDir) },
    },
  };
}
