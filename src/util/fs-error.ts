/**
 * The one mapping from a filesystem errno to an MlcacheError a person can act on. Every writer
 * (cache, lock file, hardware_cache.json, --local-dir, bundles) goes through it, so the same errno
 * always gets the same code and exit code:
 *
 * | errno                   | code        | message                                 |
 * | ----------------------- | ----------- | --------------------------------------- |
 * | ENOSPC, EDQUOT          | DISK_FULL   | `No space left to <action>.`            |
 * | EACCES, EPERM, EROFS    | PERMISSION  | `Permission denied to <action> (<errno>).` |
 * | anything else / none    | FILESYSTEM  | `Could not <action> (<errno>).`         |
 *
 * An MlcacheError passes through unchanged. Callers may give their own hint per class (what to
 * do next differs between the cache and, say, --local-dir); the class itself never changes.
 */
import { MlcacheError } from '../errors.js';

export interface FsErrorHints {
  /** Hint for DISK_FULL. @default free space or point HF_HUB_CACHE at a larger disk */
  diskFull?: string | undefined;
  /** Hint for PERMISSION. @default check the cache folder's ownership and permissions */
  permission?: string | undefined;
  /** Hint for FILESYSTEM. @default check that the cache folder exists and works */
  other?: string | undefined;
  /** Structured details for --json output. */
  details?: Record<string, unknown> | undefined;
}

const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);
const PERMISSION_CODES = new Set(['EACCES', 'EPERM', 'EROFS']);

/** The errno of a Node fs error (`ENOSPC` …), undefined for anything else. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether `error` is a full disk (bytes: ENOSPC, quota: EDQUOT). */
export function isDiskFull(error: unknown): boolean {
  const code = errnoCode(error);
  return code !== undefined && DISK_FULL_CODES.has(code);
}

/** Wrap an fs error into an MlcacheError describing `action` (e.g. `write /x/refs/main`). */
export function fsError(error: unknown, action: string, hints: FsErrorHints = {}): MlcacheError {
  if (error instanceof MlcacheError) return error;
  const code = errnoCode(error);
  const details = hints.details;
  if (code !== undefined && DISK_FULL_CODES.has(code)) {
    return new MlcacheError('DISK_FULL', `No space left to ${action}.`, {
      cause: error,
      ...(details ? { details } : {}),
      hint: hints.diskFull ?? 'Free disk space (or point HF_HUB_CACHE at a larger disk), then run the same command again: what is finished is kept.',
    });
  }
  if (code !== undefined && PERMISSION_CODES.has(code)) {
    return new MlcacheError('PERMISSION', `Permission denied to ${action} (${code}).`, {
      cause: error,
      ...(details ? { details } : {}),
      hint: hints.permission ?? 'Check the ownership and permissions of the cache folder, or use a cache you can write (HF_HUB_CACHE).',
    });
  }
  return new MlcacheError('FILESYSTEM', `Could not ${action}${code ? ` (${code})` : ''}.`, {
    cause: error,
    ...(details ? { details } : {}),
    hint: hints.other ?? 'Check that the cache folder exists and is on a working filesystem.',
  });
}
