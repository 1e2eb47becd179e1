/**
 * `mlcache rm REPO[@REV]`: remove a repo, or one revision of it (its snapshot, the refs naming it,
 * and the blobs no remaining snapshot uses). Blobs shared with another revision stay.
 */
import { verifyCacheDir } from '../cache/verify-cache-dir.js';
import { repoFolderName, scanCache } from '../cache/index.js';
import type { Settings } from '../config/settings.js';
import { MlcacheError } from '../errors.js';
import { parseRepoSpec } from '../hub/repo-id.js';
import { isCommitHash } from '../util/commit-hash.js';
import type { RepoType } from '../hub/types.js';
// The modules one by one, not the barrel (which loads the Hub client and undici for doctor/repair).
import { removeTargets } from '../maintenance/apply-removal.js';
import { repoLabel } from '../maintenance/findings.js';
import { planRemoval, type RemovalPlan } from '../maintenance/prune-plan.js';

export interface RmOptions {
  settings: Settings;
  /** REPO or REPO@REV (branch, tag or commit). */
  spec: string;
  /** @default 'model' */
  repoType?: RepoType | undefined;
  /** Skip the question. */
  yes?: boolean | undefined;
  dryRun?: boolean | undefined;
  /** Asked before deleting (CLI: a TTY prompt). Without it and without `yes`, nothing is deleted. */
  confirm?: ((question: string) => Promise<boolean>) | undefined;
}

export interface RmResult {
  repo: string;
  commit: string | undefined;
  plan: RemovalPlan;
  removed: string[];
  bytesFreed: number;
  dryRun: boolean;
  failed: Array<{ path: string; message: string }>;
}

export async function rm(options: RmOptions): Promise<RmResult> {
  const { settings } = options;
  const { repo, revision } = parseRepoSpec(options.spec, options.repoType ?? 'model');
  await verifyCacheDir(settings.hubCache, settings.hubCacheSource);
  const scan = await scanCache(settings.hubCache);
  const folder = repoFolderName(repo);
  const scanned = scan.repos.find((r) => r.folder === folder);
  if (!scanned) {
    throw new MlcacheError('CACHE_NOT_FOUND', `${repoLabel(repo)} is not in the cache ${settings.hubCache}.`, {
      hint: 'Check the repo id and --repo-type; `mlcache status --all-repos` lists what is cached.',
    });
  }
  let commit: string | undefined;
  if (revision !== undefined) {
    commit = isCommitHash(revision) ? revision : scanned.refs.find((r) => r.name === revision)?.raw.trim();
    if (commit === undefined || !scanned.revisions.some((r) => r.commit === commit)) {
      const known = scanned.revisions.map((r) => `${r.commit.slice(0, 12)}${r.refs.length > 0 ? ` (${r.refs.join(', ')})` : ''}`);
      throw new MlcacheError('REVISION_NOT_FOUND', `${repoLabel(repo)} has no cached revision '${revision}'.`, {
        hint: `Cached revisions: ${known.join(', ') || 'none'}.`,
      });
    }
  }
  const plan = planRemoval(scanned, scan.cacheDir, commit);
  const base = { repo: repoLabel(repo), commit, plan, dryRun: options.dryRun === true };
  if (options.dryRun === true) return { ...base, removed: [], bytesFreed: 0, failed: [] };
  if (options.yes !== true) {
    const what = commit === undefined ? `all of ${repoLabel(repo)}` : `${repoLabel(repo)}@${commit.slice(0, 12)}`;
    const ok = options.confirm ? await options.confirm(`Remove ${what} (${plan.bytes} bytes)?`) : false;
    if (!ok) {
      throw new MlcacheError('USAGE', `Not removing ${what}: ${options.confirm ? 'declined' : 'not on a terminal'}.`, {
        hint: 'Pass --yes to remove without asking.',
      });
    }
  }
  const targets = commit === undefined ? [{ path: plan.paths[0]!, bytes: plan.bytes }, { path: plan.paths[1]!, bytes: 0 }] : plan.paths.map((p) => ({ path: p, bytes: plan.blobs.find((b) => b.path === p)?.bytes ?? 0 }));
  const outcome = await removeTargets(targets);
  return { ...base, removed: outcome.removed, bytesFreed: outcome.bytesFreed, failed: outcome.failed };
}
