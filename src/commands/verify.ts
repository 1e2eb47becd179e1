/**
 * `mlcache verify [REPO...] [--group G]... [--all] [--repair]`: re-hash the cache and report every
 * finding (src/maintenance/findings.ts lists the kinds). `--repair` fixes what it can and fetches
 * only what is bad. `intact` decides the exit code (CACHE_DAMAGED when false).
 */
import type { Dispatcher } from 'undici';
import { verifyCacheDir } from '../cache/verify-cache-dir.js';
import type { Catalog, MachinePlatform, SelectedEntry } from '../catalog/index.js';
import type { Settings } from '../config/settings.js';
import type { TransferEvent } from '../download/types.js';
import { parseRepoSpec } from '../hub/index.js';
import type { RepoType } from '../hub/types.js';
import {
  isIntact,
  repairFindings,
  catalogSelection,
  selectForMaintenance,
  verifyCache,
  type Finding,
  type RepairSummary,
} from '../maintenance/index.js';
import { createRuntime, verifyOnline } from '../runtime/hub-runtime.js';
import { lockedAsSelected, lockfilePath, readLockfile } from '../lock/index.js';

export interface VerifyOptions {
  settings: Settings;
  /** REPO arguments (REPO or REPO@REV; the revision is ignored: every revision is verified). */
  repos?: string[] | undefined;
  /** @default 'model' */
  repoType?: RepoType | undefined;
  groups?: string[] | undefined;
  /** Every cached repo and every catalog group. */
  all?: boolean | undefined;
  repair?: boolean | undefined;
  catalogPath?: string | undefined;
  catalog?: Catalog | undefined;
  platform?: MachinePlatform | undefined;
  /** Files hashed at once. @default 2 */
  concurrency?: number | undefined;
  token?: string | undefined;
  dispatcher?: Dispatcher | undefined;
  connections?: number | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: TransferEvent) => void) | undefined;
  /** --frozen: check the entries of mlcache.lock at their locked commits (files, and URL artifacts' locked sha256). */
  frozen?: boolean | undefined;
  /** --lockfile PATH */
  lockfile?: string | undefined;
}

export interface VerifyResult {
  intact: boolean;
  hubCache: string;
  repos: string[];
  filesHashed: number;
  bytesHashed: number;
  findings: Finding[];
  /** Counts per severity, before repair. */
  counts: { damage: number; warning: number; info: number };
  repair: RepairSummary | undefined;
}

export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  const { settings } = options;
  await verifyCacheDir(settings.hubCache, settings.hubCacheSource);
  const repos = (options.repos ?? []).map((spec) => parseRepoSpec(spec, options.repoType ?? 'model').repo);
  let entries: SelectedEntry[] = [];
  if (options.all === true || (options.groups?.length ?? 0) > 0) {
    const selection = await selectForMaintenance({ ...catalogSelection(options), usePresets: false });
    entries = selection.entries;
  }
  if (options.frozen === true) {
    const lock = await readLockfile(lockfilePath({ cwd: settings.cwd, lockfile: options.lockfile, catalogPath: options.catalogPath ?? settings.catalogPath }));
    entries = [...entries, ...lock.entries.map(lockedAsSelected)];
  }
  if (options.repair === true) verifyOnline(settings);

  const report = await verifyCache({
    cacheDir: settings.hubCache,
    torchHome: settings.torchHome,
    repos,
    entries,
    allRepos: options.all === true || (repos.length === 0 && entries.length === 0),
    concurrency: options.concurrency,
    signal: options.signal,
    onEvent: options.onEvent,
  });
  const counts = { damage: 0, warning: 0, info: 0 };
  for (const f of report.findings) counts[f.severity]++;

  let repair: RepairSummary | undefined;
  if (options.repair === true && counts.damage > 0) {
    const runtime = await createRuntime({
      settings,
      token: options.token,
      dispatcher: options.dispatcher,
      connections: options.connections,
      signal: options.signal,
      onEvent: options.onEvent,
    });
    try {
      repair = await repairFindings(
        { hub: runtime.hub, engine: runtime.engine, dispatcher: runtime.dispatcher, cacheDir: settings.hubCache, torchHome: settings.torchHome, copy: settings.disableSymlinks, signal: options.signal },
        report.findings,
        report.scan,
        entries,
      );
    } finally {
      await runtime.close();
    }
  }
  return {
    intact: isIntact(report.findings),
    hubCache: settings.hubCache,
    repos: report.repos,
    filesHashed: report.filesHashed,
    bytesHashed: report.bytesHashed,
    findings: report.findings,
    counts,
    repair,
  };
}
