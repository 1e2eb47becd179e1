/**
 * The disk preflight shared by `download` and `cache-models`: how many bytes a plan still needs
 * on a filesystem against what statfs says this user may still write there, checked after the
 * plan and before the first byte of file content is requested. ENOSPC during the transfer is
 * still handled (DISK_FULL); the preflight only spares a user a download that cannot finish.
 *
 * huggingface_hub's file_download.py::_check_disk_space does the same comparison per file but
 * only warns; mlcache refuses (INSUFFICIENT_SPACE, exit 9) because a run that fills the disk
 * costs the time of the transfer and leaves the disk full for everything else on the machine.
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
