/**
 * `download --local-dir DIR`: real files at their repo paths, with huggingface_hub's own
 * bookkeeping, so `hf download --local-dir DIR` and mlcache both skip unchanged files.
 *
 * The format is huggingface_hub `_local_folder.py`: `DIR/.cache/huggingface/download/<path>.metadata`
 * holds three lines, `<commit>\n<etag>\n<unix time as a float>\n` (`write_download_metadata`), and
 * `DIR/.cache/huggingface/.gitignore` holds `*`. A file is up to date (`read_download_metadata`,
 * then `_hf_hub_download_to_local_dir` in file_download.py) when its metadata parses, the file's
 * mtime is at most one second after the metadata's timestamp, and the metadata names the commit
 * being downloaded or the file's etag (sha256 for LFS files, git blob sha1 otherwise). mlcache
 * also requires the file's size to match. A file with no usable metadata but the right size is
 * hashed; a match writes the metadata instead of fetching it again.
 *
 * The bytes come from the hub cache (downloaded there first, ranged, resumable and verified by
 * the transfer engine), placed with a reflink when the filesystem can (an independent copy that
 * shares blocks until one side changes), else a copy, through a temp file beside the metadata and
 * a rename, so a reader never sees half a file. Never a hardlink: a tool that patches a file of DIR
 * in place (a fine-tune writing weights back, `dd conv=notrunc`) would patch the cache's blob with
 * it, and every later snapshot and local folder would get the patched bytes under the Hub's hash.
 * huggingface_hub's local_dir never links to the cache either. A blob whose size is not the Hub's
 * is refused.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MlcacheError } from '../errors.js';
import { hashFile } from '../util/hash.js';
import { snapshotFilePath } from '../cache/index.js';
import type { RepoRef } from '../hub/types.js';
import { atomicReplaceFile } from '../util/atomic-write.js';
import { fsError } from '../util/fs-error.js';
import { randomHex8 } from '../util/random-suffix.js';

export interface LocalDownloadPaths {
  file: string;
  metadata: string;
}

export interface DownloadMetadata {
  commit: string;
  etag: string;
  /** Seconds since the epoch, as Python's time.time(). */
  timestamp: number;
}

/** `_huggingface_dir`: DIR/.cache/huggingface. */
export function localHuggingfaceDir(localDir: string): string {
  return path.join(localDir, '.cache', 'huggingface');
}

/** `get_local_download_paths`: the file and its metadata for a repo path (already validated by the plan). Pure. */
export function localDownloadPaths(localDir: string, repoPath: string): LocalDownloadPaths {
  const relative = path.join(...repoPath.split('/'));
  return { file: path.join(localDir, relative), metadata: path.join(localHuggingfaceDir(localDir), 'download', `${relative}.metadata`) };
}

/** `write_download_metadata`'s bytes. Pure. */
export function formatDownloadMetadata(metadata: DownloadMetadata): string {
  return `${metadata.commit}\n${metadata.etag}\n${metadata.timestamp}\n`;
}

/** `read_download_metadata`'s parse: undefined for anything it would reject. Pure. */
export function parseDownloadMetadata(text: string): DownloadMetadata | undefined {
  const [commit, etag, stamp] = text.split('\n').map((l) => l.trim());
  if (!commit || !etag || stamp === undefined || stamp === '') return undefined;
  const timestamp = Number(stamp);
  return Number.isFinite(timestamp) ? { commit, etag, timestamp } : undefined;
}

export interface LocalFileWant {
  path: string;
  size: number;
  etag: string;
  lfs: boolean;
}

/** Whether DIR already holds this file at this commit (see the file comment); writes fresh metadata when a hash proves it. */
export async function localFileIsCurrent(localDir: string, commit: string, want: LocalFileWant, signal?: AbortSignal): Promise<boolean> {
  const paths = localDownloadPaths(localDir, want.path);
  const st = await stat(paths.file).catch(() => undefined);
  if (st === undefined || !st.isFile() || st.size !== want.size) return false;
  const text = await readFile(paths.metadata, 'utf8').catch(() => undefined);
  const metadata = text === undefined ? undefined : parseDownloadMetadata(text);
  if (metadata !== undefined && st.mtimeMs / 1000 - 1 <= metadata.timestamp) {
    if (metadata.commit === commit) return true;
    if (metadata.etag === want.etag) {
      await writeDownloadMetadata(localDir, want.path, commit, want.etag);
      return true;
    }
    return false;
  }
  const digest = await hashFile(paths.file, want.lfs ? 'sha256' : 'git-sha1', { worker: want.size > 64 * 1024 * 1024, signal }).catch(() => undefined);
  if (digest !== want.etag) return false;
  await writeDownloadMetadata(localDir, want.path, commit, want.etag);
  return true;
}

