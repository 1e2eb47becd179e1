/**
 * `mlcache bootstrap`: prepare a project root on a fresh machine, in the order of issue 5:
 * detect the hardware, check the existing config (a malformed one is refused before anything
 * changes), create the .cache tree, write config/hardware_cache.json, then optionally cache
 * the models through cache-models. A caching failure never undoes the first steps.
 */
import path from 'node:path';
import { makeDirectory } from '../cache/index.js';
import { loadSettings, type Settings } from '../config/settings.js';
import type { CacheModelsEvent, CacheModelsOptions, CacheModelsPlan, CacheModelsResult } from './cache-models/index.js';
import { cacheDirectories, cacheVariables, type CacheDirectories, type CacheVariables } from '../env/cache-variables.js';
import {
  HARDWARE_CACHE_FILE,
  backupHardwareCache,
  mergeHardwareCache,
  readHardwareCache,
  writeHardwareCache,
  type HardwareCache,
} from '../config/hardware-cache.js';
import { MlcacheError, isMlcacheError } from '../errors.js';
import { probeHardware, type ProbeHardwareOptions } from '../hardware/probe-hardware.js';
import { recommendSettings, type Recommendations } from '../hardware/recommend-settings.js';
import { toHardwareRecord, toRecommendationsRecord } from '../hardware/hardware-record.js';
import type { HardwareInfo } from '../hardware/types.js';
import { errorInfo, type ErrorInfo } from '../util/error-info.js';

/** The cache-models library; injected so tests can pass a stub and the CLI can import it lazily. */
export interface CacheModelsApi {
  planCacheModels(options: CacheModelsOptions): Promise<CacheModelsPlan>;
  cacheModels(options: CacheModelsOptions): Promise<CacheModelsResult>;
}

export type CachingMode = 'cache' | 'skip' | 'ask';

export type BootstrapEvent =
  | { type: 'step'; step: 'detect' | 'check-config' | 'create' | 'write' | 'plan' | 'cache'; message: string }
  | { type: 'plan'; plan: CacheModelsPlan }
  | { type: 'cache-models'; event: CacheModelsEvent };

export interface BootstrapOptions {
  /** Ambient settings (environment, working directory). */
  settings: Settings;
  /** Project root. @default settings.cwd */
  root?: string | undefined;
  /** --cache-models → 'cache', --skip-cache → 'skip'. @default 'ask' */
  caching?: CachingMode | undefined;
  groups?: string[] | undefined;
  all?: boolean | undefined;
  /** Answer yes to the caching question (and to cache-models' questions). */
  yes?: boolean | undefined;
  /** Rewrite a malformed config/hardware_cache.json after backing it up. */
  force?: boolean | undefined;
  token?: string | undefined;
  catalogPath?: string | undefined;
  /** May questions be asked (stdin and stdout are a TTY, not CI, not --json)? @default false */
  interactive?: boolean | undefined;
  /** Asks a yes/no question; required when interactive. */
  confirm?: ((question: string) => Promise<boolean>) | undefined;
  /** The cache-models library, injected (the CLI imports it lazily). */
  cacheModelsApi?: CacheModelsApi | (() => Promise<CacheModelsApi | undefined>) | undefined;
  /** Probe overrides (tests: exec, platform, systemRoot...). */
  probe?: Partial<Omit<ProbeHardwareOptions, 'diskPath'>> | undefined;
  now?: (() => Date) | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: BootstrapEvent) => void) | undefined;
}

export type CachingOutcome =
  | { status: 'done'; result: CacheModelsResult }
  | { status: 'failed'; result?: CacheModelsResult; error?: ErrorInfo; retry: string }
  | { status: 'skipped' | 'declined' | 'unavailable'; reason: string; later: string; plan?: CacheModelsPlan };

export interface BootstrapResult {
  root: string;
  configFile: string;
  configAction: 'created' | 'updated' | 'rewritten';
  backupFile: string | undefined;
  /** Directories this run created (absolute). */
  createdDirs: string[];
  directories: CacheDirectories;
  hardware: HardwareInfo;
  recommendations: Recommendations;
  config: HardwareCache;
  environment: CacheVariables;
  caching: CachingOutcome;
  nextSteps: string[];
}

const CACHE_QUESTION = 'Cache models now? [y/N]';

function groupFlags(options: BootstrapOptions): string {
  const groups = options.groups ?? [];
  if (options.all || groups.length === 0) return '--all';
  return groups.map((g) => `--group ${g}`).join(' ');
}

