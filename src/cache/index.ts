/** The HF hub cache layout: paths, safe names, atomic writers, locks and a scanner. Knows nothing of HTTP. */
export { REPO_ID_SEPARATOR, parseRepoFolderName, repoFolderName, verifyRepoId } from './repo-folder-name.js';
export type { CacheRepo, CacheRepoType } from './repo-folder-name.js';
export {
  isBlobName,
  isCommitHash,
  unsafePathReason,
  validateRepoFilePath,
  validateRevisionName,
  verifyCommitHash,
  verifyEtag,
} from './safe-path.js';
export { REPO_TEMP_FOLDER, blobPath, lockPath, refPath, relativeBlobTarget, repoPaths, snapshotDir, snapshotFilePath, treeCachePath } from './repo-paths.js';
export type { RepoPaths } from './repo-paths.js';
// Kept for importers of the barrel; the one copy lives in src/util (atomic-write, fs-error, random-suffix).
export { atomicWriteFile, tempSibling } from '../util/atomic-write.js';
export { fsError } from '../util/fs-error.js';
export { randomHex8 } from '../util/random-suffix.js';
export { makeDirectory } from './make-directory.js';
export { HOST_TAG, STALE_TEMP_MS, createRepoTemp, isStaleRepoTemp, removeRepoTempDirIfEmpty, repoTempName, sweepRepoTemps } from './repo-temp.js';
export type { RepoTempKind, StaleTempContext } from './repo-temp.js';
export { ensureCacheRoot, ensureRepoDirs } from './ensure-cache-root.js';
export { readRef, writeRef } from './write-ref.js';
export { linkSnapshotFile, symlinksSupported } from './link-snapshot-file.js';
export type { LinkSnapshotFileOptions, LinkSnapshotFileResult } from './link-snapshot-file.js';
export { commitBlob } from './commit-blob.js';
export type { CommitBlobResult } from './commit-blob.js';
export { TREE_CACHE_FORMAT_VERSION, compareCodePoints, parseTreeCache, readTreeCache, serializeTreeCache, treeCacheText, writeTreeCache } from './tree-cache.js';
export type { TreeCacheFile } from './tree-cache.js';
export { acquireLock, isProcessAlive, parseHolder } from './acquire-lock.js';
export type { AcquireLockOptions, LockHandle, LockHolder } from './acquire-lock.js';
export { scanCache } from './scan-cache.js';
export type {
  CacheScan,
  CacheWarning,
  CacheWarningCode,
  ScannedBlob,
  ScannedFile,
  ScannedPartialFile,
  ScannedRef,
  ScannedRevision,
  ScannedRepo,
} from './scan-types.js';
