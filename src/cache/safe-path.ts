/**
 * Untrusted names from the Hub (file paths in a tree listing, revision names) turned into path
 * segments, or refused. Mirrors huggingface_hub _local_folder.py::_validate_relative_filename
 * (no `..` segment; not absolute, drive-relative or UNC under POSIX *or* Windows rules, so a
 * cache written on Linux cannot escape when read on Windows) and goes further: no backslashes at
 * all, no `.` or empty segments, no control characters.
 */
import { isCommitHash } from '../util/commit-hash.js';
import { cutValue } from '../util/cut-value.js';
import { MlcacheError } from '../errors.js';

export const UNSAFE_FILE_HINT = 'The repository lists a file name that is unsafe to write to disk; ask the repository owner to rename it.';

function unsafe(kind: string, value: string, reason: string, hint: string): MlcacheError {
  // A revision is typed by the user: echoed cut to a readable length (Hub file names are kept whole).
  const shown = kind === 'revision' ? cutValue(value) : value;
  return new MlcacheError('UNSAFE_PATH', `Refusing ${kind} ${JSON.stringify(shown)}: ${reason}.`, {
    hint,
    details: { [kind === 'revision' ? 'revision' : 'path']: value, reason },
  });
}

/** NAME_MAX of ext4, xfs, btrfs, APFS and NTFS (255 UTF-16 units there; bytes are the stricter bound). */
export const MAX_SEGMENT_BYTES = 255;
/**
 * Linux PATH_MAX is 4096 bytes for the whole path, cache folder and `snapshots/<commit>/`
 * included; 3072 leaves 1 KiB for those. Longer names could not be written anyway: refusing them
 * while planning means nothing is downloaded for a snapshot that cannot be built.
 */
export const MAX_PATH_BYTES = 3072;

/** Why `value` is not a safe relative POSIX path, or undefined when it is. */
export function unsafePathReason(value: string): string | undefined {
  if (value === '') return 'it is empty';
  if (Buffer.byteLength(value) > MAX_PATH_BYTES) return `it is longer than ${MAX_PATH_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'it contains a NUL or other control character';
  if (value.includes('\\')) return 'it contains a backslash (a path separator on Windows)';
  if (value.startsWith('/')) return 'it is an absolute path';
  if (value.endsWith('/')) return 'it ends with "/" (a directory, not a file)';
  for (const segment of value.split('/')) {
    if (segment === '') return 'it has an empty path segment ("//")';
    if (segment === '..') return 'it has a ".." segment that would leave the target folder';
    if (segment === '.') return 'it has a "." segment';
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return `it has a name longer than ${MAX_SEGMENT_BYTES} bytes, the limit of common filesystems`;
    // PureWindowsPath(segment).drive would be set: `C:`, `C:x` (drive-relative).
    if (/^[A-Za-z]:/.test(segment)) return 'it has a Windows drive prefix such as "C:"';
  }
  return undefined;
}

/** Segments of a repo file path (`a/b/c.bin` → `["a","b","c.bin"]`), or UNSAFE_PATH. */
export function validateRepoFilePath(path: string): string[] {
  const reason = unsafePathReason(path);
  if (reason !== undefined) throw unsafe('file path', path, reason, UNSAFE_FILE_HINT);
  return path.split('/');
}

/**
 * Segments of a revision name used as `refs/<revision>` (`refs/pr/1` → nested folders), or
 * UNSAFE_PATH. The same rules as file paths: Python and JS use the raw revision as a path.
 */
export function validateRevisionName(revision: string): string[] {
  const reason = unsafePathReason(revision);
  if (reason !== undefined) {
    throw unsafe('revision', revision, reason, 'Pass a branch, tag or commit name such as `main`, `v1.0` or `refs/pr/1`.');
  }
  return revision.split('/');
}

const ETAG = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export { isCommitHash };

/** A blob name: git sha1 (40 hex) or sha256 (64 hex), lower case (huggingface_hub _normalize_etag output). */
export function isBlobName(value: string): boolean {
  return ETAG.test(value);
}

export function verifyCommitHash(commit: string): void {
  if (!isCommitHash(commit)) {
    throw new MlcacheError('UNSAFE_PATH', `Refusing snapshot name ${JSON.stringify(commit)}: not a 40-hex commit hash.`, {
      hint: 'Resolve the revision to its commit first; snapshots are always named by commit.',
    });
  }
}

export function verifyEtag(etag: string): void {
  if (!isBlobName(etag)) {
    throw new MlcacheError('UNSAFE_PATH', `Refusing blob name ${JSON.stringify(etag)}: not 40 or 64 lower-case hex characters.`, {
      hint: 'Blob names are the git sha1 (regular files) or the sha256 (LFS/Xet files) from the tree listing.',
    });
  }
}
