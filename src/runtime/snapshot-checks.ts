/**
 * What every command that executes a snapshot plan shares (download, pull, import): the disk
 * preflight against the plan, and the errors for an interrupted run and for failed files.
 */
import path from 'node:path';
import { checkVolumes, localCopyDemand, type SpaceCheck, type SpaceDemand, type VolumeCheck } from '../cache/disk-space.js';
import { repoPaths } from '../cache/repo-paths.js';
import { indexLeftovers, journalPath, listFolder, readJournalFile } from '../download/journal.js';
import { totalLength } from '../download/intervals.js';
import { MlcacheError, REPO_WIDE_CODES, type ErrorCode } from '../errors.js';
import type { FileFailure, PlannedFile, SnapshotPlan } from '../snapshot/index.js';
import { formatBytes } from '../util/bytes.js';

/** The disk preflight: what the plan still needs on the cache's filesystem against what is free there. */
export interface DownloadSpace extends SpaceCheck {
  /** Bytes of the needed blobs already journaled in resumable partials (not fetched again). */
  bytesResumable: number;
  /**
   * Every filesystem the run writes to (the cache's first; a `--local-dir` folder on another
   * filesystem second). The fields above are the cache's volume, except `fits`: every volume fits.
   */
  volumes: VolumeCheck[];
}

/** `--local-dir`: the folder and the files the run will place there (those not already up to date). */
export interface LocalDirPlacement {
  path: string;
  files: readonly PlannedFile[];
}

/**
 * Bytes the plan still needs (each blob once, minus what resumable partials already hold: those
 * blocks are allocated and already missing from the free space), plus with `localDir` the bytes
 * copied into that folder (cache/disk-space.ts `localCopyDemand`), against the free space of each
 * filesystem: the one shared preflight (`checkVolumes`, the margin of a one-repo run).
 */
export async function preflight(
  cacheDir: string,
  plan: SnapshotPlan,
  freeSpace: ((dir: string) => Promise<number>) | undefined,
  localDir?: LocalDirPlacement,
): Promise<DownloadSpace> {
  const bytesResumable = plan.bytesNeeded > 0 ? await journaledBytes(cacheDir, plan) : 0;
  const demands: SpaceDemand[] = [{ dir: cacheDir, bytes: Math.max(0, plan.bytesNeeded - bytesResumable) }];
  if (localDir !== undefined) demands.push(localCopyDemand(localDir.path, localDir.files));
  const volumes = await checkVolumes(demands, { scope: 'repo', freeSpace });
  const { roots: _roots, ...cacheVolume } = volumes[0]!;
  return { ...cacheVolume, fits: volumes.every((v) => v.fits), bytesResumable, volumes };
}

/** Per needed blob, the most bytes any of its journals (`<etag>.<8hex>.mlcache-journal`) records as done. */
async function journaledBytes(cacheDir: string, plan: SnapshotPlan): Promise<number> {
  const { blobsDir } = repoPaths(cacheDir, plan.repo);
  // One listing, indexed by blob name: a lookup per needed blob, not a scan of every journal.
  const leftovers = indexLeftovers(await listFolder(blobsDir));
  if (leftovers.size === 0) return 0;
  let total = 0;
  const seen = new Set<string>();
  for (const f of plan.files) {
    if (f.cached || seen.has(f.etag)) continue;
    seen.add(f.etag);
    let best = 0;
    for (const nonce of leftovers.get(f.etag)?.journals ?? []) {
      const parsed = await readJournalFile(journalPath(path.join(blobsDir, f.etag), nonce));
      if (parsed?.ok === true) best = Math.max(best, Math.min(totalLength(parsed.journal.completed), f.size));
    }
    total += best;
  }
  return total;
}

export function insufficientSpace(repoId: string, space: DownloadSpace): MlcacheError {
  const resumed = space.bytesResumable > 0 ? ` (${formatBytes(space.bytesResumable)} more are already in resumable partial files)` : '';
  const short = space.volumes.filter((v) => !v.fits);
  // The cache's filesystem alone (the usual case): one sentence, as before --local-dir existed.
  const first = short[0] ?? space.volumes[0]!;
  const others = short.slice(1).map((v) => `; ${formatBytes(v.bytesNeeded)} (${formatBytes(v.bytesRequired)} with margin) for ${v.roots.join(' and ')}, but ${formatBytes(v.bytesFree ?? 0)} is free on ${v.path}`);
  const forWhat = first.roots.length === 1 && first.roots[0] === space.volumes[0]!.roots[0] ? '' : ` in ${first.roots.join(' and ')}`;
  return new MlcacheError(
    'INSUFFICIENT_SPACE',
    `Not enough disk space for ${repoId}: it needs ${formatBytes(first.bytesNeeded)}${forWhat} (${formatBytes(first.bytesRequired)} with margin)${first === space.volumes[0] ? resumed : ''}, ` +
      `but ${formatBytes(first.bytesFree ?? 0)} is free on ${first.path}${others.join('')}; nothing was downloaded.`,
    {
      hint: `Free some space or point --cache-dir${space.volumes.length > 1 || first.roots.length > 1 ? ' (or --local-dir)' : ''} at a larger disk; --include/--exclude fetch less, --skip-space-check downloads anyway.`,
      details: { space },
    },
  );
}

export function interrupted(): MlcacheError {
  return new MlcacheError('INTERRUPTED', 'Interrupted; the files and ranges finished so far are kept.', {
    hint: 'Run the same command again to resume where it stopped.',
  });
}

/** Failure codes that tell the user what to fix, before the rest (a full disk fails every file). */
const DECIDING_CODES: readonly ErrorCode[] = ['DISK_FULL', 'PERMISSION', 'GATED_REPO', 'TOKEN_MISSING', 'TOKEN_INVALID', 'FORBIDDEN'];

/**
 * One failure is reported as itself. Several with the same message (a full disk, say) are one
 * sentence naming the files; otherwise a short list. The most actionable cause decides the code
 * and the hint (DISK_FULL over a network error that followed it, for instance).
 */
export function failuresError(repoId: string, failures: FileFailure[], count: number): MlcacheError {
  const deciding = DECIDING_CODES.map((code) => failures.find((f) => f.code === code)).find((f) => f !== undefined) ?? failures[0]!;
  const options = { hint: deciding.hint ?? 'Run the same command again; finished files are kept.', details: { failures } };
  const code = deciding.code as ErrorCode;
  // A refusal of the whole repo (gated, no token …) is one sentence about the repo, whatever the count.
  if (REPO_WIDE_CODES.has(code) && failures.every((f) => f.code === code)) return new MlcacheError(code, deciding.message, options);
  if (count === 1) return new MlcacheError(code, `${repoId}: ${deciding.path}: ${deciding.message}`, options);
  // `failures` holds the first records only (executeSnapshot keeps MAX_FAILURE_RECORDS); `count` is all of them.
  const names = (list: FileFailure[]) => `${list.slice(0, 5).map((f) => f.path).join(', ')}${count > 5 ? ` and ${count - 5} more` : ''}`;
  if (failures.every((f) => f.message === deciding.message)) {
    return new MlcacheError(code, `${count} files of ${repoId} failed: ${deciding.message.replace(/\.$/, '')} (${names(failures)}).`, options);
  }
  const lines = failures.slice(0, 5).map((f) => `  ${f.path}: ${f.message}`);
  const more = count > 5 ? `\n  … and ${count - 5} more` : '';
  return new MlcacheError(code, `${count} files of ${repoId} failed:\n${lines.join('\n')}${more}`, options);
}
