/**
 * Selection for a `cache-models` run: the merged catalog (shipped ← project ← --catalog), the
 * lock when --frozen / --locked (which must agree with the catalog before anything is planned,
 * and whose recorded selection then applies), and the entries the flags select
 * (catalog/select-entries.ts).
 */
import { loadCatalog, selectEntries, type Catalog, type Selection } from '../../catalog/index.js';
import { prepareLockedRun, type LockedRun } from '../lock.js';
import type { CacheModelsOptions } from './types.js';

export interface LoadedCatalogRun {
  catalog: Catalog;
  /** Catalog files merged, shipped first. */
  sources: string[];
  lockedRun: LockedRun | undefined;
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
  return { catalog, sources, lockedRun };
}

/** The entries this run caches: the flags' selection, or the lock's with --frozen / --locked. */
export function selectForRun(options: CacheModelsOptions, catalog: Catalog, lockedRun: LockedRun | undefined): Selection {
  const request = lockedRun ? { ...options, ...lockedRun.selection } : options;
  return selectEntries(catalog, {
    all: request.all,
    groups: request.groups,
    models: request.models,
    presetModels: options.settings.presetModels,
    force: request.force,
    platform: platformOf(options),
  });
}
