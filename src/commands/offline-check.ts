/**
 * `mlcache offline-check`: prove, from the filesystem alone, that every file the selected groups
 * need resolves the way huggingface_hub resolves it with HF_HUB_OFFLINE=1, and that URL artifacts
 * are in place. No Hub client or dispatcher is created, so no request can leave.
 */
import { verifyCacheDir } from '../cache/verify-cache-dir.js';
import type { Catalog } from '../catalog/index.js';
import { nothingSelected } from '../catalog/index.js';
// The modules one by one, not the barrel: offline-check must not load the Hub client or undici.
import { checkHubEntryOffline, checkUrlEntryOffline, type OfflineEntryResult } from '../maintenance/offline-resolve.js';
import { catalogSelection, selectForMaintenance } from '../maintenance/select-from-catalog.js';
import { checkLockedHubEntryOffline, checkLockedUrlEntryOffline } from '../maintenance/offline-locked.js';
import { entryKey, lockfilePath, readLockfile, selectsAnything } from '../lock/index.js';
import type { CatalogSelectionOptions, LockfileOptions } from './run-options.js';

export interface OfflineCheckOptions extends CatalogSelectionOptions, LockfileOptions {
  /** Injected catalog (tests). */
  catalog?: Catalog | undefined;
  /** --frozen: check what mlcache.lock says (its commits and files) instead of the catalog's revisions. */
  frozen?: boolean | undefined;
}

export interface OfflineCheckEntry extends OfflineEntryResult {
  /** Set when the entry does not apply to this machine (not checked). */
  skipped?: string | undefined;
}

export interface OfflineCheckResult {
  ok: boolean;
  hubCache: string;
  torchHome: string;
  entries: OfflineCheckEntry[];
  checked: number;
  failed: number;
}

export async function offlineCheck(options: OfflineCheckOptions): Promise<OfflineCheckResult> {
  const { settings } = options;
  await verifyCacheDir(settings.hubCache, settings.hubCacheSource);
  if (options.frozen === true) return offlineCheckLocked(options);
  const selection = await selectForMaintenance(catalogSelection(options));
  if (selection.empty) throw nothingSelected(selection.catalog);
  const entries: OfflineCheckEntry[] = [];
  for (const entry of selection.entries) {
    if (entry.skipped !== undefined) {
      entries.push({
        kind: entry.kind,
        group: entry.group,
        name: entry.name,
        target: entry.kind === 'hub' ? entry.repo.id : entry.destination,
        ok: true,
        problems: [],
        missingFiles: [],
        files: [],
        treeCache: false,
        notes: [],
        skipped: entry.skipped,
      });
      continue;
    }
    entries.push(entry.kind === 'hub' ? await checkHubEntryOffline(settings.hubCache, entry) : await checkUrlEntryOffline(settings.torchHome, entry));
  }
  const checked = entries.filter((e) => e.skipped === undefined);
  const failed = checked.filter((e) => !e.ok).length;
  return { ok: failed === 0, hubCache: settings.hubCache, torchHome: settings.torchHome, entries, checked: checked.length, failed };
}

/** The lock's entries (those the flags select, when they select anything), checked against the locked commits. */
async function offlineCheckLocked(options: OfflineCheckOptions): Promise<OfflineCheckResult> {
  const { settings } = options;
  const lock = await readLockfile(lockfilePath({ cwd: settings.cwd, lockfile: options.lockfile, catalogPath: options.catalogPath ?? settings.catalogPath }));
  let locked = lock.entries;
  if (selectsAnything(options)) {
    const selection = await selectForMaintenance({ ...catalogSelection(options), usePresets: false });
    const wanted = new Set(selection.entries.filter((e) => e.skipped === undefined).map(entryKey));
    locked = locked.filter((e) => wanted.has(entryKey(e)));
  }
  const entries: OfflineCheckEntry[] = [];
  for (const entry of locked) {
    entries.push(entry.kind === 'hub' ? await checkLockedHubEntryOffline(settings.hubCache, entry) : await checkLockedUrlEntryOffline(settings.torchHome, entry));
  }
  const failed = entries.filter((e) => !e.ok).length;
  return { ok: failed === 0, hubCache: settings.hubCache, torchHome: settings.torchHome, entries, checked: entries.length, failed };
}
