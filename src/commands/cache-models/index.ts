/**
 * `mlcache cache-models`: cache catalog groups (and --model repos) in one run.
 *
 * Plan first: every repo's revision → commit, its file list, its patterns, minus what the cache
 * already holds; URL artifacts already at their destination with the right size count as cached.
 * Needed bytes are summed per volume (the HF cache and TORCH_HOME may be on different
 * filesystems) and checked against free space plus a margin before the first byte is written.
 * Then one transfer engine carries everything; one entry's failure never stops the others.
 * docs/cache-models.md documents the behaviour.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { CACHE_MODELS_MARGIN, checkSpace, volumeOf } from '../../cache/disk-space.js';
import { makeDirectory, repoFolderName } from '../../cache/index.js';
import { verifyCacheDir } from '../../cache/verify-cache-dir.js';
import {
  loadCatalog,
  selectEntries,
  type Catalog,
  type SelectedEntry,
  type SelectedHubEntry,
  type SelectedUrlEntry,
} from '../../catalog/index.js';
import type { Settings } from '../../config/settings.js';
import type { TransferEvent, TransferItem } from '../../download/types.js';
import { IntegrityError, MlcacheError, isMlcacheError } from '../../errors.js';
import { repoWebUrl, resolveUrlArtifact } from '../../hub/index.js';
import type { HubClient } from '../../hub/types.js';
import { cachedCommit, executeSnapshot, planSnapshot, type PlannedFile, type SnapshotPlan } from '../../snapshot/index.js';
import { formatBytes } from '../../util/bytes.js';
import { redactUrl } from '../../util/redact.js';
import type { CacheModelsPlan, CacheModelsPlanEntry, CacheModelsVolume } from './plan-schema.js';
import { createRuntime, verifyOnline, type Runtime, type RuntimeTuning } from '../../runtime/hub-runtime.js';
import { openEntryRegistry, planRegistryEntry, pushEntry, type EntryRegistry } from './registry.js';
import { planLockedHubEntry, prepareLockedRun, type LockedRun } from '../lock.js';
import { entryKey } from '../../lock/index.js';

export type { CacheModelsPlan, CacheModelsPlanEntry, CacheModelsVolume } from './plan-schema.js';


export interface CacheModelsOptions {
  settings: Settings;
  /** Group names (--group NAME and the shorthand flags --indictrans2, --nllb, --whisperx, --mlx). */
  groups?: string[];
  /** --all: every group that applies to this machine. */
  all?: boolean;
  /** --model REPO[@REV] values (each may be a comma list). */
  models?: string[];
  /** Plan only; write nothing. */
  dryRun?: boolean;
  /** Cache entries whose platform constraint excludes this machine. */
  force?: boolean;
  /** Never ask; go on past gated repos without a token (and fail at the end). */
  yes?: boolean;
  /** A person can answer questions (TTY, not --json, not CI). */
  interactive?: boolean;
  token?: string;
  /** --catalog FILE (wins over Settings.catalogPath). */
  catalogPath?: string;
  signal?: AbortSignal;
  onEvent?: (event: CacheModelsEvent) => void;
  /**
   * Called once the catalog is read and the selection is valid, just before the Hub is asked:
   * where the CLI starts its "Planning…" spinner, so a catalog or usage error never follows one.
   */
  onPlanning?: (() => void | Promise<void>) | undefined;
  /** Asked (when interactive and not --yes) whether to go on without the gated repos. */
  confirm?: (question: string) => Promise<boolean>;
  /** Free bytes for this user on the filesystem holding `dir`. @default fs.statfs: bavail × bsize */
  freeSpace?: (dir: string) => Promise<number>;
  /** --skip-space-check: download even when the preflight finds too little free space. @default false */
  skipSpaceCheck?: boolean;
  dispatcher?: Dispatcher;
  connections?: number;
  maxRate?: number;
  /** Engine and Hub client timing (--stall-timeout); see RuntimeOptions.tuning. */
  tuning?: RuntimeTuning;
  /** Platform for catalog constraints. @default { os: process.platform, arch: process.arch } */
  platform?: { os: string; arch: string };
  /** Use this catalog instead of the shipped one (tests). */
  shippedCatalogPath?: string;
  /** Registry-first (docs/registry.md): --registry oci://host[/prefix], else MLCACHE_REGISTRY. */
  registry?: string | undefined;
  /** --push-missing: push what came from the Hub to the registry, so the next node hits. */
  pushMissing?: boolean | undefined;
  registryToken?: string | undefined;
  insecureRegistries?: readonly string[] | undefined;
  /** --frozen: fetch exactly what mlcache.lock says, with no revision or tree API call (docs/cache-models.md "Lock file"). */
  frozen?: boolean;
  /** --locked: check that mlcache.lock is current, then fetch its commits (the Hub lists each one). */
  locked?: boolean;
  /** --lockfile PATH. @default beside the project's config/models.json */
  lockfile?: string;
}

