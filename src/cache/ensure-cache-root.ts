/** Cache root and repo folder creation. */
import fs from 'node:fs/promises';
import { pathExists } from '../util/path-exists.js';
import { makeDirectory } from './make-directory.js';
import type { CacheRepo } from './repo-folder-name.js';
import { repoPaths } from './repo-paths.js';

/**
 * `mkdir -p <cache>`. No `CACHEDIR.TAG`: huggingface_hub ≥ 1.9 writes one on its first download,
 * but the 0.x line (what transformers 4.x pins) scans it as a repo folder and warns "Repo path is
 * not a directory" in `scan_cache_dir` / `huggingface-cli scan-cache`. A tag another tool wrote
 * is left alone, and our scanner skips it (docs/decisions.md).
 */
export async function ensureCacheRoot(cacheDir: string): Promise<void> {
  await makeDirectory(cacheDir, `create the cache folder ${cacheDir}`);
}

/**
 * `blobs/`, `snapshots/` and `refs/`. refs/ is created even when no ref will be written:
 * @huggingface/hub's scanCachedRepo stat()s it and reports the repo as a warning without it.
 *
 * A repo folder without snapshots/ or refs/ makes huggingface_hub's scan_cache_dir
 * (CorruptedCacheException) and @huggingface/hub's scanCacheDir report the repo as corrupted, so
 * when one of them cannot be created (a full disk: no inode left) a repo folder made by this call
 * is removed again, as long as it is still empty.
 */
export async function ensureRepoDirs(cacheDir: string, repo: CacheRepo): Promise<void> {
  const p = repoPaths(cacheDir, repo);
  const repoDirExisted = await pathExists(p.repoDir);
  const made: string[] = [];
  try {
    for (const dir of [p.snapshotsDir, p.refsDir, p.blobsDir]) {
      if ((await makeDirectory(dir, `create ${dir}`)) !== undefined) made.push(dir);
    }
  } catch (error) {
    if (!repoDirExisted) {
      // rmdir, not rm -r: only empty folders go, whatever another process put there stays.
      for (const dir of [...made.reverse(), p.repoDir]) await fs.rmdir(dir).catch(() => undefined);
    }
    throw error;
  }
}
