/** Cache root and repo folder creation. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { atomicWriteFile } from './atomic-write.js';
import { makeDirectory } from './make-directory.js';
import type { CacheRepo } from './repo-folder-name.js';
import { repoPaths } from './repo-paths.js';

/**
 * Byte-for-byte the tag huggingface_hub writes (_local_folder.py::CACHEDIR_TAG_CONTENT), so that
 * backup tools skip the cache (https://bford.info/cachedir/). Python writes it only if absent.
 */
export const CACHEDIR_TAG_CONTENT =
  'Signature: 8a477f597d28d172789f06886806bc55\n' +
  '# This file is a cache directory tag created by huggingface_hub.\n' +
  '# For information about cache directory tags, see:\n' +
  '#\thttps://bford.info/cachedir/\n';

/** `mkdir -p <cache>` and write `CACHEDIR.TAG` if absent. */
export async function ensureCacheRoot(cacheDir: string): Promise<void> {
  await makeDirectory(cacheDir, `create the cache folder ${cacheDir}`);
  const tag = path.join(cacheDir, 'CACHEDIR.TAG');
  try {
    await fs.lstat(tag);
    return;
  } catch {
    // absent: write it below
  }
  try {
    await atomicWriteFile(tag, CACHEDIR_TAG_CONTENT);
  } catch {
    // Like huggingface_hub _create_cachedir_tag: the tag is a courtesy to backup tools, and a
    // read-only cache root must still be usable for reading.
  }
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
  const repoDirExisted = await fs.lstat(p.repoDir).then(() => true, () => false);
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
