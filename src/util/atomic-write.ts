/**
 * The one atomic file write: data goes to a unique temp file on the target's filesystem, then
 * `rename(2)` replaces the target in one step, so a concurrent reader (or another tool) sees
 * either the old file or the new one, never a torn one. On any failure the temp is removed and
 * the target is left exactly as it was. Same pattern as huggingface_hub
 * `_cache_commit_hash_for_specific_revision` (`<name>.<8hex>.tmp` + `os.replace`).
 *
 * Two entry points with the same steps, differing only in what they throw:
 * - `atomicReplaceFile` rethrows the fs error as it came (errno intact) — for callers that decide
 *   themselves (the download journal falls back to an in-place rewrite on a full disk);
 * - `atomicWriteFile` throws an MlcacheError from `fsError` (DISK_FULL / PERMISSION / FILESYSTEM).
 *
 * Not durable across a power loss (no fsync), like huggingface_hub: the cache can be verified and
 * repaired, and an fsync per small file would cost more than it saves.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsError, type FsErrorHints } from './fs-error.js';
import { randomHex8 } from './random-suffix.js';

/** NAME_MAX on Linux, macOS and Windows (bytes of one path component). */
const NAME_MAX = 255;

/**
 * `<dir>/<name>.<8hex>.<suffix>` next to `target` (same folder, so the rename stays on one
 * filesystem). A name already at NAME_MAX leaves no room for the suffix: such temps are named
 * `<dir>/.mlcache-<8hex>.<suffix>` instead (still unique, still beside the target).
 */
export function tempSibling(target: string, suffix = 'tmp'): string {
  const name = `${path.basename(target)}.${randomHex8()}.${suffix}`;
  if (Buffer.byteLength(name) > NAME_MAX) return path.join(path.dirname(target), `.mlcache-${randomHex8()}.${suffix}`);
  return path.join(path.dirname(target), name);
}

export interface AtomicWriteOptions {
  /** File mode of the new file (before umask). @default 0o666 */
  mode?: number | undefined;
  /** Use this temp path instead of `tempSibling(target)` (it must not exist and must be on target's filesystem). */
  tempPath?: string | undefined;
  /**
   * Make the temp yourself: call `write(temp)` (it creates the file with the data, exclusively)
   * and return the path. For temps staged in a folder of their own (cache/repo-temp.ts).
   */
  createTemp?: ((write: (temp: string) => Promise<void>) => Promise<string>) | undefined;
}

/** Write `data` to `target` atomically; on failure remove the temp and rethrow the fs error unchanged. */
export async function atomicReplaceFile(target: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const { mode } = options;
  const write = (temp: string) => fs.writeFile(temp, data, mode === undefined ? { flag: 'wx' } : { flag: 'wx', mode });
  let temp: string | undefined;
  try {
    if (options.createTemp === undefined) {
      temp = options.tempPath ?? tempSibling(target);
      await write(temp);
    } else {
      temp = await options.createTemp(write);
    }
    await fs.rename(temp, target);
  } catch (error) {
    if (temp !== undefined) await fs.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/**
 * Write `data` to `target` atomically; failures are MlcacheErrors (`fsError(error, 'write <target>')`,
 * with `hints` for what to do next).
 */
export async function atomicWriteFile(
  target: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions & { hints?: FsErrorHints | undefined } = {},
): Promise<void> {
  try {
    await atomicReplaceFile(target, data, options);
  } catch (error) {
    throw fsError(error, `write ${target}`, options.hints);
  }
}
