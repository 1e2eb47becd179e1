/**
 * The importer's apply step: each planned snapshot is rebuilt as `pull` rebuilds one — tar layers
 * unpacked first, then `executeSnapshot` whose `deliver` waits for the layer to be staged, checks
 * its size and the blob name's own digest (git sha1 for a regular file), and hard-links it into
 * `blobs/` (temp in the repo's `.mlcache-tmp/`, then commitBlob). The ref comes last, written by
 * executeSnapshot, so it only ever points at a whole snapshot.
 */
import fs from 'node:fs/promises';
import { commitBlob, createRepoTemp } from '../cache/index.js';
import type { TransferItem } from '../download/types.js';
import { IntegrityError, MlcacheError } from '../errors.js';
import type { RepoRef } from '../hub/types.js';
import { executeSnapshot, unpackArchive } from '../snapshot/index.js';
import { hashFile } from '../util/hash.js';
import type { ImageWork } from './import-plan.js';
import { bundleInvalid } from './layout.js';
import type { StagedBlobs } from './staged-blobs.js';

export interface ImportedSnapshot {
  refName?: string | undefined;
  repoId: string;
  repoType: RepoRef['type'];
  revision: string;
  commit: string;
  snapshotDir: string;
  files: number;
  /** Blobs this run put into the repo's blobs/ (the others were there already). */
  filesImported: number;
  bytesImported: number;
}

export interface ExecuteImportOptions {
  cacheDir: string;
  /** Copy blobs into snapshots instead of symlinking (HF_HUB_DISABLE_SYMLINKS). */
  copy?: boolean | undefined;
  signal: AbortSignal;
  staged: StagedBlobs;
}

export async function executeImport(work: readonly ImageWork[], options: ExecuteImportOptions): Promise<ImportedSnapshot[]> {
  const { cacheDir, signal, staged } = options;
  const snapshots: ImportedSnapshot[] = [];
  for (const w of work) {
    signal.throwIfAborted();
    const { repo, commit } = w.identity;
    // Tar layers first: the ref (written by executeSnapshot, last) then points at a whole snapshot.
    const seenPaths = new Set(w.contents.files.map((f) => f.path));
    for (const archive of w.contents.archives) {
      const file = await staged.whenReady(archive.sha256, `layer ${archive.label}`);
      await unpackArchive({ cacheDir, repo, commit, copy: options.copy === true, signal }, archive, file, seenPaths);
    }
    let firstError: Error | undefined;
    let bytesImported = 0;
    const deliver = async (file: { path: string; size: number; etag: string }, item: TransferItem): Promise<number> => {
      try {
        const hex = w.layerOf.get(file.etag);
        if (hex === undefined) throw bundleInvalid(`${repo.id}: ${file.path} has no layer in the bundle.`);
        const blob = await staged.whenReady(hex, `layer ${file.path} of ${w.entry.refName ?? repo.id}`);
        const st = await fs.stat(blob);
        if (st.size !== file.size) {
          throw bundleInvalid(`The layer of ${repo.id}: ${file.path} is ${st.size} bytes, but its manifest says ${file.size}.`);
        }
        if (item.digest.algorithm !== 'sha256' || item.digest.hex !== hex) {
          const actual = await hashFile(blob, item.digest.algorithm, { signal });
          if (actual !== item.digest.hex) {
            throw new IntegrityError(
              `${repo.id}: ${file.path}: the layer's bytes hash to ${item.digest.algorithm} ${actual.slice(0, 12)}…, not the blob name ${item.digest.hex.slice(0, 12)}… its manifest gives.`,
              { expected: item.digest.hex, actual, algorithm: item.digest.algorithm },
              { hint: 'The bundle\'s manifest is inconsistent: export it again with mlcache. Nothing wrong was written to the cache.' },
            );
          }
        }
        const temp = await createRepoTemp(cacheDir, repo, 'copy', (p) => linkOrCopy(blob, p));
        await commitBlob(temp, item.destination);
        bytesImported += file.size;
        return file.size;
      } catch (error) {
        firstError ??= error as Error;
        throw error;
      }
    };
    const result = await executeSnapshot({ deliver, cacheDir, copy: options.copy, signal }, w.plan);
    signal.throwIfAborted();
    if (result.failureCount > 0) throw firstError ?? new MlcacheError('INTERNAL', result.failures[0]?.message ?? 'import failed');
    snapshots.push({
      refName: w.entry.refName,
      repoId: repo.id,
      repoType: repo.type,
      revision: w.plan.revision,
      commit,
      snapshotDir: w.plan.snapshotDir,
      files: w.plan.files.length + w.contents.archives.length,
      filesImported: result.filesFetched,
      bytesImported,
    });
  }
  return snapshots;
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await fs.link(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Another filesystem, or one without hard links: copy (reflink where the filesystem can).
    if (code === 'EXDEV' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EMLINK') await fs.copyFile(from, to, fs.constants.COPYFILE_FICLONE | fs.constants.COPYFILE_EXCL);
    else throw error;
  }
}
