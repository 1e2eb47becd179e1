/**
 * The result of a `cache-models` run from its entries' results: totals, whether it succeeded
 * (every required entry), whether everything was already cached; an interrupted run is an
 * INTERRUPTED error instead, and an optional entry that failed is a warning. Pure but for the
 * `onEvent` warnings.
 */
import { MlcacheError } from '../../errors.js';
import type { CacheModelsPlan } from './plan-schema.js';
import type { CacheModelsEntryResult, CacheModelsOptions, CacheModelsResult } from './types.js';

/** --dry-run: the plan and nothing done. */
export function dryRunResult(plan: CacheModelsPlan, started: number): CacheModelsResult {
  return { ok: true, plan, entries: [], bytesFetched: 0, bytesCached: 0, allCached: plan.bytesNeeded === 0, durationMs: Date.now() - started };
}

export function summarize(
  plan: CacheModelsPlan,
  entries: CacheModelsEntryResult[],
  started: number,
  options: Pick<CacheModelsOptions, 'signal' | 'onEvent'>,
): CacheModelsResult {
  if (options.signal?.aborted) {
    throw new MlcacheError('INTERRUPTED', 'Interrupted; the files finished so far are kept.', {
      hint: 'Run the same command again to resume where it stopped.',
    });
  }
  for (const e of entries) {
    if (e.status === 'failed' && e.optional) {
      options.onEvent?.({ type: 'warning', message: `optional ${e.group}/${e.name} failed: ${e.error?.message ?? 'unknown error'}` });
    }
  }
  return {
    ok: entries.every((e) => e.status !== 'failed' || e.optional),
    plan,
    entries,
    bytesFetched: entries.reduce((n, e) => n + e.bytesFetched, 0),
    bytesCached: entries.reduce((n, e) => n + e.bytesCached, 0),
    allCached: entries.every((e) => e.status === 'cached' || e.status === 'skipped') && entries.some((e) => e.status === 'cached'),
    durationMs: Date.now() - started,
  };
}
