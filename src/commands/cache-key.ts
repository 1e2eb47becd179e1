/**
 * `mlcache cache-key`: a short, stable key for actions/cache or GitLab's cache, from the lock's
 * content, the selection and the platform (`mlcache-<os>-<arch>-<hash>`), and with `--paths` the
 * folders to cache. Reads mlcache.lock only: no catalog, no network.
 */
import { cacheKey, lockfilePath, normalizeSelection, readLockfile, selectsAnything } from '../lock/index.js';
import type { CatalogSelectionOptions, LockfileOptions } from './run-options.js';

/** The selection is the run's (as cache-models --frozen gets it); none: the lock's own. */
export interface CacheKeyOptions extends CatalogSelectionOptions, LockfileOptions {
  force?: boolean | undefined;
}

export interface CacheKeyResult {
  key: string;
  lockfile: string;
  /** The folders a CI cache should hold: the HF hub cache, TORCH_HOME, and MLX_CACHE_DIR when set. */
  paths: string[];
}

export async function cacheKeyFor(options: CacheKeyOptions): Promise<CacheKeyResult> {
  const { settings } = options;
  const file = lockfilePath({ cwd: settings.cwd, lockfile: options.lockfile, catalogPath: options.catalogPath ?? settings.catalogPath });
  const lock = await readLockfile(file);
  const selection = selectsAnything(options) ? normalizeSelection(options) : lock.selection;
  const platform = options.platform ?? { os: process.platform, arch: process.arch };
  const paths = [settings.hubCache, settings.torchHome, ...(settings.mlxCacheDir !== undefined ? [settings.mlxCacheDir] : [])];
  return { key: cacheKey(lock, selection, platform), lockfile: file, paths: [...new Set(paths)] };
}
