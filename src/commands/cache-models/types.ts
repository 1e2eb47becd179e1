/**
 * The types of `cache-models`: its options, events and results (the library API, re-exported by
 * index.ts), and `PlannedWork`, what planning hands to execution (plan.ts → execute.ts).
 */
import type { Dispatcher } from 'undici';
import type { SelectedEntry } from '../../catalog/index.js';
import type { Settings } from '../../config/settings.js';
import type { TransferEvent, TransferItem } from '../../download/types.js';
import type { RuntimeTuning } from '../../runtime/hub-runtime.js';
import type { PlacedBy, PlannedFile, SnapshotPlan } from '../../snapshot/index.js';
import type { CacheModelsPlan } from './plan-schema.js';

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
  /** The catalog's `local_dir`: the folder, the files already up to date there, and those written, by how. */
  localDir?: { path: string; upToDate: number; placed: Record<PlacedBy, number> } | undefined;
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

/** Registry-first: where a planned file's bytes come from, for the entries the registry serves. */
export type RegistrySource = (file: PlannedFile) => TransferItem['resolve'];

/** What planning hands to execution: the plan, and per plan entry what executing it needs. */
export interface PlannedWork {
  plan: CacheModelsPlan;
  /** Parallel to plan.entries. */
  selected: SelectedEntry[];
  snapshots: Array<SnapshotPlan | undefined>;
  /** Parallel to plan.entries: the registry's blob source for entries it serves. */
  registrySources: Array<RegistrySource | undefined>;
  /** Parallel to plan.entries: for entries with a `local_dir`, the files to place there. */
  localFiles: Array<PlannedFile[] | undefined>;
}

/** An entry's failure as plans and results carry it. */
export interface ErrorInfo {
  code: string;
  message: string;
  hint?: string | undefined;
}
