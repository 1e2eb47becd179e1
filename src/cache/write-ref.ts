/**
 * `refs/<revision>` files: the 40-hex commit, NO trailing newline. Every reader in huggingface_hub
 * (try_to_load_from_cache, snapshot_download, scan_cache_dir) uses f.read() without strip, so a
 * newline would break lookups.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { atomicWriteFile } from '../util/atomic-write.js';
import { fsError } from '../util/fs-error.js';
import { makeDirectory } from './make-directory.js';
import type { CacheRepo } from './repo-folder-name.js';
import { refPath } from './repo-paths.js';
import { createRepoTemp } from './repo-temp.js';
import { verifyCommitHash } from './safe-path.js';

/**
 * Point `revision` at `commit`. Returns true when the file was (re)written. Like huggingface_hub
 * file_download.py::_cache_commit_hash_for_specific_revision: nothing is written when the
 * revision is the commit itself or the content is already right (a read-only cache is fine then),
 * and the write is atomic (a temp in the repo's `.mlcache-tmp/` + rename; huggingface_hub puts its
 * `<name>.<8hex>.tmp` in refs/ itself, where a kill leaves it to be read as a ref).
 */
export async function writeRef(cacheDir: string, repo: CacheRepo, revision: string, commit: string): Promise<boolean> {
  verifyCommitHash(commit);
  const file = refPath(cacheDir, repo, revision);
  if (revision === commit) return false;
  if ((await readRef(cacheDir, repo, revision)) === commit) return false;
  await makeDirectory(path.dirname(file));
  // The temp goes to .mlcache-tmp/, not refs/: readers take every file under refs/ for a ref.
  await atomicWriteFile(file, commit, { createTemp: (write) => createRepoTemp(cacheDir, repo, 'ref', write) });
  return true;
}

/**
 * Raw content of `refs/<revision>`, or undefined when there is no such ref. Not trimmed: a
 * trailing newline (written by hand or by some other tool) is reported as it is.
 */
export async function readRef(cacheDir: string, repo: CacheRepo, revision: string): Promise<string | undefined> {
  const file = refPath(cacheDir, repo, revision);
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw fsError(error, `read ${file}`);
  }
}
