/** Catalog selection for the maintenance commands (same flags and rules as cache-models). */
import { loadCatalog, selectEntries, type Catalog, type MachinePlatform, type SelectedEntry } from '../catalog/index.js';
import type { Settings } from '../config/settings.js';

export interface MaintenanceSelectionOptions {
  settings: Settings;
  /** --catalog FILE */
  catalogPath?: string | undefined;
  all?: boolean | undefined;
  groups?: readonly string[] | undefined;
  models?: readonly string[] | undefined;
  /** When the flags select nothing: every group (status) instead of a usage error. */
  defaultToAll?: boolean | undefined;
  /** Use the preset models (MLCACHE_MODELS) when nothing else is selected. @default true */
  usePresets?: boolean | undefined;
  platform?: MachinePlatform | undefined;
  /** Injected catalog (tests); otherwise loaded from disk. */
  catalog?: Catalog | undefined;
}

export interface MaintenanceSelection {
  catalog: Catalog;
  entries: SelectedEntry[];
  /** True when no flag selected anything and nothing was chosen. */
  empty: boolean;
}

type SelectionFields = 'settings' | 'catalog' | 'catalogPath' | 'all' | 'groups' | 'models' | 'platform';

/** The selection flags out of a command's options (each command has some of them). */
export function catalogSelection(options: Pick<MaintenanceSelectionOptions, 'settings'> & Partial<Pick<MaintenanceSelectionOptions, SelectionFields>>): Pick<MaintenanceSelectionOptions, SelectionFields> {
  const { settings, catalog, catalogPath, all, groups, models, platform } = options;
  return { settings, catalog, catalogPath, all, groups, models, platform };
}

export async function selectForMaintenance(options: MaintenanceSelectionOptions): Promise<MaintenanceSelection> {
  const { settings } = options;
  const catalog =
    options.catalog ??
    (await loadCatalog({ cwd: settings.cwd, catalogPath: options.catalogPath, envCatalogPath: settings.catalogPath })).catalog;
  const platform = options.platform ?? { os: process.platform, arch: process.arch };
  const flagged = options.all === true || (options.groups?.length ?? 0) > 0 || (options.models?.length ?? 0) > 0;
  const presets = options.usePresets === false ? [] : settings.presetModels;
  if (!flagged && presets.length === 0) {
    if (options.defaultToAll !== true) return { catalog, entries: [], empty: true };
    return { catalog, entries: selectEntries(catalog, { all: true, platform }).entries, empty: false };
  }
  const selection = selectEntries(catalog, {
    all: options.all,
    groups: options.groups,
    models: options.models,
    presetModels: presets,
    platform,
  });
  return { catalog, entries: selection.entries, empty: false };
}
