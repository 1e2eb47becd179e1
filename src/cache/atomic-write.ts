/**
 * Small atomic-write helpers. Every writer in src/cache goes through a unique temp name + rename,
 * so a concurrent reader (or another tool) sees either the old file or the new one, never a torn
 * one. Same pattern as huggingface_hub _cache_commit_hash_for_specific_revision
 * (`<name>.<8hex>.tmp` + os.replace). The writers of refs/, snapshots/ and trees/ stage their temp
 * in the repo's `.mlcache-tmp/` instead of next to the destination (repo-temp.ts), because readers
 * list those folders.
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import fs from 'node:fs/promises';
import path from 'node:path';
import { MlcacheError } from '../errors.js';

/** 8 lower-case hex characters (uuid4().hex[:8] in huggingface_hub). */
export function randomHex8(): string {
  return randomBytes(4).toString('hex');
}

/** `<dir>/<name>.<8hex>.tmp` next to `target`. */
export function tempSibling(target: string, suffix = 'tmp'): string {
  const name = `${path.basename(target)}.${randomHex8()}.${suffix}`;
  // A 255-byte file name (NAME_MAX, allowed by safe-path.ts) leaves no room for the suffix: such
  // temps get a short name of their own (still unique, still in the same folder for the rename).
  if (Buffer.byteLength(name) > 255) return path.join(path.dirname(target), `.mlcache-${randomHex8()}.${suffix}`);
  return path.join(path.dirname(target), name);
}

/**
 * Write `data` to `target` via a temp file + rename: a sibling temp (tempSibling), or the one
 * `createTemp` makes (it must create the file with `data`, exclusively, and return its path; it
 * must be on target's filesystem).
 */
export async function atomicWriteFile(
  target: string,
  data: string | Uint8Array,
  mode?: number,
  createTemp?: (write: (temp: string) => Promise<void>) => Promise<string>,
): Promise<void> {
  const write = (temp: string) => writeFile(temp, data, mode === undefined ? { flag: 'wx' } : { flag: 'wx', mode });
  let temp: string | undefined;
  try {
    if (createTemp === undefined) {
      temp = tempSibling(target);
      await write(temp);
    } else {
      temp = await createTemp(write);
    }
    await fs.rename(temp, target);
  } catch (error) {
    if (temp !== undefined) await rm(temp, { force: true }).catch(() => undefined);
    throw fsError(error, `write ${target}`);
  }
}

/** Wrap an fs error into an MlcacheError with a code a person can act on. */
export function fsError(error: unknown, action: string): MlcacheError {
  if (error instanceof MlcacheError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new MlcacheError('DISK_FULL', `No space left to ${action}.`, {
      cause: error,
      hint: 'Free disk space (or point HF_HUB_CACHE at a larger disk), then run the same command again: what is finished is kept.',
    });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new MlcacheError('PERMISSION', `Permission denied to ${action} (${code}).`, {
      cause: error,
      hint: 'Check the ownership and permissions of the cache folder, or use a cache you can write (HF_HUB_CACHE).',
    });
  }
  return new MlcacheError('FILESYSTEM', `Could not ${action}${code ? ` (${code})` : ''}.`, {
    cause: error,
    hint: 'Check that the cache folder exists and is on a working filesystem.',
  });
}
