/**
 * Rebuilding HF cache snapshots from an OCI image layout, read once, in whatever order its entries
 * come (a pipe cannot be rewound).
 *
 * Every blob that arrives is written to a staging folder inside the cache
 * (`<cache>/.locks/mlcache-import/sha256/`), hashed as it streams and renamed to its digest only when the
 * hash matches (INTEGRITY otherwise, and nothing of it is kept). Once `oci-layout`, `index.json`
 * and the manifests and configs it names are in (mlcache's tars put them first; skopeo's put them
 * last), each manifest goes through the same path as `pull`: readArtifactManifest →
 * artifactIdentity → artifactTree → planTree → executeSnapshot, whose `deliver` waits for the
 * layer to be staged, checks the blob name's own digest (git sha1 for a regular file), and
 * hard-links it into `blobs/` (temp in the repo's `.mlcache-tmp/`, then commitBlob). Layers the
 * cache already holds are read past, not written. Snapshot links, trees/<commit>.json and refs
 * come out exactly as `download` writes them, the ref last.
 *
 * Resumable: blobs already in the cache are skipped; a killed import leaves verified blobs in the
 * staging folder (reused by the next run) and partials named after their process (removed by the
 * next run once that process is dead); any run that ends on its own removes what it staged.
 *
 * This file is the reading loop and the composition; its parts: import-staging.ts (the staging
 * folder, one blob entry written and verified), staged-blobs.ts (which blobs are staged, who waits
 * for them), import-plan.ts (the plan and the disk preflight), import-execute.ts (the snapshots
 * rebuilt).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ensureCacheRoot, fsError } from '../cache/index.js';
import { MlcacheError } from '../errors.js';
import { readArtifactManifest } from '../modelpack/read-artifact.js';
import { cutValue } from '../util/cut-value.js';
import { createHashWorkerPool } from '../util/hash.js';
import { executeImport, type ImportedSnapshot } from './import-execute.js';
import { planImport, type ImageWork, type ImportPlanState } from './import-plan.js';
import { IMPORT_STAGING_FOLDER, drain, readAll, stageBlob, sweepStaging } from './import-staging.js';
import { MAX_JSON_BYTES, bundleInvalid, classifyEntry, parseIndex, verifyOciLayout, type IndexManifest } from './layout.js';
import type { BlobProgress } from './progress.js';
import type { SourceEntry } from './read-bundle.js';
import { StagedBlobs, missingBlob } from './staged-blobs.js';

export { IMPORT_STAGING_FOLDER } from './import-staging.js';
export type { ImportedSnapshot } from './import-execute.js';

export interface ImportEntriesOptions {
  cacheDir: string;
  /** Copy blobs into snapshots instead of symlinking (HF_HUB_DISABLE_SYMLINKS). */
  copy?: boolean | undefined;
  entries: AsyncIterable<SourceEntry>;
  progress: BlobProgress;
  signal?: AbortSignal | undefined;
  /** Import even when the free space looks too small for the layers still to write. @default false */
  skipSpaceCheck?: boolean | undefined;
  /** Free bytes on the filesystem holding a folder (tests). @default statfs */
  freeSpace?: ((dir: string) => Promise<number>) | undefined;
}

export interface ImportEntriesResult {
  snapshots: ImportedSnapshot[];
  /** Blobs read from the bundle and verified. */
  blobsReceived: number;
  bytesReceived: number;
  /** Blobs read past because the cache (or the staging folder) already held them. */
  blobsSkipped: number;
}

