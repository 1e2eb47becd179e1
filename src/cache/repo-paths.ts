/**
 * Where things live in the HF hub cache (huggingface_hub docs "Manage the cache" and
 * file_download.py; @huggingface/hub lib/cache-management.ts). Pure: no I/O.
 */
import path from 'node:path';
import { MlcacheError } from '../errors.js';
import { repoFolderName, type CacheRepo } from './repo-folder-name.js';
import { validateRepoFilePath, validateRevisionName, UNSAFE_FILE_HINT, verifyCommitHash, verifyEtag } from './safe-path.js';

/** Name of the private temp folder in a repo folder (see RepoPaths.tempDir). */
export const REPO_TEMP_FOLDER = '.mlcache-tmp';

export interface RepoPaths {
  /** `<cache>/models--org--name` */
  repoDir: string;
  blobsDir: string;
  snapshotsDir: string;
  refsDir: string;
  /** `trees/<commit>.json` listings (huggingface_hub ≥ 1.22 _tree_cache.py). */
  treesDir: string;
  /** `.no_exist/<commit>/<path>` markers written by huggingface_hub (never by mlcache). */
  noExistDir: string;
  /** `<cache>/.locks/models--org--name` */
  locksDir: string;
  /**
   * `.mlcache-tmp/`: mlcache's private temp folder inside the repo folder, where snapshot links,
   * copies, refs and trees are staged before their rename (repo-temp.ts). No reader lists it.
   */
  tempDir: string;
}

export function repoPaths(cacheDir: string, repo: CacheRepo): RepoPaths {
  const folder = repoFolderName(repo);
  const repoDir = path.join(cacheDir, folder);
  return {
    repoDir,
    blobsDir: path.join(repoDir, 'blobs'),
    snapshotsDir: path.join(repoDir, 'snapshots'),
    refsDir: path.join(repoDir, 'refs'),
    treesDir: path.join(repoDir, 'trees'),
    noExistDir: path.join(repoDir, '.no_exist'),
    locksDir: path.join(cacheDir, '.locks', folder),
    tempDir: path.join(repoDir, REPO_TEMP_FOLDER),
  };
}

/** `blobs/<etag>`; etag must be 40 or 64 lower-case hex. */
export function blobPath(cacheDir: string, repo: CacheRepo, etag: string): string {
  verifyEtag(etag);
  return path.join(repoPaths(cacheDir, repo).blobsDir, etag);
}

/** `.locks/<repo folder>/<etag>.lock`, the same file huggingface_hub's WeakFileLock uses. */
export function lockPath(cacheDir: string, repo: CacheRepo, etag: string): string {
  verifyEtag(etag);
  return path.join(repoPaths(cacheDir, repo).locksDir, `${etag}.lock`);
}

/** `refs/<revision>`, nested for `refs/pr/1` → `refs/refs/pr/1` (huggingface_hub _scan_cached_repo comment). */
export function refPath(cacheDir: string, repo: CacheRepo, revision: string): string {
  const segments = validateRevisionName(revision);
  return path.join(repoPaths(cacheDir, repo).refsDir, ...segments);
}

/** `trees/<commit>.json` */
export function treeCachePath(cacheDir: string, repo: CacheRepo, commit: string): string {
  verifyCommitHash(commit);
  return path.join(repoPaths(cacheDir, repo).treesDir, `${commit}.json`);
}

/** `snapshots/<commit>` */
export function snapshotDir(cacheDir: string, repo: CacheRepo, commit: string): string {
  verifyCommitHash(commit);
  return path.join(repoPaths(cacheDir, repo).snapshotsDir, commit);
}

/**
 * `snapshots/<commit>/<path>`. The path is validated segment by segment, then the joined result
 * is checked again with path.relative (defense in depth, like huggingface_hub
 * file_download.py::_get_pointer_path which checks the pointer stays under snapshots/).
 */
export function snapshotFilePath(cacheDir: string, repo: CacheRepo, commit: string, filePath: string): string {
  const segments = validateRepoFilePath(filePath);
  const base = path.resolve(snapshotDir(cacheDir, repo, commit));
  const target = path.resolve(base, ...segments);
  const rel = path.relative(base, target);
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    throw new MlcacheError('UNSAFE_PATH', `Refusing file path ${JSON.stringify(filePath)}: it resolves outside snapshots/${commit}/.`, {
      hint: UNSAFE_FILE_HINT,
      details: { path: filePath },
    });
  }
  return path.join(snapshotDir(cacheDir, repo, commit), ...segments);
}

/** The symlink target huggingface_hub writes: `os.path.relpath(blob, dirname(pointer))`. */
export function relativeBlobTarget(pointerPath: string, blobFile: string): string {
  return path.relative(path.dirname(pointerPath), blobFile);
}
