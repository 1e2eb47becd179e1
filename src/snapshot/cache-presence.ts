/**
 * What the cache already holds for a plan, from streamed listings rather than a stat per file:
 * which blobs are in blobs/ (and the transfer engine's leftovers of blobs already complete), which
 * snapshot pointers exist, and the temps an older mlcache left in the snapshot folders.
 */
import type { Dir, Dirent } from 'node:fs';
import { lstat, opendir, stat } from 'node:fs/promises';
import path from 'node:path';
import { repoPaths } from '../cache/index.js';
import { indexLeftovers, journalPath, partialPath } from '../download/journal.js';
import type { RepoRef } from '../hub/types.js';
import { runPool } from '../util/run-pool.js';
import { SLICE } from './checkpoint.js';
import type { PlannedFile } from './plan.js';

/** Folders listed at once while planning. */
const LIST_CONCURRENCY = 8;

/**
 * The etags of `files` that are in blobs/, from one streamed listing of the folder (a million-blob
 * folder is never held as one array). A regular file under the blob's name is a blob: blobs are
 * content-addressed and only ever renamed into place whole, after verification (commitBlob), the
 * way huggingface_hub's hf_hub_download trusts `os.path.exists(blob_path)`; `mlcache verify`
 * re-hashes them. An entry that is not plainly a file (a symlink, as huggingface_hub's shared blob
 * store makes, or a filesystem that reports no type) is stat()ed and must be a file of the size.
 */
export async function presentBlobs(
  cacheDir: string,
  repo: RepoRef,
  files: readonly PlannedFile[],
  signal: AbortSignal | undefined,
): Promise<{ present: Set<string>; spentLeftovers: string[] }> {
  const sizes = new Map<string, number>();
  for (const f of files) sizes.set(f.etag, f.size);
  const present = new Set<string>();
  const blobsDir = repoPaths(cacheDir, repo).blobsDir;
  /** The engine's own leftovers (few: one per interrupted file at most). */
  const leftoverNames: string[] = [];
  await forEachEntry(blobsDir, async (entry) => {
    const size = sizes.get(entry.name);
    if (size === undefined) {
      if (/\.(?:incomplete|mlcache-journal|tmp)$/.test(entry.name)) leftoverNames.push(entry.name);
      return;
    }
    if (entry.isFile()) {
      present.add(entry.name);
    } else if (entry.isSymbolicLink() || isUnknownType(entry)) {
      const st = await stat(path.join(blobsDir, entry.name)).catch(() => undefined);
      if (st?.isFile() === true && st.size === size) present.add(entry.name);
    }
  }, signal);
  const spentLeftovers: string[] = [];
  for (const [base, left] of indexLeftovers(leftoverNames)) {
    if (!present.has(base)) continue;
    for (const nonce of new Set([...left.journals, ...left.partials])) {
      spentLeftovers.push(journalPath(path.join(blobsDir, base), nonce), partialPath(path.join(blobsDir, base), nonce));
    }
    for (const name of left.temps) spentLeftovers.push(path.join(blobsDir, name));
  }
  return { present, spentLeftovers };
}

/**
 * Set `linked` on each cached file whose pointer exists, from one listing per snapshot folder. A
 * pointer at `snapshots/<commit>/<path>` can only ever be this commit's file: a link, or a copy
 * renamed into place whole. Returns the temp names an older mlcache left in those folders
 * (`<name>.<8hex>.tmp`, `.mlcache-<8hex>.tmp`; never a file of the tree) for executeSnapshot to
 * remove.
 */
export async function markLinked(snapshotDir: string, files: readonly PlannedFile[], treePaths: ReadonlySet<string>, signal: AbortSignal | undefined): Promise<string[]> {
  const folders = new Map<string, Map<string, PlannedFile>>();
  for (const f of files) {
    const slash = f.path.lastIndexOf('/');
    const folder = slash === -1 ? '' : f.path.slice(0, slash);
    let names = folders.get(folder);
    if (names === undefined) folders.set(folder, (names = new Map<string, PlannedFile>()));
    names.set(f.path.slice(slash + 1), f);
  }
  const strays: string[] = [];
  const list = [...folders];
  await runPool(list.length, LIST_CONCURRENCY, async (index) => {
    const [folder, names] = list[index]!;
    const dir = folder === '' ? snapshotDir : path.join(snapshotDir, ...folder.split('/'));
    await forEachEntry(dir, async (entry) => {
      const file = names.get(entry.name);
      if (file !== undefined) {
        if (!file.cached) return;
        if (entry.isSymbolicLink() || entry.isFile()) file.linked = true;
        else if (isUnknownType(entry)) file.linked = (await lstat(path.join(dir, entry.name)).catch(() => undefined))?.isDirectory() === false;
      } else if (LEGACY_TEMP.test(entry.name) && !treePaths.has(folder === '' ? entry.name : `${folder}/${entry.name}`)) {
        strays.push(path.join(dir, entry.name));
      }
    }, signal);
  }, () => signal?.aborted === true);
  signal?.throwIfAborted();
  return strays;
}

/** Temp names mlcache ≤ 0.x wrote next to a pointer (util/atomic-write.ts tempSibling). */
const LEGACY_TEMP = /\.[0-9a-f]{8}\.tmp$/;

function isUnknownType(entry: Dirent): boolean {
  return !entry.isFile() && !entry.isDirectory() && !entry.isSymbolicLink() && !entry.isFIFO() && !entry.isSocket() && !entry.isBlockDevice() && !entry.isCharacterDevice();
}

/**
 * Each entry of `dir`, streamed (opendir); nothing when it does not exist or cannot be read. An
 * abort (checked every SLICE entries) stops the listing and is rethrown.
 */
async function forEachEntry(dir: string, visit: (entry: Dirent) => Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  let handle: Dir;
  try {
    handle = await opendir(dir, { bufferSize: 256 });
  } catch {
    return;
  }
  let seen = 0;
  try {
    for await (const entry of handle) {
      if (++seen % SLICE === 0 && signal?.aborted === true) break;
      await visit(entry);
    }
  } catch {
    // An unreadable folder: what was not seen is planned as missing, and fetched or linked again.
  }
  signal?.throwIfAborted();
}
