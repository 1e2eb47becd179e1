/**
 * Temp files for the writers of snapshots/, refs/ and trees/ live in the repo folder's private
 * `.mlcache-tmp/`, never next to their destination. Readers list snapshots/ and refs/ recursively
 * (huggingface_hub utils/_cache_manager.py::_scan_cached_repo globs `snapshots/<rev>/**` and
 * `refs/**`; @huggingface/hub lib/cache-management.ts::scanCachedRepo reads both folders), so a
 * `<name>.<8hex>.tmp` left there by a kill counts as a file of the revision, or as a ref. Nothing
 * reads `.mlcache-tmp/`: Python and JS only open blobs/, refs/ and snapshots/ of a repo folder
 * (and Python's incomplete-file glob is `*\/blobs/*.incomplete`), and mlcache's scanCache only
 * those plus trees/. It is in the repo folder, so the rename into place stays on one filesystem,
 * and deleting the repo folder deletes it.
 *
 * Names say who made them: `<host tag>-<pid>-<8hex>.<kind>`. The next run that touches the repo
 * (sweepRepoTemps) removes a temp whose process is dead on this host at once, and any other one
 * that nothing has written to for STALE_TEMP_MS (another host, a reused pid): a live writer's temp
 * exists for a rename's length, or, for a copy, keeps its mtime moving.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isProcessAlive } from './acquire-lock.js';
import { randomHex8 } from '../util/random-suffix.js';
import { makeDirectory } from './make-directory.js';
import type { CacheRepo } from './repo-folder-name.js';
import { repoPaths } from './repo-paths.js';

export type RepoTempKind = 'link' | 'copy' | 'ref' | 'tree' | 'unpack' | 'probe';

/** A temp of another host, or of a live (or reused) pid, is stale after this long untouched. */
export const STALE_TEMP_MS = 10 * 60_000;

const TEMP_NAME = /^([0-9a-f]{8})-([0-9]{1,10})-[0-9a-f]{8}\.(?:link|copy|ref|tree|unpack|probe)$/;

/** 8 hex of sha256(hostname): fixed length and safe in a file name, whatever the host is called. */
export const HOST_TAG = createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8);

/** `<host tag>-<pid>-<8hex>.<kind>`. Pure apart from the random part. */
export function repoTempName(kind: RepoTempKind, pid = process.pid, hostTag = HOST_TAG): string {
  return `${hostTag}-${pid}-${randomHex8()}.${kind}`;
}

export interface StaleTempContext {
  now: number;
  hostTag: string;
  /** This process's pid (its own temps are never judged by pid). */
  pid: number;
  isAlive: (pid: number) => boolean;
}

/**
 * Whether an entry of `.mlcache-tmp/` can be deleted. Everything in that folder is mlcache's; a
 * name it does not recognise is judged by age alone.
 */
export function isStaleRepoTemp(name: string, mtimeMs: number, ctx: StaleTempContext): boolean {
  const match = TEMP_NAME.exec(name);
  if (match !== null && match[1] === ctx.hostTag) {
    const pid = Number(match[2]);
    if (pid !== ctx.pid && !ctx.isAlive(pid)) return true;
  }
  return ctx.now - mtimeMs > STALE_TEMP_MS;
}

/**
 * Create a temp in the repo's `.mlcache-tmp/` with `create(tempPath)` (which must create exactly
 * that path, e.g. symlink, copyFile, open 'wx'), making the folder when it is missing — also when
 * another process's sweep removed it a moment ago. Returns the temp's path; the caller renames it
 * into place or removes it.
 */
export async function createRepoTemp(cacheDir: string, repo: CacheRepo, kind: RepoTempKind, create: (tempPath: string) => Promise<void>): Promise<string> {
  const dir = repoPaths(cacheDir, repo).tempDir;
  const temp = path.join(dir, repoTempName(kind));
  for (let attempt = 0; ; attempt++) {
    try {
      await create(temp);
      return temp;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 2) throw error;
      // A missing source (copyFile of a vanished blob) also says ENOENT: the retry repeats it.
      await makeDirectory(dir);
    }
  }
}

/**
 * Remove the stale temps of a repo's `.mlcache-tmp/` (see isStaleRepoTemp), and the folder itself
 * once it is empty. Returns the paths removed. Best effort: a temp that cannot be removed now is
 * left for the next run or `mlcache prune`.
 */
export async function sweepRepoTemps(
  cacheDir: string,
  repo: CacheRepo,
  options: { now?: number; isAlive?: (pid: number) => boolean } = {},
): Promise<string[]> {
  const dir = repoPaths(cacheDir, repo).tempDir;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const ctx: StaleTempContext = { now: options.now ?? Date.now(), hostTag: HOST_TAG, pid: process.pid, isAlive: options.isAlive ?? isProcessAlive };
  const removed: string[] = [];
  for (const name of names) {
    const temp = path.join(dir, name);
    const st = await fs.lstat(temp).catch(() => undefined);
    if (st === undefined || !isStaleRepoTemp(name, st.mtimeMs, ctx)) continue;
    try {
      await fs.rm(temp, { recursive: true, force: true });
      removed.push(temp);
    } catch {
      // left for later
    }
  }
  await removeRepoTempDirIfEmpty(cacheDir, repo);
  return removed;
}

/** rmdir `.mlcache-tmp/` when empty (a live writer's temp keeps it; createRepoTemp re-creates it). */
export async function removeRepoTempDirIfEmpty(cacheDir: string, repo: CacheRepo): Promise<void> {
  await fs.rmdir(repoPaths(cacheDir, repo).tempDir).catch(() => undefined);
}