export type CacheModelsEvent =
  | TransferEvent
  | { type: 'plan'; plan: CacheModelsPlan }
  | { type: 'entry-done'; entry: CacheModelsEntryResult };

export type EntryStatus = 'fetched' | 'cached' | 'failed' | 'skipped';

export interface CacheModelsEntryResult {
  group: string;
  name: string;
  kind: 'hub' | 'url';
  status: EntryStatus;
  optional: boolean;
  /** Commit (Hub entries). */
  commit?: string | undefined;
  destination: string;
  files: number;
  bytesFetched: number;
  bytesCached: number;
  durationMs: number;
  /** Why it was skipped. */
  reason?: string | undefined;
  /** Where the files came from (Hub entries). */
  source?: 'hub' | 'registry' | undefined;
  /** --push-missing: the reference pushed, or why the push failed (the entry itself is cached either way). */
  pushed?: string | undefined;
  pushError?: { code: string; message: string; hint?: string | undefined } | undefined;
  error?: { code: string; message: string; hint?: string | undefined } | undefined;
}

export interface CacheModelsResult {
  /** False when a required (non-optional) entry failed. */
  ok: boolean;
  plan: CacheModelsPlan;
  entries: CacheModelsEntryResult[];
  bytesFetched: number;
  bytesCached: number;
  /** Nothing was downloaded because everything selected was already cached. */
  allCached: boolean;
  durationMs: number;
}

interface PlannedWork {
  plan: CacheModelsPlan;
  /** Parallel to plan.entries. */
  selected: SelectedEntry[];
  snapshots: Array<SnapshotPlan | undefined>;
  /** Parallel to plan.entries: the registry's blob source for entries it serves. */
  registrySources: Array<((file: PlannedFile) => TransferItem['resolve']) | undefined>;
}

