/** mlcache.lock: schema, canonical bytes, comparison with the catalog, cache key, reading and writing. */
export {
  LOCKFILE_VERSION,
  LockfileSchema,
  lockfileJsonSchema,
  type LockSelection,
  type LockedEntry,
  type LockedFile,
  type LockedHubEntry,
  type LockedUrlEntry,
  type Lockfile,
} from './lockfile-schema.js';
export {
  cacheKey,
  changedFields,
  compareText,
  compareWithLock,
  describeComparison,
  diffFiles,
  entryKey,
  hubRequest,
  isInSync,
  lockedAsSelected,
  normalizeSelection,
  selectsAnything,
  serializeLock,
  sortEntries,
  urlLockEntry,
  type FileChanges,
  type LockComparison,
} from './lock-core.js';
export { LOCKFILE_NAME, lockfilePath, parseLockText, readLockText, readLockfile, writeLockfile, type LockfileLocation } from './lock-file.js';
