/**
 * The shapes a cache scan returns (scan-cache.ts): the repos, their refs, revisions, snapshot
 * files, blobs and partial files, and the warnings, each named after the condition huggingface_hub
 * utils/_cache_manager.py::scan_cache_dir flags (CorruptedCacheException) where it has one.
 */
import type { CacheRepo } from './repo-folder-name.js';

export type CacheWarningCode =
  | 'NOT_A_DIRECTORY'
  | 'NOT_A_REPO_FOLDER'
  | 'UNKNOWN_REPO_TYPE'
  | 'SNAPSHOTS_MISSING'
  | 'REFS_MISSING'
  | 'REFS_IS_FILE'
  | 'FILE_IN_SNAPSHOTS'
  | 'BROKEN_LINK'
  | 'REF_TRAILING_NEWLINE'
  | 'REF_TO_MISSING_COMMIT'
  | 'UNREADABLE';

export interface CacheWarning {
  code: CacheWarningCode;
  /** One sentence naming the path and why it matters. */
  message: string;
  path: string;
  /** Repo folder name, when the warning is about a repo. */
  folder?: string | undefined;
  /** True for the conditions where huggingface_hub's scan_cache_dir drops the whole repo. */
  pythonDropsRepo: boolean;
}

export interface ScannedRef {
  /** `main`, `refs/pr/1` (POSIX separators). */
  name: string;
  /** File content exactly as read: no trim. */
  raw: string;
  /** The commit when `raw` is exactly 40 hex (what every HF reader requires). */
  commit: string | undefined;
  trailingNewline: boolean;
}

export interface ScannedFile {
  /** Path inside the snapshot, `/`-separated. */
  path: string;
  fullPath: string;
  kind: 'symlink' | 'copy';
  /** readlink() output for symlinks, as written. */
  linkTarget: string | undefined;
  /** Absolute path of the file the pointer resolves to (the pointer itself for copies). */
  resolvedPath: string | undefined;
  /** Blob name when the link lands in this repo's blobs/. */
  blobName: string | undefined;
  /** Size of the resolved file; undefined when broken. */
  size: number | undefined;
  broken: boolean;
}

export interface ScannedRevision {
  commit: string;
  path: string;
  /** Ref names pointing here. */
  refs: string[];
  files: ScannedFile[];
  /** Bytes of the distinct files this revision resolves to. */
  size: number;
  /** trees/<commit>.json exists (huggingface_hub ≥ 1.22 then checks offline completeness). */
  hasTreeCache: boolean;
}

export interface ScannedBlob {
  name: string;
  path: string;
  size: number;
  /** Hard-link count; >1 means another folder shares the bytes. */
  nlink: number;
  mtimeMs: number;
  /** Some snapshot file resolves to it. */
  referenced: boolean;
}

export interface ScannedPartialFile {
  name: string;
  path: string;
  /**
   * incomplete: `*.incomplete` (any tool); journal: `*.mlcache-journal`; other: anything else in
   * blobs/ that is not a blob; temp: an entry of the repo's private `.mlcache-tmp/` (a link, copy,
   * ref or trees file staged by a writer, left by a killed run).
   */
  kind: 'incomplete' | 'journal' | 'other' | 'temp';
  /** Apparent size (st_size): a preallocated partial is as long as the whole file. */
  size: number;
  /** Bytes really allocated on disk (st_blocks × 512): what deleting it frees. */
  allocated: number;
  mtimeMs: number;
}

export interface ScannedRepo {
  repo: CacheRepo;
  folder: string;
  path: string;
  refs: ScannedRef[];
  revisions: ScannedRevision[];
  blobs: ScannedBlob[];
  partialFiles: ScannedPartialFile[];
  /** Distinct files reached from snapshots (what huggingface_hub and @huggingface/hub report). */
  sizeOnDisk: number;
  /** Every valid blob in blobs/, each counted once, referenced or not. */
  blobsSize: number;
  warnings: CacheWarning[];
}

export interface CacheScan {
  cacheDir: string;
  repos: ScannedRepo[];
  /** Sum of the repos' sizeOnDisk. */
  sizeOnDisk: number;
  /** Sum of the repos' blobsSize. */
  blobsSize: number;
  /** Every repo's partial files, for `prune`-style listings. */
  partialFiles: ScannedPartialFile[];
  /** All warnings, the repos' included. */
  warnings: CacheWarning[];
}