async function ensureHuggingfaceDir(localDir: string): Promise<void> {
  const dir = localHuggingfaceDir(localDir);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, '.gitignore'), '*', { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}

/** The metadata, written through a temp file and a rename (Python writes in place under a lock). */
export async function writeDownloadMetadata(localDir: string, repoPath: string, commit: string, etag: string): Promise<void> {
  await ensureHuggingfaceDir(localDir);
  const { metadata } = localDownloadPaths(localDir, repoPath);
  await mkdir(path.dirname(metadata), { recursive: true });
  await atomicReplaceFile(metadata, formatDownloadMetadata({ commit, etag, timestamp: Date.now() / 1000 }));
}

export type PlacedBy = 'reflink' | 'copy';

/** Put the blob's bytes at DIR/<path> (reflink, else copy; never a hardlink: see the file comment), then its metadata. */
export async function placeLocalFile(localDir: string, blob: string, commit: string, want: LocalFileWant): Promise<PlacedBy> {
  const size = (await stat(blob)).size;
  if (size !== want.size) {
    throw new MlcacheError('CACHE_DAMAGED', `The hub cache's copy of ${want.path} is ${size} bytes, but the Hub lists ${want.size}; it was not copied to ${localDir}.`, {
      hint: 'Run `mlcache verify --repair`, then the same download again.',
      details: { path: want.path, blob },
    });
  }
  await ensureHuggingfaceDir(localDir);
  const paths = localDownloadPaths(localDir, want.path);
  await mkdir(path.dirname(paths.file), { recursive: true });
  await mkdir(path.dirname(paths.metadata), { recursive: true });
  // huggingface_hub's incomplete name (`incomplete_path`), beside the metadata: never where a reader lists DIR.
  const temp = `${paths.metadata.slice(0, -'.metadata'.length)}.${want.etag}.${randomHex8()}.incomplete`;
  let by: PlacedBy;
  try {
    try {
      await copyFile(blob, temp, constants.COPYFILE_FICLONE_FORCE);
      by = 'reflink';
    } catch {
      await rm(temp, { force: true });
      await copyFile(blob, temp);
      by = 'copy';
    }
    await rename(temp, paths.file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw fsError(error, `write ${paths.file}`, {
      diskFull: 'Free disk space, then run the same command again.',
      permission: 'Check that the --local-dir folder is writable.',
      other: 'Check that the --local-dir folder is writable.',
    });
  }
  await writeDownloadMetadata(localDir, want.path, commit, want.etag);
  return by;
}

/** The files of a plan split by what `localDir` already holds at `commit` (`localFileIsCurrent`, in plan order). */
export async function splitByLocalDir<F extends LocalFileWant>(
  localDir: string,
  commit: string,
  files: readonly F[],
  signal?: AbortSignal,
): Promise<{ upToDate: number; stale: F[] }> {
  const stale: F[] = [];
  let upToDate = 0;
  for (const f of files) {
    if (await localFileIsCurrent(localDir, commit, f, signal)) upToDate++;
    else stale.push(f);
  }
  return { upToDate, stale };
}

/**
 * Place `files` (already complete in the hub cache at `commit`) into `localDir`, each from the
 * blob its snapshot entry resolves to (or that entry's own copy with HF_HUB_DISABLE_SYMLINKS).
 * Stops between files once `signal` is aborted (the caller reports the interruption).
 * The one placement path of `download --local-dir` and the catalog's `local_dir`.
 */
export async function placeFromCache(
  args: { cacheDir: string; repo: RepoRef; commit: string; localDir: string; signal?: AbortSignal | undefined },
  files: readonly LocalFileWant[],
): Promise<Record<PlacedBy, number>> {
  const placed: Record<PlacedBy, number> = { reflink: 0, copy: 0 };
  for (const f of files) {
    if (args.signal?.aborted) break;
    const source = await realpath(snapshotFilePath(args.cacheDir, args.repo, args.commit, f.path));
    placed[await placeLocalFile(args.localDir, source, args.commit, f)]++;
  }
  return placed;
}
