/**
 * Assembling a `cache-models` plan (as changesets' `assemble-release-plan`: build it, change
 * nothing): every selected entry planned (plan-entry.ts), needed bytes totalled with each blob
 * counted once even when two entries select the same file, and the disk preflight per volume
 * (space.ts), which also counts the copies into each entry's `local_dir`. Entries that could not
 * be planned carry their `error` and count 0 bytes here; the CLI says how many are unknown.
 * Writes nothing but huggingface_hub metadata for a `local_dir` file a hash proves current (as
 * `download --local-dir --dry-run`).
 */
import { localCopyDemand, type SpaceDemand } from '../../cache/disk-space.js';
import { repoFolderName } from '../../cache/index.js';
import type { Selection } from '../../catalog/index.js';
import type { HubClient } from '../../hub/types.js';
import type { LockedRun } from '../lock/index.js';
import type { CacheModelsPlan } from './plan-schema.js';
import { planEntry, type PlannedEntry } from './plan-entry.js';
import type { EntryRegistry } from './registry.js';
import { planVolumes } from './space.js';
import type { PlannedWork } from './types.js';

export interface AssemblePlanInput {
  selection: Selection;
  hub: HubClient;
  hubCache: string;
  torchHome: string;
  /** Catalog files merged, shipped first. */
  sources: string[];
  registry: EntryRegistry | undefined;
  lockedRun: LockedRun | undefined;
  frozen: boolean;
  signal: AbortSignal | undefined;
  freeSpace: ((dir: string) => Promise<number>) | undefined;
}

/**
 * The bytes each cache root still needs, in plan order: a blob once per repo even when several
 * entries select it; the hub cache always listed (so the plan names its volume).
 */
export function spaceDemands(planned: readonly PlannedEntry[], hubCache: string, torchHome: string): SpaceDemand[] {
  const seenBlobs = new Set<string>();
  const demands: SpaceDemand[] = [];
  for (const { planEntry, snapshot } of planned) {
    if (planEntry.kind === 'url') {
      demands.push({ dir: torchHome, bytes: planEntry.bytesNeeded });
      continue;
    }
    if (!snapshot) continue;
    let needed = 0;
    for (const f of snapshot.files) {
      const key = `${repoFolderName(snapshot.repo)}/${f.etag}`;
      if (f.cached || seenBlobs.has(key)) continue;
      seenBlobs.add(key);
      needed += f.size;
    }
    demands.push({ dir: hubCache, bytes: needed });
  }
  if (!demands.some((d) => d.dir === hubCache)) demands.push({ dir: hubCache, bytes: 0 });
  return demands;
}

export async function assemblePlan(input: AssemblePlanInput): Promise<PlannedWork> {
  const { selection, hub, hubCache, torchHome, registry } = input;
  const context = { hub, cacheDir: hubCache, torchHome, registry, lockedRun: input.lockedRun, frozen: input.frozen, signal: input.signal };
  const planned = await Promise.all(selection.entries.map((entry) => planEntry(context, entry)));
  const demands = spaceDemands(planned, hubCache, torchHome);
  const localDemands: SpaceDemand[] = [];
  for (const p of planned) {
    if (p.localFiles === undefined || p.planEntry.localDir === undefined) continue;
    localDemands.push(localCopyDemand(p.planEntry.localDir, p.localFiles));
  }
  const volumes = await planVolumes([...demands, ...localDemands], input.freeSpace);
  const plan: CacheModelsPlan = {
    hubCache,
    torchHome,
    endpoint: hub.endpoint,
    catalogSources: input.sources,
    selection: selection.source,
    tokenPresent: hub.hasToken,
    ...(registry ? { registry: registry.base.text } : {}),
    entries: planned.map((p) => p.planEntry),
    bytesTotal: planned.reduce((n, p) => n + p.planEntry.bytesTotal, 0),
    bytesNeeded: demands.reduce((n, d) => n + d.bytes, 0),
    volumes,
    fits: volumes.every((v) => v.fits),
  };
  return {
    plan,
    selected: selection.entries,
    snapshots: planned.map((p) => p.snapshot),
    registrySources: planned.map((p) => p.registrySource),
    localFiles: planned.map((p) => p.localFiles),
  };
}
