/**
 * `mlcache cache-models`: cache catalog groups (and --model repos) in one run.
 *
 * Plan first, then apply it, as changesets' assemble-release-plan / apply-release-plan:
 * select.ts (catalog, lock, selection) → plan.ts (every repo's revision → commit, its file list,
 * its patterns, minus what the cache already holds; totals with each blob once; plan-entry.ts per
 * entry) → space.ts (needed bytes per volume against free space plus a margin, through the
 * disk-space module `download` shares) → gate.ts (gated repos without a token) → execute.ts (one
 * transfer engine carries everything; one entry's failure never stops the others) → summary.ts.
 * Each part takes its inputs as arguments. docs/cache-models.md documents the behaviour.
 */
import { verifyCacheDir } from '../../cache/verify-cache-dir.js';
import { createRuntime, verifyOnline, type Runtime } from '../../runtime/hub-runtime.js';
import { executePlan } from './execute.js';
import { confirmGated } from './gate.js';
import { assemblePlan } from './plan.js';
import type { CacheModelsPlan } from './plan-schema.js';
import { openEntryRegistry, type EntryRegistry } from './registry.js';
import { loadCatalogRun, selectForRun } from './select.js';
import { insufficientSpace } from './space.js';
import { dryRunResult, summarize } from './summary.js';
import type { CacheModelsOptions, CacheModelsResult, PlannedWork } from './types.js';

export type { CacheModelsPlan, CacheModelsPlanEntry, CacheModelsVolume } from './plan-schema.js';
export type { CacheModelsEntryResult, CacheModelsEvent, CacheModelsOptions, CacheModelsResult, EntryStatus } from './types.js';
export { catalogChecksumError } from './execute.js';

/** Catalog, lock, registry, selection, then the plan (emitted as a `plan` event). */
async function loadAndPlan(
  options: CacheModelsOptions,
  runtime: Runtime,
  opened: { registry?: EntryRegistry | undefined },
): Promise<PlannedWork> {
  const run = await loadCatalogRun(options);
  const { catalog, sources, lockedRun } = run;
  // Offline (HF_HUB_OFFLINE) still works registry-first: an air-gapped rack's only source.
  const registry = (opened.registry = await openEntryRegistry(options, runtime, catalog.registry));
  if (!registry) verifyOnline(options.settings);
  const selection = selectForRun(options, run);
  // The "Planning…" spinner starts only now: a catalog or usage error never follows it.
  await options.onPlanning?.();
  const work = await assemblePlan({
    selection,
    hub: runtime.hub,
    hubCache: options.settings.hubCache,
    torchHome: options.settings.torchHome,
    sources,
    registry,
    lockedRun,
    frozen: options.frozen === true,
    signal: options.signal,
    freeSpace: options.freeSpace,
  });
  options.onEvent?.({ type: 'plan', plan: work.plan });
  return work;
}

function runtimeFor(options: CacheModelsOptions): Promise<Runtime> {
  return createRuntime({
    settings: options.settings,
    token: options.token,
    dispatcher: options.dispatcher,
    connections: options.connections,
    maxRate: options.maxRate,
    tuning: options.tuning,
    signal: options.signal,
    onEvent: options.onEvent,
  });
}

/** A run's runtime and registry, closed when `body` is done. */
async function withRun<T>(options: CacheModelsOptions, body: (runtime: Runtime, opened: { registry?: EntryRegistry | undefined }) => Promise<T>): Promise<T> {
  await verifyCacheDir(options.settings.hubCache, options.settings.hubCacheSource);
  const runtime = await runtimeFor(options);
  const opened: { registry?: EntryRegistry | undefined } = {};
  try {
    return await body(runtime, opened);
  } finally {
    await opened.registry?.client.close();
    await runtime.close();
  }
}

/** The plan alone (what --dry-run prints). Writes nothing. */
export function planCacheModels(options: CacheModelsOptions): Promise<CacheModelsPlan> {
  return withRun(options, async (runtime, opened) => (await loadAndPlan(options, runtime, opened)).plan);
}

/** Plan, check space, then fetch everything selected through one engine. */
export function cacheModels(options: CacheModelsOptions): Promise<CacheModelsResult> {
  const started = Date.now();
  return withRun(options, async (runtime, opened) => {
    const work = await loadAndPlan(options, runtime, opened);
    const { plan } = work;
    if (options.dryRun) return dryRunResult(plan, started);
    await confirmGated(plan, options);
    // --skip-space-check: the plan still says which volume is short, but nothing is refused.
    if (!plan.fits && options.skipSpaceCheck !== true) throw insufficientSpace(plan);
    const entries = await executePlan({ options, runtime, registry: opened.registry }, work);
    return summarize(plan, entries, started, options);
  });
}
