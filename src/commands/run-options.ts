/**
 * Option shapes several commands share, declared once so a field means the same thing in each
 * command that takes it (commander wiring in src/cli/register fills them from the same flags):
 * - `CatalogSelectionOptions`: which catalog entries a run is about (cache-models' selection
 *   flags) — cache-key, lock, offline-check;
 * - `LockfileOptions`: where mlcache.lock is — cache-key, lock, offline-check;
 * - `TransferRunOptions`: a run that plans a snapshot and hands the missing blobs to the one
 *   transfer engine — download, pull.
 * Each command's own interface extends these and adds what only it takes.
 */
import type { Dispatcher } from 'undici';
import type { MachinePlatform } from '../catalog/index.js';
import type { Settings } from '../config/settings.js';
import type { TransferEvent } from '../download/types.js';
import type { RuntimeTuning } from '../runtime/hub-runtime.js';

/** Cache locations, endpoint, proxy and offline mode, from the environment and flags (config/settings.ts). */
export interface SettingsOptions {
  settings: Settings;
}

/** The selection flags as cache-models takes them. None at all means the command's default (its own docs say which). */
export interface CatalogSelectionOptions extends SettingsOptions {
  /** --all: every group. */
  all?: boolean | undefined;
  /** --group NAME (and the shorthand flags). */
  groups?: string[] | undefined;
  /** --model REPO[@REV] */
  models?: string[] | undefined;
  /** --catalog FILE, merged over the shipped catalog. @default settings.catalogPath */
  catalogPath?: string | undefined;
  /** The platform entries are selected for. @default this machine (lock: the existing lock's, else this machine's) */
  platform?: MachinePlatform | undefined;
}

export interface LockfileOptions {
  /** --lockfile PATH. @default lockfilePath(): mlcache.lock beside the project catalog, else in cwd */
  lockfile?: string | undefined;
}

export interface TransferRunOptions extends SettingsOptions {
  /** Plan only: what would be fetched and its size; nothing is written. @default false */
  dryRun?: boolean | undefined;
  /** --connections: parallel connections of the transfer engine. @default runtime's */
  connections?: number | undefined;
  /** --max-rate: bytes per second over all connections. @default unlimited */
  maxRate?: number | undefined;
  /** --skip-space-check: go on even when the disk preflight finds too little free space. @default false */
  skipSpaceCheck?: boolean | undefined;
  /** Free bytes on the filesystem holding a folder (tests). @default statfs: bavail × bsize */
  freeSpace?: ((dir: string) => Promise<number>) | undefined;
  dispatcher?: Dispatcher | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: TransferEvent) => void) | undefined;
  /** Warnings for the user (e.g. patterns ignored because files were named). */
  onWarning?: ((message: string) => void) | undefined;
  /** Stall timeout, retries and request timeouts (runtime/hub-runtime.ts); defaults otherwise. */
  tuning?: RuntimeTuning | undefined;
}
