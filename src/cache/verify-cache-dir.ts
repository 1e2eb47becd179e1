/**
 * The hub cache path must be a directory (or not exist yet, for the commands that create it).
 * A regular file there (`--cache-dir ~/.bashrc`, `HF_HUB_CACHE` pointing at a file) is a mistake in
 * the setting, not an empty cache: every command that takes a cache refuses it up front with one
 * sentence naming the setting, instead of reporting "nothing cached" or failing half-way with
 * ENOTDIR. huggingface_hub's scan_cache_dir raises CacheNotFound ("is a file") the same way.
 */
import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { MlcacheError } from '../errors.js';

export type CacheDirState =
  | { kind: 'directory' }
  | { kind: 'missing' }
  /** `at` is the path itself, or the ancestor that is not a directory. */
  | { kind: 'not-a-directory'; at: string; what: string };

function describe(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a directory';
}

/** What sits at `dir` (symlinks followed); a missing path whose ancestor is a file counts as not-a-directory. */
export async function inspectCacheDir(dir: string): Promise<CacheDirState> {
  let current = path.resolve(dir);
  for (;;) {
    const st = await fs.stat(current).catch((error: NodeJS.ErrnoException) => error);
    if (!(st instanceof Error)) {
      if (st.isDirectory()) return current === path.resolve(dir) ? { kind: 'directory' } : { kind: 'missing' };
      return { kind: 'not-a-directory', at: current, what: describe(st) };
    }
    if (st.code !== 'ENOENT' && st.code !== 'ENOTDIR') return { kind: 'missing' }; // EACCES etc.: the command's own I/O reports it
    const parent = path.dirname(current);
    if (parent === current) return { kind: 'missing' };
    current = parent;
  }
}

/**
 * Throw USAGE when the cache path (or one of its ancestors) exists and is not a directory.
 * `source` names where the path came from (`--cache-dir`, `HF_HUB_CACHE`, …).
 */
export async function verifyCacheDir(dir: string, source: string): Promise<CacheDirState> {
  const state = await inspectCacheDir(dir);
  if (state.kind === 'not-a-directory') {
    const where = state.at === path.resolve(dir) ? `is ${state.what}` : `is below ${state.at}, which is ${state.what}`;
    throw new MlcacheError('USAGE', `The hub cache ${path.resolve(dir)} (from ${source}) ${where}, not a directory.`, {
      hint: `Point ${source === 'default' ? 'HF_HUB_CACHE or --cache-dir' : source} at a directory (it is created when missing).`,
      details: { cacheDir: path.resolve(dir), source, at: state.at },
    });
  }
  return state;
}
