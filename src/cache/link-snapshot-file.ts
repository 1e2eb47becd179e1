/**
 * Snapshot pointers: `snapshots/<commit>/<path>` → `../../blobs/<etag>` (relative symlink), or a
 * plain copy of the blob where symlinks are unavailable. Never a temp name inside snapshots/.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { MlcacheError } from '../errors.js';
import { fsError } from '../util/fs-error.js';
import { makeDirectory } from './make-directory.js';
import type { CacheRepo } from './repo-folder-name.js';
import { blobPath, relativeBlobTarget, snapshotFilePath } from './repo-paths.js';
import { createRepoTemp } from './repo-temp.js';

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
 * The symlink is created in place: symlink(2) is atomic, so a reader (or a kill) sees no pointer
 * or the whole pointer, never a temp name. When the name exists (EEXIST) and already is this link,
 * nothing is written; anything else there (another link, a stale copy, a folder) is replaced by a
 * link staged in the repo's private `.mlcache-tmp/` and renamed over it, so a concurrent reader
 * never finds the pointer missing (huggingface_hub removes, then links; we avoid that window). No
 * temp ever sits in snapshots/, where huggingface_hub's scan_cache_dir would count it as a file of
 * the revision (repo-temp.ts). The symlink target is relative
 * (`path.relative(dirname(pointer), blob)`), as in huggingface_hub `_create_symlink` and
 * @huggingface/hub `utils/symlink.ts`, so a moved cache keeps working.
 *
 * Copy fallback (options.copy, or no symlink support): the blob is copied to a temp in
 * `.mlcache-tmp/`, then renamed into place, and stays in blobs/. huggingface_hub instead *moves* a
 * freshly downloaded blob into snapshots/; keeping it means the next revision that shares the
 * blob, resume, and dedup all work the same way with or without symlinks, at the cost of disk space.
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

  const useCopy = options.copy === true || !(await symlinksSupported(cacheDir));
  if (!useCopy) {
    const outcome = await placeSymlink(cacheDir, repo, pointerPath, target);
    if (outcome !== 'unsupported') return { pointerPath, mode: 'symlink', changed: outcome === 'created' };
  }

  let temp: string | undefined;
  try {
    temp = await createRepoTemp(cacheDir, repo, 'copy', (t) => fs.copyFile(blob, t, fs.constants.COPYFILE_EXCL));
    await makeDirectory(path.dirname(pointerPath));
    await replaceWith(temp, pointerPath);
  } catch (error) {
    if (temp !== undefined) await fs.rm(temp, { force: true }).catch(() => undefined);
    throw fsError(error, `copy ${blob} to ${pointerPath}`);
  }
  return { pointerPath, mode: 'copy', changed: true };
}

/** Codes of a filesystem that refuses this one symlink (some mounts): it still gets a copy. */
const SYMLINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * symlink(target, pointer) in place; its folder is made only when missing (ENOENT), so the common
 * case costs one system call. EEXIST: see linkSnapshotFile.
 */
async function placeSymlink(cacheDir: string, repo: CacheRepo, pointerPath: string, target: string): Promise<'created' | 'unchanged' | 'unsupported'> {
  let error: unknown;
  try {
    await fs.symlink(target, pointerPath);
    return 'created';
  } catch (first) {
    error = first;
  }
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    await makeDirectory(path.dirname(pointerPath));
    try {
      await fs.symlink(target, pointerPath);
      return 'created';
    } catch (second) {
      error = second;
    }
  }
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (SYMLINK_UNSUPPORTED.has(code)) return 'unsupported';
  if (code !== 'EEXIST') throw fsError(error, `link ${pointerPath}`);
  if (await isSameLink(pointerPath, target)) return 'unchanged';
  let temp: string | undefined;
  try {
    temp = await createRepoTemp(cacheDir, repo, 'link', (t) => fs.symlink(target, t));
    await replaceWith(temp, pointerPath);
    return 'created';
  } catch (replaceError) {
    if (temp !== undefined) await fs.rm(temp, { force: true }).catch(() => undefined);
    // Another process put the same link there first.
    if (await isSameLink(pointerPath, target)) return 'unchanged';
    throw fsError(replaceError, `link ${pointerPath}`);
  }
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