function errorInfo(error: unknown): { code: string; message: string; hint?: string | undefined } {
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
  knownCommit?: string  ,
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

async function planUrlEntry(torchHome: string, entry: SelectedUrlEntry): Promise<{ destination: string; present: boolean }> {
  const destination = path.join(torchHome, ...entry.destination.split('/'));
  try {
    const s = await stat(destination);
    // Present with the catalog's size: counted as cached without re-hashing (hundreds of MB);
    // `mlcache verify` hashes it. A wrong size is downloaded again and replaced atomically.
    return { destination, present: s.isFile() && s.size === entry.size };
  } catch {
    return { destination, present: false };
  }
}

async function buildPlan(
  options: CacheModelsOptions,
  runtime: Runtime,
  catalog: Catalog,
  sources: string[],
  registry: EntryRegistry | undefined,
  lockedRun?: LockedRun,
): Promise<PlannedWork> {
  const { settings } = options;
  const selection = selectEntries(catalog, {
    all: options.all,
    groups: options.groups,
    models: options.models,
    presetModels: settings.presetModels,
    force: options.force,
    platform: options.platform ?? { os: process.platform, arch: process.arch },
  });
  const hub = runtime.hub;
  const cacheDir = settings.hubCache;
  await options.onPlanning?.();

  const planned = await Promise.all(
    selection.entries.map(async (entry): Promise<{ planEntry: CacheModelsPlanEntry; snapshot?: SnapshotPlan | undefined; registrySource?: PlannedWork['registrySources'][number] }> => {
      const base = { group: entry.group, name: entry.name, kind: entry.kind, purpose: entry.purpose, optional: entry.optional };
      if (entry.kind === 'url') {
        const { destination, present } = await planUrlEntry(settings.torchHome, entry);
        return {
          planEntry: {
            ...base,
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
          },
        };
      }
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
      const viaRegistry = registry ? await planRegistryEntry(registry, hub, cacheDir, entry, options.signal, pinnedCommit, pin?.kind === 'hub' ? pin.files : undefined) : undefined;
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
          ? await planLockedHubEntry(hub, cacheDir, entry, pin, options.frozen === true ? 'frozen' : 'locked')
          : (viaRegistry?.hubUnavailable ?? (await planHubEntry(hub, cacheDir, entry, viaRegistry?.commit)));
      const accessUrl = repoWebUrl(hub.endpoint, entry.repo);
      const snapshot = result.error === undefined ? result.snapshot : undefined;
      const error =
        result.error !== undefined ? errorInfo(result.error) : result.gatedWithoutToken ? errorInfo(gatedMessage(entry, accessUrl)) : undefined;
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
    }),
  );

  // Totals: each blob once, even when two entries of one repo select the same file.
  const seenBlobs = new Set<string>();
  let bytesNeeded = 0;
  let bytesTotal = 0;
  const perRoot = new Map<string, number>();
  const addTo = (root: string, n: number) => perRoot.set(root, (perRoot.get(root) ?? 0) + n);
  for (const { planEntry, snapshot } of planned) {
    bytesTotal += planEntry.bytesTotal;
    if (planEntry.kind === 'url') {
      bytesNeeded += planEntry.bytesNeeded;
      addTo(settings.torchHome, planEntry.bytesNeeded);
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
    bytesNeeded += needed;
    addTo(cacheDir, needed);
  }
  if (!perRoot.has(cacheDir)) perRoot.set(cacheDir, 0);

  const volumes = await describeVolumes(perRoot, options.freeSpace);
  const plan: CacheModelsPlan = {
    hubCache: cacheDir,
    torchHome: settings.torchHome,
    endpoint: hub.endpoint,
    catalogSources: sources,
    selection: selection.source,
    tokenPresent: hub.hasToken,
    ...(registry ? { registry: registry.base.text } : {}),
    entries: planned.map((p) => p.planEntry),
    bytesTotal,
    bytesNeeded,
    volumes,
    fits: volumes.every((v) => v.fits),
  };
  return { plan, selected: selection.entries, snapshots: planned.map((p) => p.snapshot), registrySources: planned.map((p) => p.registrySource) };
}

/** Group cache roots by the filesystem (device) they live on and compare each with its free space. */
async function describeVolumes(
  perRoot: Map<string, number>,
  freeSpace: ((dir: string) => Promise<number>) | undefined,
): Promise<CacheModelsVolume[]> {
  const byDevice = new Map<number, CacheModelsVolume>();
  for (const [root, needed] of perRoot) {
    const probe = await volumeOf(root);
    const volume = byDevice.get(probe.device) ?? { path: probe.path, device: probe.device, roots: [], bytesNeeded: 0, bytesRequired: 0, fits: true };
    volume.roots.push(root);
    volume.bytesNeeded += needed;
    byDevice.set(probe.device, volume);
  }
  for (const volume of byDevice.values()) {
    const check = await checkSpace(volume.path, volume.bytesNeeded, { margin: CACHE_MODELS_MARGIN, freeSpace });
    volume.bytesRequired = check.bytesRequired;
    if (check.bytesFree !== undefined) volume.bytesFree = check.bytesFree;
    volume.fits = check.fits;
  }
  return [...byDevice.values()];
}

function insufficientSpace(plan: CacheModelsPlan): MlcacheError {
  const short = plan.volumes.filter((v) => !v.fits);
  const lines = short.map(
    (v) =>
      `${v.roots.join(' and ')}: ${formatBytes(v.bytesNeeded)} to download (+ margin = ${formatBytes(v.bytesRequired)}), ` +
      `${formatBytes(v.bytesFree ?? 0)} free on ${v.path}`,
  );
  const shortRoots = new Set(short.flatMap((v) => v.roots));
  const largest = plan.entries
    .filter((e) => e.bytesNeeded > 0 && [...shortRoots].some((r) => e.destination.startsWith(r)))
    .sort((a, b) => b.bytesNeeded - a.bytesNeeded)
    .slice(0, 3)
    .map((e) => `${e.group}/${e.name} (${formatBytes(e.bytesNeeded)})`);
  return new MlcacheError('INSUFFICIENT_SPACE', `Not enough disk space; nothing was downloaded.\n  ${lines.join('\n  ')}`, {
    hint: `Free some space, point --cache-dir / --torch-home at a larger disk, or leave out the largest: ${largest.join(', ')}.`,
    details: { volumes: short, largest },
  });
}

async function loadAndPlan(options: CacheModelsOptions, runtime: Runtime, opened: { registry?: EntryRegistry | undefined }): Promise<PlannedWork> {
  const { catalog, sources } = await loadCatalog({
    cwd: options.settings.cwd,
    catalogPath: options.catalogPath,
    envCatalogPath: options.settings.catalogPath,
    ...(options.shippedCatalogPath ? { shippedPath: options.shippedCatalogPath } : {}),
  });
  // --frozen / --locked: the lock must agree with the catalog before anything is planned.
  const lockedRun =
    options.frozen === true || options.locked === true
      ? await prepareLockedRun({
          ...options,
          catalog,
          platform: options.platform ?? { os: process.platform, arch: process.arch },
          mode: options.frozen === true ? 'frozen' : 'locked',
        })
      : undefined;
  // Offline (HF_HUB_OFFLINE) still works registry-first: an air-gapped rack's only source.
  const registry = (opened.registry = await openEntryRegistry(options, runtime, catalog.registry));
  if (!registry) verifyOnline(options.settings);
  const work = await buildPlan(lockedRun ? { ...options, ...lockedRun.selection } : options, runtime, catalog, sources, registry, lockedRun);
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

/** The plan alone (what --dry-run prints). Writes nothing. */
export async function planCacheModels(options: CacheModelsOptions): Promise<CacheModelsPlan> {
  await verifyCacheDir(options.settings.hubCache, options.settings.hubCacheSource);
  const runtime = await runtimeFor(options);
  const opened: { registry?: EntryRegistry | undefined } = {};
  try {
    return (await loadAndPlan(options, runtime, opened)).plan;
  } finally {
    await opened.registry?.client.close();
    await runtime.close();
  }
}

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

async function executeEntry(
  options: CacheModelsOptions,
  runtime: Runtime,
  planEntry: CacheModelsPlanEntry,
  selected: SelectedEntry,
  snapshot: SnapshotPlan | undefined,
  registrySource: PlannedWork['registrySources'][number],
  registry: EntryRegistry | undefined,
): Promise<CacheModelsEntryResult> {
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
    const pushed = registry && options.pushMissing === true && !registrySource ? await pushEntry(registry, options, selected) : undefined;
    return done({
      status: result.filesFetched > 0 || result.bytesFetched > 0 ? 'fetched' : 'cached',
      bytesFetched: result.bytesFetched,
      bytesCached: result.bytesCached,
      ...(pushed ?? {}),
    });
  } catch (error) {
    return done({ status: 'failed', error: errorInfo(error) });
  }
}

/** Plan, check space, then fetch everything selected through one engine. */
export async function cacheModels(options: CacheModelsOptions): Promise<CacheModelsResult> {
  const started = Date.now();
  await verifyCacheDir(options.settings.hubCache, options.settings.hubCacheSource);
  const runtime = await runtimeFor(options);
  const opened: { registry?: EntryRegistry | undefined } = {};
  try {
    const work = await loadAndPlan(options, runtime, opened);
    const registry = opened.registry;
    const { plan } = work;
    if (options.dryRun) {
      return { ok: true, plan, entries: [], bytesFetched: 0, bytesCached: 0, allCached: plan.bytesNeeded === 0, durationMs: Date.now() - started };
    }

    const gated = plan.entries.filter((e) => e.gatedWithoutToken);
    for (const e of gated) {
      options.onEvent?.({
        type: 'warning',
        message: `${e.repo ?? e.name} is gated and no token was found: request access at ${e.accessUrl ?? ''} and set HF_TOKEN (or --token).`,
      });
    }
    if (gated.length > 0 && options.interactive === true && options.yes !== true && options.confirm) {
      const go = await options.confirm(`${gated.length} gated repo(s) cannot be fetched without a token. Continue with the rest?`);
      if (!go) {
        throw new MlcacheError('GATED_REPO', `Stopped before downloading: ${gated.map((e) => e.repo ?? e.name).join(', ')} need a token.`, {
          hint: `Request access at ${gated.map((e) => e.accessUrl).join(', ')}, then set HF_TOKEN (or pass --token) and run again.`,
        });
      }
    }

    // --skip-space-check: the plan still says which volume is short, but nothing is refused.
    if (!plan.fits && options.skipSpaceCheck !== true) throw insufficientSpace(plan);

    const entries = await Promise.all(
      plan.entries.map(async (planEntry, i) => {
        const result = await executeEntry(options, runtime, planEntry, work.selected[i]!, work.snapshots[i], work.registrySources[i], registry);
        options.onEvent?.({ type: 'entry-done', entry: result });
        return result;
      }),
    );
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
    const bytesFetched = entries.reduce((n, e) => n + e.bytesFetched, 0);
    const bytesCached = entries.reduce((n, e) => n + e.bytesCached, 0);
    return {
      ok: entries.every((e) => e.status !== 'failed' || e.optional),
      plan,
      entries,
      bytesFetched,
      bytesCached,
      allCached: entries.every((e) => e.status === 'cached' || e.status === 'skipped') && entries.some((e) => e.status === 'cached'),
      durationMs: Date.now() - started,
    };
  } finally {
    await opened.registry?.client.close();
    await runtime.close();
  }
}
