/**
 * Planning one selected entry (the per-entry half of plan.ts): a URL artifact against its file
 * under TORCH_HOME; a Hub repo through the registry (registry-first), mlcache.lock's pin
 * (--frozen / --locked) or the Hub; a gated repo without a token against what the cache already
 * holds. Never throws for an entry: its failure becomes the plan entry's `error`.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { repoFolderName } from '../../cache/index.js';
import type { SelectedEntry, SelectedHubEntry, SelectedUrlEntry } from '../../catalog/index.js';
import { MlcacheError, isMlcacheError } from '../../errors.js';
import { repoWebUrl } from '../../hub/index.js';
import type { HubClient } from '../../hub/types.js';
import { entryKey } from '../../lock/index.js';
import { cachedCommit, planSnapshot, splitByLocalDir, type PlannedFile, type SnapshotPlan } from '../../snapshot/index.js';
import { redactUrl } from '../../util/redact.js';
import { planLockedHubEntry, type LockedRun } from '../lock/index.js';
import type { CacheModelsPlanEntry } from './plan-schema.js';
import { planRegistryEntry, type EntryRegistry } from './registry.js';
import type { ErrorInfo, RegistrySource } from './types.js';

export function errorInfo(error: unknown): ErrorInfo {
  if (isMlcacheError(error)) return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

function gatedMessage(entry: SelectedHubEntry, accessUrl: string): MlcacheError {
  return new MlcacheError('GATED_REPO', `${entry.repo.id} is gated and no Hub token was found.`, {
    hint: `Request access at ${accessUrl}, then set HF_TOKEN (or pass --token) and run again.`,
    details: { repo: entry.repo.id, accessUrl },
  });
}

async function planHubEntry(
  hub: HubClient,
  cacheDir: string,
  entry: SelectedHubEntry,
  /** The commit the revision points at, when registry-first already asked the Hub (no second request). */
  knownCommit?: string,
): Promise<{ snapshot?: SnapshotPlan; gatedWithoutToken: boolean; error?: unknown }> {
  const request = { repo: entry.repo, include: entry.include, exclude: entry.exclude, formats: entry.formats };
  if (entry.gated && !hub.hasToken) {
    // No token: the Hub would refuse. A snapshot cached earlier still counts, checked offline
    // (refs/<revision> and trees/<commit>.json from that run).
    const commit = await cachedCommit(cacheDir, entry.repo, entry.revision).catch(() => undefined);
    if (commit !== undefined) {
      const local = await planSnapshot({ hub, cacheDir }, { ...request, revision: commit }).catch(() => undefined);
      if (local && local.treeSource === 'cache' && local.files.length > 0 && local.files.every((f) => f.cached && f.linked)) {
        return { snapshot: { ...local, revision: entry.revision }, gatedWithoutToken: false };
      }
    }
    return { gatedWithoutToken: true };
  }
  try {
    const planned = await planSnapshot({ hub, cacheDir }, { ...request, revision: knownCommit ?? entry.revision });
    const snapshot = knownCommit !== undefined ? { ...planned, revision: entry.revision } : planned;
    if (snapshot.files.length === 0) {
      return {
        snapshot,
        gatedWithoutToken: false,
        error: new MlcacheError('ENTRY_NOT_FOUND', `${entry.repo.id}@${entry.revision}: the include/exclude patterns match no file.`, {
          hint: 'Check the patterns in the catalog against the repo’s files (cache-models --dry-run lists them).',
        }),
      };
    }
    return { snapshot, gatedWithoutToken: false };
  } catch (error) {
    const gated = isMlcacheError(error) && error.code === 'GATED_REPO' && !hub.hasToken;
    return { gatedWithoutToken: gated, error };
  }
}

async function planUrlEntry(torchHome: string, entry: SelectedUrlEntry): Promise<CacheModelsPlanEntry> {
  const destination = path.join(torchHome, ...entry.destination.split('/'));
  // Present with the catalog's size: counted as cached without re-hashing (hundreds of MB);
  // `mlcache verify` hashes it. A wrong size is downloaded again and replaced atomically.
  const present = await stat(destination).then(
    (s) => s.isFile() && s.size === entry.size,
    () => false,
  );
  return {
    group: entry.group,
    name: entry.name,
    kind: entry.kind,
    purpose: entry.purpose,
    optional: entry.optional,
    // Credentials written in the URL never reach the plan (--dry-run, --json).
    url: redactUrl(entry.url),
    destination,
    files: 1,
    filesNeeded: present || entry.skipped ? 0 : 1,
    bytesTotal: entry.size,
    bytesNeeded: present || entry.skipped ? 0 : entry.size,
    gated: false,
    gatedWithoutToken: false,
    ...(entry.skipped ? { skipped: entry.skipped } : {}),
  };
}

