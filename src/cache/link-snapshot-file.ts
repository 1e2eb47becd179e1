/**
 * Snapshot pointers: `snapshots/<commit>/<path>` → `../../blobs/<etag>` (relative symlink), or a
 * plain copy of the blob where symlinks are unavailable.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { MlcacheError } from '../errors.js';
import { fsError, tempSibling } from './atomic-write.js';
import { makeDirectory } from './make-directory.js';
import type { CacheRepo } from './repo-folder-name.js';
import { blobPath, relativeBlobTarget, snapshotFilePath } from './repo-paths.js';

export interface LinkSnapshotFileOptions {
  /** Copy the blob instead of linking (HF_HUB_DISABLE_SYMLINKS-style). @default false */
  copy?: boolean;
}

export interface LinkSnapshotFileResult {
  pointerPath: string;
  mode: 'symlink' | 'copy';
  /** False when the pointer already was exactly this symlink (nothing written). */
  changed: boolean;
}

const probes = new Map<string, Promise<boolean>>();

/**
 * Whether relative symlinks can be created in `cacheDir`. Probed once per (resolved) cache dir by
 * creating a relative symlink inside a temp folder under it, as huggingface_hub
 * file_download.py::are_symlinks_supported does (support depends on the mounted filesystem).
 */
export function symlinksSupported(cacheDir: string): Promise<boolean> {
  const key = path.resolve(cacheDir);
  let probe = probes.get(key);
  if (probe === undefined) {
    probe = probeSymlinks(key);
    probes.set(key, probe);
    // A failed probe (e.g. the folder could not be created) is not remembered: retry next time.
    probe.catch(() => probes.delete(key));
  }
  return probe;
}

async function probeSymlinks(cacheDir: string): Promise<boolean> {
  await makeDirectory(cacheDir, `create the cache folder ${cacheDir}`);
  let dir: string;
  try {
    dir = await fs.mkdtemp(path.join(cacheDir, '.mlcache-symlink-probe-'));
  } catch (error) {
    throw fsError(error, `create a folder in ${cacheDir}`);
  }
  try {
    await fs.writeFile(path.join(dir, 'src'), '');
    await fs.symlink('src', path.join(dir, 'dst'));
    return true;
  } catch (error) {
    // A full disk says nothing about symlinks; falling back to copies would need more space.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw fsError(error, `create a file in ${cacheDir}`);
    return false;
  } finally {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Make `snapshots/<commit>/<filePath>` point at `blobs/<etag>`.
 *
 * The pointer is written under a temp name and renamed over the old entry, so a concurrent reader
 * never finds it missing (huggingface_hub removes, then links; we avoid that window). The symlink
 * target is relative (`path.relative(dirname(pointer), blob)`), as in huggingface_hub
 * `_create_symlink` and @huggingface/hub `utils/symlink.ts`, so a moved cache keeps working.
 *
 * Copy fallback (options.copy, or no symlink support): the blob is copied into place and stays in
 * blobs/. huggingface_hub instead *moves* a freshly downloaded blob into snapshots/; keeping it
 * means the next revision that shares the blob, resume, and dedup all work the same way with or
 * without symlinks, at the cost of disk space.
 */
export async function linkSnapshotFile(
  cacheDir: string,
  repo: CacheRepo,
  commit: string,
  filePath: string,
  etag: string,
  options: LinkSnapshotFileOptions = {},
): Promise<LinkSnapshotFileResult> {
  const pointerPath = snapshotFilePath(cacheDir, repo, commit, filePath);
  const blob = blobPath(cacheDir, repo, etag);
  const target = relativeBlobTarget(pointerPath, blob);
  // Never create a dangling pointer: huggingface_hub's scan_cache_dir drops a repo with one.
  const blobStat = await fs.stat(blob).catch(() => undefined);
  if (blobStat?.isFile() !== true) {
    throw new MlcacheError('CACHE_DAMAGED', `Cannot link ${filePath}: blob ${etag} is missing from ${path.dirname(blob)}.`, {
      hint: 'Commit the downloaded blob (commitBlob) before linking it, or re-run the download.',
      details: { path: filePath, etag },
    });
  }
  await makeDirectory(path.dirname(pointerPath));

  const useCopy = options.copy === true || !(await symlinksSupported(cacheDir));
  if (!useCopy) {
    if ((await readLinkOrUndefined(pointerPath)) === target) return { pointerPath, mode: 'symlink', changed: false };
    const temp = tempSibling(pointerPath);
    let linked = false;
    try {
      await fs.symlink(target, temp);
      linked = true;
      await replaceWith(temp, pointerPath);
      return { pointerPath, mode: 'symlink', changed: true };
    } catch (error) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      if (await isSameLink(pointerPath, target)) return { pointerPath, mode: 'symlink', changed: false };
      // A filesystem that refuses this one symlink (EPERM on some mounts) still gets a copy.
      const code = (error as NodeJS.ErrnoException).code;
      if (linked || (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS')) {
        throw fsError(error, `link ${pointerPath}`);
      }
    }
  }

  const temp = tempSibling(pointerPath);
  try {
    await fs.copyFile(blob, temp);
    await replaceWith(temp, pointerPath);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw fsError(error, `copy ${blob} to ${pointerPath}`);
  }
  return { pointerPath, mode: 'copy', changed: true };
}

/** rename(temp, dest), clearing a directory that sits at dest (rename cannot replace one). */
async function replaceWith(temp: string, dest: string): Promise<void> {
  try {
    await fs.rename(temp, dest);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw error;
    const st = await fs.lstat(dest).catch(() => undefined);
    if (st?.isDirectory() !== true) throw error;
    await fs.rm(dest, { recursive: true, force: true });
    await fs.rename(temp, dest);
  }
}

async function readLinkOrUndefined(file: string): Promise<string | undefined> {
  try {
    return await fs.readlink(file);
  } catch {
    return undefined;
  }
}

async function isSameLink(file: string, target: string): Promise<boolean> {
  return (await readLinkOrUndefined(file)) === target;
}
