/**
 * `mlcache status`: what is cached, per catalog group and per repo, read from disk only. It never
 * touches the network (the endpoint is not even read), so it works on a plane.
 */
import { verifyCacheDir } from '../cache/verify-cache-dir.js';
import type { Catalog, MachinePlatform } from '../catalog/index.js';
import type { Settings } from '../config/settings.js';
// The maintenance modules one by one, not the barrel: it would load the Hub client and undici
// (doctor, repair) into a command that never touches the network.
import { catalogSelection, selectForMaintenance } from '../maintenance/select-from-catalog.js';
import { buildStatus, type StatusReport } from '../maintenance/status-report.js';

export interface StatusOptions {
  settings: Settings;
  /** --group NAME (and shorthand flags); default: every group. */
  groups?: string[] | undefined;
  /** --model REPO[@REV] */
  models?: string[] | undefined;
  /** --catalog FILE */
  catalogPath?: string | undefined;
  /** Injected catalog (tests). */
  catalog?: Catalog | undefined;
  platform?: MachinePlatform | undefined;
  /** MLX dir to total (default: MLX_CACHE_DIR when set). */
  mlxDir?: string | undefined;
}

export type StatusResult = StatusReport;

export async function status(options: StatusOptions): Promise<StatusResult> {
  const { settings } = options;
  await verifyCacheDir(settings.hubCache, settings.hubCacheSource);
  const selection = await selectForMaintenance({ ...catalogSelection(options), defaultToAll: true, usePresets: false });
  return buildStatus({
    hubCache: settings.hubCache,
    torchHome: settings.torchHome,
    mlxDir: options.mlxDir ?? settings.mlxCacheDir,
    entries: selection.entries,
  });
}
