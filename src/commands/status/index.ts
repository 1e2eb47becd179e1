/**
 * `mlcache status`: what is cached, per catalog group and per repo, read from disk only. It never
 * touches the network (the endpoint is not even read), so it works on a plane.
 */
import { verifyCacheDir } from '../../cache/verify-cache-dir.js';
import type { Catalog, MachinePlatform } from '../../catalog/index.js';
import type { Settings } from '../../config/settings.js';
// The maintenance modules one by one, not the barrel: it would load the Hub client and undici
// (doctor, repair) into a command that never touches the network.
import { catalogSelection, selectForMaintenance } from '../../maintenance/select-from-catalog.js';
import { buildStatus, type StatusReport } from '../../maintenance/status-report.js';

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
  /**
   * --registry oci://host[/prefix]: also ask the registry (HEAD per entry) whether it holds each Hub
   * entry, as registry-first cache-models would. The only time status uses the network.
   */
  registry?: string | undefined;
  registryToken?: string | undefined;
  insecureRegistries?: readonly string[] | undefined;
  signal?: AbortSignal | undefined;
}

export type StatusResult = StatusReport;

export async function status(options: StatusOptions): Promise<StatusResult> {
  const { settings } = options;
  await verifyCacheDir(settings.hubCache, settings.hubCacheSource);
  const selection = await selectForMaintenance({ ...catalogSelection(options), defaultToAll: true, usePresets: false });
  const report = await buildStatus({
    hubCache: settings.hubCache,
    torchHome: settings.torchHome,
    mlxDir: options.mlxDir ?? settings.mlxCacheDir,
    entries: selection.entries,
  });
  if (options.registry !== undefined) {
    const { markRegistryAvailability } = await import('./registry.js');
    await markRegistryAvailability(options, report, selection.entries);
  }
  return report;
}