/** What planning one entry needs, passed explicitly. */
export interface EntryPlanContext {
  hub: HubClient;
  cacheDir: string;
  torchHome: string;
  registry: EntryRegistry | undefined;
  lockedRun: LockedRun | undefined;
  /** --frozen (else --locked) when `lockedRun` is set. */
  frozen: boolean;
  signal: AbortSignal | undefined;
}

export interface PlannedEntry {
  planEntry: CacheModelsPlanEntry;
  snapshot?: SnapshotPlan | undefined;
  registrySource?: RegistrySource | undefined;
  /** With a `local_dir`: the files to place there (those it does not already hold at the commit). */
  localFiles?: PlannedFile[] | undefined;
}

/** One selected entry → its plan entry, and what executing it needs. */
export async function planEntry(context: EntryPlanContext, entry: SelectedEntry): Promise<PlannedEntry> {
  if (entry.kind === 'url') return { planEntry: await planUrlEntry(context.torchHome, entry) };
  const planned = await planRepoEntry(context, entry);
  if (entry.localDir === undefined) return planned;
  // `local_dir`: the cache is filled as without it; DIR gets the files it does not hold yet.
  const localDir = entry.localDir;
  if (planned.snapshot === undefined || planned.planEntry.error !== undefined || planned.planEntry.skipped !== undefined) {
    return { ...planned, planEntry: { ...planned.planEntry, localDir } };
  }
  const { stale } = await splitByLocalDir(localDir, planned.snapshot.commit, planned.snapshot.files, context.signal);
  return { ...planned, localFiles: stale, planEntry: { ...planned.planEntry, localDir, localFilesNeeded: stale.length } };
}

async function planRepoEntry(context: EntryPlanContext, entry: SelectedHubEntry): Promise<PlannedEntry> {
  const { hub, cacheDir, registry, lockedRun } = context;
  const base = { group: entry.group, name: entry.name, kind: entry.kind, purpose: entry.purpose, optional: entry.optional };
  const repoFields = {
    repo: entry.repo.id,
    repoType: entry.repo.type,
    revision: entry.revision,
    gated: entry.gated,
    destination: path.join(cacheDir, repoFolderName(entry.repo)),
  };
  if (entry.skipped) {
    return {
      planEntry: { ...base, ...repoFields, files: 0, filesNeeded: 0, bytesTotal: 0, bytesNeeded: 0, gatedWithoutToken: false, skipped: entry.skipped },
    };
  }
  const pin = lockedRun?.entries.get(entryKey(entry));
  const pinnedCommit = pin?.kind === 'hub' ? pin.commit : undefined;
  const viaRegistry = registry
    ? await planRegistryEntry(registry, hub, cacheDir, entry, context.signal, pinnedCommit, pin?.kind === 'hub' ? pin.files : undefined)
    : undefined;
  if (viaRegistry?.hit) {
    const snapshot = viaRegistry.plan;
    return {
      snapshot,
      registrySource: viaRegistry.source,
      planEntry: {
        ...base,
        ...repoFields,
        commit: snapshot.commit,
        destination: snapshot.snapshotDir,
        files: snapshot.files.length,
        filesNeeded: snapshot.files.filter((f) => !f.cached).length,
        bytesTotal: snapshot.bytesTotal,
        bytesNeeded: snapshot.bytesNeeded,
        gatedWithoutToken: false,
        source: 'registry',
        registry: viaRegistry.reference,
      },
    };
  }
  const result =
    pin?.kind === 'hub'
      ? await planLockedHubEntry(hub, cacheDir, entry, pin, context.frozen ? 'frozen' : 'locked')
      : (viaRegistry?.hubUnavailable ?? (await planHubEntry(hub, cacheDir, entry, viaRegistry?.commit)));
  const accessUrl = repoWebUrl(hub.endpoint, entry.repo);
  const snapshot = result.error === undefined ? result.snapshot : undefined;
  const error = result.error !== undefined ? errorInfo(result.error) : result.gatedWithoutToken ? errorInfo(gatedMessage(entry, accessUrl)) : undefined;
  return {
    snapshot,
    planEntry: {
      ...base,
      ...repoFields,
      gated: entry.gated || result.gatedWithoutToken,
      ...(snapshot ? { commit: snapshot.commit, destination: snapshot.snapshotDir } : {}),
      files: result.snapshot?.files.length ?? 0,
      filesNeeded: snapshot ? snapshot.files.filter((f) => !f.cached).length : 0,
      bytesTotal: result.snapshot?.bytesTotal ?? 0,
      bytesNeeded: snapshot?.bytesNeeded ?? 0,
      gatedWithoutToken: result.gatedWithoutToken,
      ...(entry.gated || result.gatedWithoutToken ? { accessUrl } : {}),
      ...(error ? { error } : {}),
      ...(viaRegistry ? { source: 'hub' as const, registry: viaRegistry.reference, registryMiss: viaRegistry.reason } : {}),
    },
  };
}
