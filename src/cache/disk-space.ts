/**
 * The disk preflight shared by `download` and `cache-models`: how many bytes a plan still needs
 * on a filesystem against what statfs says this user may still write there, checked after the
 * plan and before the first byte of file content is requested. ENOSPC during the transfer is
 * still handled (DISK_FULL); the preflight only spares a user a download that cannot finish.
 *
 * huggingface_hub's file_download.py::_check_disk_space does the same comparison per file but
 * only warns; mlcache refuses (INSUFFICIENT_SPACE, exit 9) because a run that fills the disk
 * costs the time of the transfer and leaves the disk full for everything else on the machine.
 *
 * One function, `checkVolumes`, is the preflight of both commands: a run states what it will
 * write where (`SpaceDemand`s: the blobs still needed under the hub cache, URL artifacts under
 * TORCH_HOME, copies into a `--local-dir` / catalog `local_dir` folder — `localCopyDemand`), the
 * demands are grouped by the filesystem (device) of each folder's nearest existing ancestor, and
 * each filesystem is compared with its free space plus one margin.
 *
 * The margin policy (`marginFor`), in one place: a run over one repo (`download`, `pull`,
 * `import`) keeps 1% + 4 MiB; a catalog run (`cache-models`, many repos, often tens of GB, while
 * other programs keep writing) keeps 5% + 1 GiB. Nothing needed needs no margin.
 */
import { stat, statfs } from 'node:fs/promises';
import path from 'node:path';

/** Safety margin over the bytes needed: a share of them plus a fixed amount (metadata, journals, other writers). */
export interface SpaceMargin {
  ratio: number;
  bytes: number;
}

/** cache-models: caching whole catalog groups, 5% plus 1 GiB (other programs keep writing meanwhile). */
export const CACHE_MODELS_MARGIN: SpaceMargin = { ratio: 0.05, bytes: 1024 ** 3 };
/**
 * download: one repo. The margin covers what the blobs cost beyond their bytes (filesystem blocks
 * and metadata, journals, snapshot links, refs, trees/<commit>.json): 1% plus 4 MiB. Larger and a
 * 10 MB download would be refused on a disk with hundreds of MB free.
 */
export const DOWNLOAD_MARGIN: SpaceMargin = { ratio: 0.01, bytes: 4 * 1024 ** 2 };

/** What a run is: one repo, or a whole catalog selection. */
export type SpaceScope = 'repo' | 'catalog';

/** The margin policy (see the file comment). */
export function marginFor(scope: SpaceScope): SpaceMargin {
  return scope === 'repo' ? DOWNLOAD_MARGIN : CACHE_MODELS_MARGIN;
}

export function requiredWithMargin(bytesNeeded: number, margin: SpaceMargin = CACHE_MODELS_MARGIN): number {
  return bytesNeeded <= 0 ? 0 : Math.ceil(bytesNeeded * (1 + margin.ratio)) + margin.bytes;
}

/** Free bytes for this (unprivileged) user on the filesystem holding `dir`: statfs bavail × bsize. */
export async function freeSpace(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/** The nearest existing ancestor of `p` (itself included): where a not-yet-created cache will live. */
export async function existingAncestor(p: string): Promise<string> {
  let dir = path.resolve(p);
  for (;;) {
    try {
      await stat(dir);
      return dir;
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) return dir;
      dir = parent;
    }
  }
}

/** The existing folder that stands for `dir` on its filesystem, and that filesystem's device id. */
export async function volumeOf(dir: string): Promise<{ path: string; device: number }> {
  const existing = await existingAncestor(dir);
  return { path: existing, device: (await stat(existing)).dev };
}

export interface SpaceCheck {
  /** The existing folder statfs was asked about. */
  path: string;
  /** Device id of that folder (to group roots on one filesystem). */
  device: number;
  bytesNeeded: number;
  /** bytesNeeded plus the margin; 0 when nothing is needed. */
  bytesRequired: number;
  /** Undefined when statfs failed (exotic filesystems): such a check never blocks. */
  bytesFree: number | undefined;
  fits: boolean;
}

/** Compare `bytesNeeded` (plus `margin`) with the free space of the filesystem that holds (or will hold) `dir`. */
export async function checkSpace(
  dir: string,
  bytesNeeded: number,
  options: { margin?: SpaceMargin | undefined; freeSpace?: ((dir: string) => Promise<number>) | undefined } = {},
): Promise<SpaceCheck> {
  const { path: existing, device } = await volumeOf(dir);
  const bytesRequired = requiredWithMargin(bytesNeeded, options.margin);
  let bytesFree: number | undefined;
  try {
    bytesFree = await (options.freeSpace ?? freeSpace)(existing);
  } catch {
    bytesFree = undefined; // unknown: do not block; ENOSPC is still handled
  }
  const fits = bytesNeeded <= 0 || bytesFree === undefined || bytesFree >= bytesRequired;
  return { path: existing, device, bytesNeeded, bytesRequired, bytesFree, fits };
}

/** Bytes a run will write under `dir` (a cache root or a local folder). */
export interface SpaceDemand {
  dir: string;
  bytes: number;
}

/** One filesystem's check, with the folders whose demands it holds (in the order given). */
export interface VolumeCheck extends SpaceCheck {
  roots: string[];
}

/**
 * The one preflight: demands grouped by the filesystem of each folder (its nearest existing
 * ancestor's st_dev), each filesystem's total against its free space plus the margin of `scope`.
 * Volumes come in the order of their first demand; a folder named twice is listed once.
 */
export async function checkVolumes(
  demands: readonly SpaceDemand[],
  options: { scope: SpaceScope; freeSpace?: ((dir: string) => Promise<number>) | undefined },
): Promise<VolumeCheck[]> {
  const byDevice = new Map<number, { path: string; roots: string[]; bytes: number }>();
  for (const demand of demands) {
    const probe = await volumeOf(demand.dir);
    const volume = byDevice.get(probe.device) ?? { path: probe.path, roots: [], bytes: 0 };
    if (!volume.roots.includes(demand.dir)) volume.roots.push(demand.dir);
    volume.bytes += Math.max(0, demand.bytes);
    byDevice.set(probe.device, volume);
  }
  const checks: VolumeCheck[] = [];
  for (const volume of byDevice.values()) {
    const check = await checkSpace(volume.path, volume.bytes, { margin: marginFor(options.scope), freeSpace: options.freeSpace });
    checks.push({ ...check, roots: volume.roots });
  }
  return checks;
}

/** Whether two folders (existing or not yet) live on one filesystem. */
export async function sameVolume(a: string, b: string): Promise<boolean> {
  return (await volumeOf(a)).device === (await volumeOf(b)).device;
}

/**
 * The bytes placing files into a local folder adds to its filesystem, beside the blobs the hub
 * cache receives: every file, since each is a copy (snapshot/local-dir.ts never hardlinks). A
 * reflink shares blocks and costs less than counted: the count errs on the safe side.
 */
export function localCopyDemand(localDir: string, files: readonly { size: number }[]): SpaceDemand {
  return { dir: localDir, bytes: files.reduce((n, f) => n + f.size, 0) };
}
