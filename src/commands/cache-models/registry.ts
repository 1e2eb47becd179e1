/**
 * cache-models' registry-first half (docs/registry.md): open the registry named by --registry,
 * MLCACHE_REGISTRY or the catalog; per Hub entry, ask the Hub for the commit (one request, none for
 * a pinned commit or when offline) and the registry for that commit's artifact; and, with
 * --push-missing, push what came from the Hub. A registry that fails is a miss with its reason, never
 * a failed entry: the Hub is still there (unless offline, when it is the only way).
 */
import type { SelectedEntry, SelectedHubEntry } from '../../catalog/index.js';
import type { TransferItem } from '../../download/types.js';
import { isMlcacheError, MlcacheError } from '../../errors.js';
import type { HubClient } from '../../hub/types.js';
import type { RegistryClient } from '../../registry/types.js';
import type { PlannedFile, SnapshotPlan } from '../../snapshot/index.js';
import { isCommitHash, lookupEntry, registryBase, repositoryFor, type RegistryBase } from './registry-first.js';
import { openRegistry, type RegistryAccess } from '../../runtime/registry-session.js';
import type { Runtime } from '../../runtime/hub-runtime.js';
import type { Settings } from '../../config/settings.js';

export interface EntryRegistry {
  base: RegistryBase;
  client: RegistryClient;
  settings: Settings;
  runtime: Runtime;
  access: RegistryAccess;
  signal?: AbortSignal | undefined;
}

export async function openEntryRegistry(
  options: RegistryAccess & { settings: Settings; registry?: string | undefined; signal?: AbortSignal | undefined },
  runtime: Runtime,
  catalogField: string | undefined,
): Promise<EntryRegistry | undefined> {
  const base = registryBase(options.registry, options.settings, catalogField);
  if (!base) return undefined;
  const access = { registryToken: options.registryToken, insecureRegistries: options.insecureRegistries };
  const client = await openRegistry(options.settings, { registry: base.registry, repository: base.prefix || 'x' }, { ...access, dispatcher: runtime.dispatcher, signal: options.signal });
  return { base, client, settings: options.settings, runtime, access, signal: options.signal };
}

type HubPlanResult = { snapshot?: SnapshotPlan; gatedWithoutToken: boolean; error?: unknown };

export type RegistryEntryPlan =
  | { hit: true; plan: SnapshotPlan; source: (file: PlannedFile) => TransferItem['resolve']; reference: string }
  | {
      hit: false;
      reason: string;
      reference: string;
      /** The commit the Hub named (the Hub plan then needs no second revision request). */
      commit?: string | undefined;
      /** The Hub could not be asked (offline, unreachable, refused): the entry's result as the Hub plan would give it. */
      hubUnavailable?: HubPlanResult | undefined;
    };

function cut(error: unknown): string {
  return isMlcacheError(error) ? error.message.replace(/\.$/, '') : String(error);
}

export async function planRegistryEntry(
  registry: EntryRegistry,
  hub: HubClient,
  cacheDir: string,
  entry: SelectedHubEntry,
  signal: AbortSignal | undefined,
  /** The commit mlcache.lock pins (--frozen / --locked): no revision request at all. */
  pinnedCommit?: string,
  /** The files mlcache.lock records at that commit: a registry artifact must agree with every one. */
  lockedFiles?: ReadonlyArray<{ path: string; blobId: string; lfs?: { sha256: string } | undefined }>,
): Promise<RegistryEntryPlan> {
  let commit: string | undefined = pinnedCommit ?? (isCommitHash(entry.revision) ? entry.revision : undefined);
  let hubError: unknown;
  if (commit === undefined) {
    if (registry.settings.offline) {
      hubError = new MlcacheError('OFFLINE', `HF_HUB_OFFLINE is set and the registry does not hold ${entry.repo.id}@${entry.revision}.`, {
        hint: `Push it from a connected machine (mlcache push ${entry.repo.id} oci://${registry.base.registry}/${repositoryFor(registry.base, entry.repo)}), or unset HF_HUB_OFFLINE.`,
      });
    } else {
      try {
        commit = (await hub.resolveRevision(entry.repo, entry.revision)).commit;
      } catch (error) {
        // Unreachable, rate-limited, gated without a token: the registry may still hold it (a fleet
        // pushes gated models once, with a token, for nodes that have none).
        hubError = error;
      }
    }
  }
  const hubUnavailable = hubError === undefined ? undefined : { gatedWithoutToken: isMlcacheError(hubError) && hubError.code === 'GATED_REPO' && !hub.hasToken, error: hubError };
  let lookup;
  try {
    lookup = await lookupEntry({ client: registry.client, base: registry.base, cacheDir, signal }, entry, commit);
  } catch (error) {
    if (signal?.aborted) throw error;
    return { hit: false, reason: `the registry failed: ${cut(error)}`, reference: `oci://${registry.base.registry}/${repositoryFor(registry.base, entry.repo)}`, commit, hubUnavailable };
  }
  if (lookup.hit && lockedFiles !== undefined) {
    // The lock is the truth: a registry copy whose files are not the locked bytes (a poisoned or
    // re-pushed tag) is not used, and the lock's own path (the Hub, by commit) is taken instead.
    const planned = new Map(lookup.plan.files.map((f) => [f.path, f.etag]));
    const disagree = lockedFiles.filter((f) => planned.get(f.path) !== (f.lfs?.sha256 ?? f.blobId)).length + Math.max(0, planned.size - lockedFiles.length);
    if (disagree > 0) return { hit: false, reason: `the registry's artifact disagrees with mlcache.lock on ${disagree} file(s)`, reference: lookup.reference, commit, hubUnavailable };
  }
  if (lookup.hit) return lookup;
  return { ...lookup, commit, hubUnavailable };
}

/** --push-missing: the entry's snapshot, now cached, to the registry under its commit and revision. */
export async function pushEntry(registry: EntryRegistry, options: { signal?: AbortSignal | undefined }, selected: SelectedEntry): Promise<{ pushed?: string; pushError?: { code: string; message: string; hint?: string | undefined } }> {
  if (selected.kind !== 'hub') return {};
  const { push } = await import('../push.js');
  try {
    const result = await push({
      settings: registry.settings,
      repo: `${selected.repo.id}@${selected.revision}`,
      repoType: selected.repo.type,
      target: `oci://${registry.base.registry}/${repositoryFor(registry.base, selected.repo)}`,
      ...registry.access,
      dispatcher: registry.runtime.dispatcher,
      signal: options.signal,
    });
    return { pushed: `${result.reference}@${result.manifestDigest}` };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return { pushError: isMlcacheError(error) ? { code: error.code, message: error.message, hint: error.hint } : { code: 'INTERNAL', message: String(error) } };
  }
}
