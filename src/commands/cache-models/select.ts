/**
 * Selection for a `cache-models` run: the merged catalog (shipped ← project ← --catalog), the
 * lock when --frozen / --locked (which must agree with the catalog before anything is planned,
 * and whose recorded selection then applies), and the entries the flags select
 * (catalog/select-entries.ts), each Hub entry's `local_dir` resolved to an absolute folder
 * (catalog/local-dir.ts: against the project root, else the working folder; never inside the hub
 * cache — a bad value anywhere in the catalog is CATALOG_INVALID before anything is planned).
 */
import { loadCatalog, resolveLocalDir, resolveLocalDirs, selectEntries, type Catalog, type LocalDirBase, type Selection } from '../../catalog/index.js';
import { findProjectRoot } from '../../util/project-root.js';
import { prepareLockedRun, type LockedRun } from '../lock/index.js';
import type { CacheModelsOptions } from './types.js';

export interface LoadedCatalogRun {
  catalog: Catalog;
  /** Catalog files merged, shipped first. */
  sources: string[];
  lockedRun: LockedRun | undefined;
  /** What a relative `local_dir` resolves against, and the hub cache it must stay out of. */
  localDirBase: LocalDirBase;
}

/** The machine a catalog's platform rules are checked against. */
export function platformOf(options: Pick<CacheModelsOptions, 'platform'>): { os: string; arch: string } {
  return options.platform ?? { os: process.platform, arch: process.arch };
}

/** Read and merge the catalogs; with --frozen / --locked, check the lock against them. */
export async function loadCatalogRun(options: CacheModelsOptions): Promise<LoadedCatalogRun> {
  const { catalog, sources } = await loadCatalog({
    cwd: options.settings.cwd,
    catalogPath: options.catalogPath,
    envCatalogPath: options.settings.catalogPath,
    ...(options.shippedCatalogPath ? { shippedPath: options.shippedCatalogPath } : {}),
  });
  const lockedRun =
    options.frozen === true || options.locked === true
      ? await prepareLockedRun({ ...options, catalog, platform: platformOf(options), mode: options.frozen === true ? 'frozen' : 'locked' })
      : undefined;
  const { settings } = options;
  const localDirBase = { base: settings.project?.root ?? findProjectRoot(settings.cwd)?.root ?? settings.cwd, hubCache: settings.hubCache };
  resolveLocalDirs(catalog, { ...localDirBase, sources });
  return { catalog, sources, lockedRun, localDirBase };
}

/** The entries this run caches: the flags' selection, or the lock's with --frozen / --locked. */
export function selectForRun(options: CacheModelsOptions, run: Pick<LoadedCatalogRun, 'catalog' | 'lockedRun' | 'localDirBase'>): Selection {
  const request = run.lockedRun ? { ...options, ...run.lockedRun.selection } : options;
  const selection = selectEntries(run.catalog, {
    all: request.all,
    groups: request.groups,
    models: request.models,
    presetModels: options.settings.presetModels,
    force: request.force,
    platform: platformOf(options),
  });
  // `localDir` leaves here absolute (loadCatalogRun has already refused values that resolve badly).
  const entries = selection.entries.map((entry) => {
    if (entry.kind !== 'hub' || entry.localDir === undefined) return entry;
    const resolved = resolveLocalDir(entry.localDir, run.localDirBase);
    return 'path' in resolved ? { ...entry, localDir: resolved.path } : entry;
  });
  return { ...selection, entries };
}
