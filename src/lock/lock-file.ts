/**
 * Where mlcache.lock lives, reading it (validated, typed errors) and writing it (atomically, only
 * when its bytes change). The thin I/O edge around lock-core.ts.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { shippedCatalogPath } from '../catalog/index.js';
import { MlcacheError } from '../errors.js';
import { atomicWriteFile } from '../util/atomic-write.js';
import { findProjectRoot } from '../util/project-root.js';
import { formatIssuePath } from '../util/format-issue-path.js';
import { findJsonErrorPosition, lineColumn } from '../util/json-error-position.js';
import { serializeLock } from './lock-core.js';
import { LOCKFILE_VERSION, LockfileSchema, type Lockfile } from './lockfile-schema.js';

export const LOCKFILE_NAME = 'mlcache.lock';

export interface LockfileLocation {
  /** Resolves relative paths and finds the project catalog. */
  cwd: string;
  /** --lockfile PATH: wins over everything. */
  lockfile?: string | undefined;
  /** --catalog FILE, else MLCACHE_CATALOG. */
  catalogPath?: string | undefined;
  /** Override of the shipped catalog (tests), so the project search skips mlcache's own folder. */
  shippedPath?: string | undefined;
}

/**
 * `--lockfile PATH`; else `config/mlcache.lock` of the nearest project (util/project-root.ts) (beside its config/models.json, as
 * package-lock.json sits beside package.json); else beside the user catalog (--catalog /
 * MLCACHE_CATALOG); else ./mlcache.lock.
 */
export function lockfilePath(where: LockfileLocation): string {
  if (where.lockfile !== undefined) return path.resolve(where.cwd, where.lockfile);
  const config = findProjectRoot(where.cwd, { ownRoot: path.dirname(path.dirname(where.shippedPath ?? shippedCatalogPath())) })?.configDir;
  if (config !== undefined) return path.join(config, LOCKFILE_NAME);
  if (where.catalogPath !== undefined) return path.join(path.dirname(path.resolve(where.cwd, where.catalogPath)), LOCKFILE_NAME);
  return path.resolve(where.cwd, LOCKFILE_NAME);
}

/** The lock's text, or undefined when there is no file. */
export async function readLockText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new MlcacheError('FILESYSTEM', `Cannot read ${file} (${code ?? 'error'}).`, { hint: 'Check the file permissions.', cause: error, details: { file } });
  }
}

export function parseLockText(text: string, file: string): Lockfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const where = findJsonErrorPosition(text) ?? lineColumn(text, text.length);
    throw new MlcacheError('LOCK_INVALID', `${file}:${where.line}:${where.column}: the lock file is not valid JSON.`, {
      hint: 'Restore it from version control, or delete it and run `mlcache lock`.',
      cause: error,
      details: { file, line: where.line, column: where.column },
    });
  }
  const version = (raw as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > LOCKFILE_VERSION) {
    throw new MlcacheError('LOCK_INVALID', `${file} is lock format ${version}, written by a newer mlcache; this one reads format ${LOCKFILE_VERSION}.`, {
      hint: 'Upgrade mlcache to the version that wrote the lock (the project’s CI pins it).',
      details: { file, version },
    });
  }
  const parsed = LockfileSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const detail = first ? `${formatIssuePath(first.path)}: ${first.message}` : 'invalid';
    throw new MlcacheError('LOCK_INVALID', `${file}: ${detail}.`, {
      hint: 'Restore it from version control, or delete it and run `mlcache lock`.',
      details: { file, issues: parsed.error.issues.map((i) => ({ path: formatIssuePath(i.path), message: i.message })) },
    });
  }
  return parsed.data;
}

/** Read and validate the lock; LOCK_NOT_FOUND when there is none. */
export async function readLockfile(file: string): Promise<Lockfile> {
  const text = await readLockText(file);
  if (text === undefined) {
    throw new MlcacheError('LOCK_NOT_FOUND', `No lock file at ${file}.`, {
      hint: 'Run `mlcache lock` (with the same selection flags) and commit mlcache.lock, or pass --lockfile PATH.',
      details: { file },
    });
  }
  return parseLockText(text, file);
}

/** Write the lock when its bytes differ from the file's (atomically: temp file, then rename). Returns whether it wrote. */
export async function writeLockfile(file: string, lock: Lockfile): Promise<boolean> {
  const text = serializeLock(lock);
  if ((await readLockText(file)) === text) return false;
  const writable = 'Check that the folder exists and is writable, or pass --lockfile PATH.';
  await atomicWriteFile(file, text, { hints: { diskFull: 'Free some space and run `mlcache lock` again.', permission: writable, other: writable, details: { file } } });
  return true;
}