export async function importEntries(options: ImportEntriesOptions): Promise<ImportEntriesResult> {
  const { cacheDir, progress } = options;
  await ensureCacheRoot(cacheDir);
  const stagingRoot = path.join(cacheDir, IMPORT_STAGING_FOLDER);
  const stagingDir = path.join(stagingRoot, 'sha256');
  try {
    await fs.mkdir(stagingDir, { recursive: true });
  } catch (error) {
    throw fsError(error, `create ${stagingDir}`);
  }
  const staged = new StagedBlobs(await sweepStaging(stagingDir));
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) controller.abort(options.signal.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;
  const pool = createHashWorkerPool(1);

  let layoutSeen = false;
  let index: IndexManifest[] | undefined;
  let materializing: Promise<ImportedSnapshot[]> | undefined;
  /** The plans (a few ms): the reading waits for them, so it knows which layers the cache already has. */
  let planning: Promise<ImageWork[]> | undefined;
  const state: ImportPlanState = { labels: new Map(), needed: undefined };
  const labelOf = (hex: string) => state.labels.get(hex) ?? `sha256:${hex.slice(0, 12)}…`;
  let blobsReceived = 0;
  let bytesReceived = 0;
  let blobsSkipped = 0;

  /** Manifests and configs, read back from the staging folder once verified (small: checked). */
  const smallBytes = new Map<string, Buffer>();
  const loadSmall = async (hex: string, what: string): Promise<void> => {
    const file = staged.file(hex);
    if (file === undefined || smallBytes.has(hex)) return;
    const st = await fs.stat(file);
    if (st.size > MAX_JSON_BYTES) throw bundleInvalid(`The ${what} sha256:${hex.slice(0, 12)}… is ${st.size} bytes, over the 4 MiB limit.`);
    smallBytes.set(hex, await fs.readFile(file));
  };
  let materializeError: unknown;
  /** Start once the layout, the index and every manifest (and ModelPack config) it names are staged. */
  const maybeStart = async () => {
    if (materializing !== undefined || !layoutSeen || index === undefined) return;
    for (const m of index) await loadSmall(m.hex, 'manifest');
    if (!index.every((m) => smallBytes.has(m.hex))) return;
    const images = index.map((m) => ({ entry: m, contents: readArtifactManifest(smallBytes.get(m.hex)!) }));
    for (const image of images) if (image.contents.modelConfigDigest !== undefined) await loadSmall(image.contents.modelConfigDigest.slice(7), 'config');
    if (!images.every((i) => i.contents.modelConfigDigest === undefined || smallBytes.has(i.contents.modelConfigDigest.slice(7)))) return;
    planning = planImport(images, state, {
      cacheDir,
      signal,
      smallBytes,
      isStaged: (hex) => staged.has(hex),
      progress,
      skipSpaceCheck: options.skipSpaceCheck,
      freeSpace: options.freeSpace,
    });
    materializing = planning.then((work) => executeImport(work, { cacheDir, copy: options.copy, signal, staged }));
    materializing.catch((error: unknown) => {
      materializeError = error;
      controller.abort(error);
    });
  };

  try {
    for await (const entry of options.entries) {
      signal.throwIfAborted();
      const kind = classifyEntry(entry.name);
      if (entry.type === 'directory' || kind.kind === 'ignored') {
        await drain(entry.body);
        continue;
      }
      if (entry.type === 'missing') continue; // a folder layout without the file: reported as missing below
      if (entry.type !== 'file') {
        throw bundleInvalid(`The bundle holds ${JSON.stringify(cutValue(entry.name))} as a ${entry.type} entry; an OCI image layout holds regular files only.`);
      }
      if (kind.kind === 'oci-layout') {
        verifyOciLayout(await readAll(entry.body, 4096, 'oci-layout'));
        layoutSeen = true;
      } else if (kind.kind === 'index') {
        if (index !== undefined) throw bundleInvalid('The bundle holds two index.json files.');
        index = parseIndex(await readAll(entry.body, MAX_JSON_BYTES, 'index.json'));
      } else {
        const { hex } = kind;
        const { needed } = state;
        if (staged.has(hex) || (needed !== undefined && !needed.has(hex))) {
          await drain(entry.body);
          blobsSkipped++;
          if (needed !== undefined) progress.skip(hex, labelOf(hex), entry.size);
          continue;
        }
        const file = await stageBlob({ dir: stagingDir, hex, entry, label: labelOf(hex), progress, signal, pool });
        blobsReceived++;
        bytesReceived += entry.size;
        staged.markReady(hex, file);
      }
      await maybeStart();
      if (planning !== undefined && state.needed === undefined) await planning.catch(() => undefined);
    }
    staged.endOfInput();
    if (!layoutSeen) throw bundleInvalid('The bundle has no oci-layout file: it is not an OCI image layout.', 'Pass a bundle written by `mlcache export` or `skopeo copy … oci-archive:…` (or such a folder).');
    if (index === undefined) throw bundleInvalid('The bundle has no index.json: it lists no snapshot.');
    for (const m of index) if (!staged.has(m.hex)) throw missingBlob(m.hex, `manifest ${m.refName ?? ''}`.trim());
    await maybeStart();
    if (materializing === undefined) throw bundleInvalid('The bundle lacks the config blob of one of its manifests.');
    staged.rejectWaiting((hex) => state.labels.get(hex) ?? 'a layer');
    const snapshots = await materializing;
    return { snapshots, blobsReceived, bytesReceived, blobsSkipped };
  } catch (error) {
    // The first failure is the one to report: a failed plan aborts the reading, a bad blob aborts the plan.
    const primary = materializeError ?? error;
    staged.endOfInput();
    controller.abort(error);
    staged.rejectWaiting((hex) => state.labels.get(hex) ?? 'a layer');
    await materializing?.catch(() => undefined);
    if (options.signal?.aborted) throw interrupted();
    throw primary;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await pool.close();
    // Whether it succeeded or failed, a run that ends on its own leaves nothing staged (a kill does:
    // the next run reuses it). A failure keeps the blobs already moved into blobs/: they are verified.
    for (const hex of staged.used) await fs.rm(path.join(stagingDir, hex), { force: true }).catch(() => undefined);
    await fs.rmdir(stagingDir).catch(() => undefined);
    await fs.rmdir(stagingRoot).catch(() => undefined);
  }
}

function interrupted(): MlcacheError {
  return new MlcacheError('INTERRUPTED', 'Interrupted; the blobs imported so far are kept in the cache.', {
    hint: 'Run the same import again: what is already in the cache is skipped.',
  });
}
