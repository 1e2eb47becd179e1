/**
 * Executing a `cache-models` plan (as changesets' `apply-release-plan`): every entry at once
 * through the run's one transfer engine — a URL artifact to its file under TORCH_HOME, a Hub repo
 * through snapshot/execute.ts (from the Hub, or from the registry that serves it), then its
 * `local_dir` (the files it lacks, placed from the cache as `download --local-dir` places them:
 * snapshot/local-dir.ts), then --push-missing. One entry's failure never stops the others: it becomes that entry's result.
 */
import path from 'node:path';
import { makeDirectory } from '../../cache/index.js';
import type { SelectedEntry, SelectedUrlEntry } from '../../catalog/index.js';
import type { TransferItem } from '../../download/types.js';
import { IntegrityError } from '../../errors.js';
import { resolveUrlArtifact } from '../../hub/index.js';
import type { Runtime } from '../../runtime/hub-runtime.js';
import { executeSnapshot, placeFromCache, type PlannedFile, type SnapshotPlan } from '../../snapshot/index.js';
import type { CacheModelsPlanEntry } from './plan-schema.js';
import { errorInfo } from './plan-entry.js';
import { pushEntry, type EntryRegistry } from './registry.js';
import type { CacheModelsEntryResult, CacheModelsOptions, EntryStatus, PlannedWork, RegistrySource } from './types.js';

async function fetchUrlEntry(runtime: Runtime, entry: SelectedUrlEntry, destination: string, signal: AbortSignal | undefined): Promise<number> {
  await makeDirectory(path.dirname(destination));
  const item: TransferItem = {
    id: destination,
    label: `${entry.group}: ${entry.name}`,
    group: entry.group,
    size: entry.size,
    digest: { algorithm: 'sha256', hex: entry.sha256 },
    destination,
    // Not a Hub URL: never the Hub token; redirects followed to the URL that serves the bytes,
    // credentials in the URL only to its own origin (hub/url-artifact-source.ts).
    resolve: () => resolveUrlArtifact(entry.url, { dispatcher: runtime.dispatcher, signal }),
  };
  try {
    const result = await runtime.engine.download(item);
    return result.bytesTransferred;
  } catch (error) {
    throw catalogChecksumError(error, entry.name);
  }
}

/**
 * A URL artifact's sha256 comes from the catalog, not from the server: when the bytes hash to
 * something else twice, the catalog's checksum is as likely wrong as the server.
 */
export function catalogChecksumError(error: unknown, name: string): unknown {
  if (!(error instanceof IntegrityError)) return error;
  return new IntegrityError(
    `${name}: the downloaded file's sha256 is ${error.actual}, but the catalog says ${error.expected} (twice, from a fresh download).`,
    { expected: error.expected, actual: error.actual, algorithm: error.algorithm },
    {
      hint: 'The checksum in the catalog may be wrong (the file was replaced upstream, or the sha256 was copied wrongly): check it against the publisher and fix the catalog; else the server or a proxy is sending wrong bytes. Nothing was written.',
      cause: error,
    },
  );
}

/** What executing one entry needs besides the entry itself, passed explicitly. */
export interface ExecuteContext {
  options: CacheModelsOptions;
  runtime: Runtime;
  registry: EntryRegistry | undefined;
}

export interface EntryWork {
  planEntry: CacheModelsPlanEntry;
  selected: SelectedEntry;
  snapshot: SnapshotPlan | undefined;
  registrySource: RegistrySource | undefined;
  /** With a `local_dir`: the files to place there. */
  localFiles: PlannedFile[] | undefined;
}

export async function executeEntry(context: ExecuteContext, work: EntryWork): Promise<CacheModelsEntryResult> {
  const { options, runtime, registry } = context;
  const { planEntry, selected, snapshot, registrySource, localFiles } = work;
  const started = Date.now();
  const base = {
    group: planEntry.group,
    name: planEntry.name,
    kind: planEntry.kind,
    optional: planEntry.optional,
    destination: planEntry.destination,
    files: planEntry.files,
    ...(planEntry.commit ? { commit: planEntry.commit } : {}),
    ...(planEntry.source ? { source: planEntry.source } : {}),
  };
  const done = (fields: Partial<CacheModelsEntryResult> & { status: EntryStatus }): CacheModelsEntryResult => ({
    ...base,
    bytesFetched: 0,
    bytesCached: 0,
    durationMs: Date.now() - started,
    ...fields,
  });
  if (planEntry.skipped) return done({ status: 'skipped', reason: planEntry.skipped });
  if (planEntry.error) return done({ status: 'failed', error: planEntry.error });
  try {
    if (selected.kind === 'url') {
      if (planEntry.bytesNeeded === 0) return done({ status: 'cached', bytesCached: planEntry.bytesTotal });
      const fetched = await fetchUrlEntry(runtime, selected, planEntry.destination, options.signal);
      return done({ status: 'fetched', bytesFetched: fetched });
    }
    if (!snapshot) return done({ status: 'failed', error: { code: 'INTERNAL', message: 'no plan for this entry' } });
    const result = await executeSnapshot(
      {
        hub: runtime.hub,
        engine: runtime.engine,
        cacheDir: options.settings.hubCache,
        copy: options.settings.disableSymlinks,
        signal: options.signal,
        source: registrySource,
      },
      snapshot,
    );
    if (result.failureCount > 0) {
      const first = result.failures[0]!;
      const more = result.failureCount > 1 ? ` (and ${result.failureCount - 1} more files)` : '';
      return done({
        status: 'failed',
        bytesFetched: result.bytesFetched,
        bytesCached: result.bytesCached,
        error: { code: first.code, message: `${first.path}: ${first.message}${more}`, ...(first.hint ? { hint: first.hint } : {}) },
      });
    }
    const transferred = { bytesFetched: result.bytesFetched, bytesCached: result.bytesCached };
    let localDir: CacheModelsEntryResult['localDir'];
    if (planEntry.localDir !== undefined && localFiles !== undefined) {
      const args = { cacheDir: options.settings.hubCache, repo: snapshot.repo, commit: snapshot.commit, localDir: planEntry.localDir, signal: options.signal };
      try {
        const placed = await placeFromCache(args, localFiles);
        localDir = { path: planEntry.localDir, upToDate: snapshot.files.length - localFiles.length, placed };
      } catch (error) {
        return done({ status: 'failed', ...transferred, error: errorInfo(error) });
      }
    }
    const pushed = registry && options.pushMissing === true && !registrySource ? await pushEntry(registry, options, selected) : undefined;
    return done({
      status: result.filesFetched > 0 || result.bytesFetched > 0 ? 'fetched' : 'cached',
      ...transferred,
      ...(localDir ? { localDir } : {}),
      ...(pushed ?? {}),
    });
  } catch (error) {
    return done({ status: 'failed', error: errorInfo(error) });
  }
}

/** Every entry of the plan at once (the engine bounds the work); `entry-done` as each finishes. */
export function executePlan(context: ExecuteContext, work: PlannedWork): Promise<CacheModelsEntryResult[]> {
  return Promise.all(
    work.plan.entries.map(async (planEntry, i) => {
      const result = await executeEntry(context, {
        planEntry,
        selected: work.selected[i]!,
        snapshot: work.snapshots[i],
        registrySource: work.registrySources[i],
        localFiles: work.localFiles[i],
      });
      context.options.onEvent?.({ type: 'entry-done', entry: result });
      return result;
    }),
  );
}