function quoteArg(value: string): string {
  return /^[\w/.:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

async function ensureDir(dir: string, created: string[]): Promise<void> {
  let first: string | undefined;
  try {
    first = await makeDirectory(dir);
  } catch (error) {
    // A full disk keeps its DISK_FULL (exit 9) and hint; anything else is about the root.
    if (isMlcacheError(error) && error.code === 'DISK_FULL') throw error;
    throw new MlcacheError('FILESYSTEM', `Cannot create ${dir}.`, { cause: error, hint: 'Check the permissions of the project root, or pass --root DIR.' });
  }
  if (first !== undefined) created.push(dir);
}

async function loadApi(source: BootstrapOptions['cacheModelsApi']): Promise<CacheModelsApi | undefined> {
  if (source === undefined) return undefined;
  return typeof source === 'function' ? source() : source;
}

export async function bootstrap(options: BootstrapOptions): Promise<BootstrapResult> {
  const { settings } = options;
  const emit = (event: BootstrapEvent) => options.onEvent?.(event);
  const now = options.now ?? (() => new Date());
  const root = path.resolve(settings.cwd, options.root ?? '.');
  const configFile = path.join(root, HARDWARE_CACHE_FILE);

  emit({ type: 'step', step: 'detect', message: 'Detecting hardware' });
  const hardware = await probeHardware({ env: settings.env, ...options.probe, diskPath: root });
  const recommendations = recommendSettings(hardware);

  // A malformed file is refused before anything on disk changes.
  emit({ type: 'step', step: 'check-config', message: `Reading ${configFile}` });
  let existing: HardwareCache | undefined;
  let backupFile: string | undefined;
  let configAction: BootstrapResult['configAction'] = 'created';
  try {
    existing = await readHardwareCache(configFile);
    if (existing) configAction = 'updated';
  } catch (error) {
    if (!(isMlcacheError(error) && error.code === 'HARDWARE_CACHE_INVALID' && options.force)) throw error;
    backupFile = await backupHardwareCache(configFile, now());
    configAction = 'rewritten';
  }

  const config = mergeHardwareCache({
    existing,
    hardware: toHardwareRecord(hardware),
    recommendations: toRecommendationsRecord(recommendations),
    now: now(),
  });
  const directories = cacheDirectories(config.cache, { root, env: settings.env, home: settings.home });

  emit({ type: 'step', step: 'create', message: 'Creating the cache directories' });
  const createdDirs: string[] = [];
  for (const dir of [directories.base, directories.torchHome, directories.hfHome, directories.hubCache, directories.mlxHome]) {
    await ensureDir(dir, createdDirs);
  }

  emit({ type: 'step', step: 'write', message: `Writing ${configFile}` });
  await writeHardwareCache(configFile, config);

  const environment = cacheVariables(directories);
  const caching = await cachingPhase(options, root, directories, emit);

  const later = `mlcache bootstrap --root ${quoteArg(root)} --cache-models ${groupFlags(options)}`;
  const nextSteps = [
    `eval "$(mlcache env --root ${quoteArg(root)})"   # use the caches in this shell`,
    `mlcache run --root ${quoteArg(root)} -- <command>   # or run one command with them`,
  ];
  if (caching.status !== 'done') nextSteps.unshift(caching.status === 'failed' ? caching.retry : later);
  return {
    root,
    configFile,
    configAction,
    backupFile,
    createdDirs,
    directories,
    hardware,
    recommendations,
    config,
    environment,
    caching,
    nextSteps,
  };
}

async function cachingPhase(
  options: BootstrapOptions,
  root: string,
  dirs: CacheDirectories,
  emit: (event: BootstrapEvent) => void,
): Promise<CachingOutcome> {
  const mode = options.caching ?? 'ask';
  const later = `mlcache bootstrap --root ${quoteArg(root)} --cache-models ${groupFlags(options)}`;
  if (mode === 'skip') return { status: 'skipped', reason: '--skip-cache', later };
  if (mode === 'ask' && !options.interactive) {
    return { status: 'skipped', reason: 'not an interactive terminal, so no question was asked', later };
  }
  const api = await loadApi(options.cacheModelsApi);
  if (!api) return { status: 'unavailable', reason: 'cache-models is not available in this build', later };

  // The hub cache and TORCH_HOME of this project, not of the ambient environment.
  const settings = loadSettings({ env: options.settings.env, cwd: root, cacheDir: dirs.hubCache, torchHome: dirs.torchHome });
  const groups = options.groups ?? [];
  const base: CacheModelsOptions = {
    settings,
    ...(options.all || groups.length === 0 ? { all: true } : { groups }),
    ...(options.yes ? { yes: true } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.catalogPath !== undefined ? { catalogPath: options.catalogPath } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };

  if (mode === 'ask' && !options.yes) {
    emit({ type: 'step', step: 'plan', message: 'Working out what would be downloaded' });
    let plan: CacheModelsPlan | undefined;
    try {
      plan = await api.planCacheModels({ ...base, interactive: false });
      emit({ type: 'plan', plan });
    } catch (error) {
      const e = errorInfo(error);
      emit({ type: 'step', step: 'plan', message: `Could not work out the download size: ${e.message}` });
    }
    const yes = options.confirm ? await options.confirm(CACHE_QUESTION) : false;
    if (!yes) return { status: 'declined', reason: 'answered no', later, ...(plan ? { plan } : {}) };
  }

  emit({ type: 'step', step: 'cache', message: 'Caching models' });
  const retry = later;
  try {
    const result = await api.cacheModels({
      ...base,
      interactive: options.interactive === true && !options.yes,
      ...(options.confirm ? { confirm: options.confirm } : {}),
      onEvent: (event) => emit({ type: 'cache-models', event }),
    });
    return result.ok ? { status: 'done', result } : { status: 'failed', result, retry };
  } catch (error) {
    return { status: 'failed', error: errorInfo(error), retry };
  }
}
