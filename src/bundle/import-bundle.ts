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
 */
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  HOST_TAG,
  STALE_TEMP_MS,
  commitBlob,
  createRepoTemp,
  ensureCacheRoot,
  isProcessAlive,
} from '../cache/index.js';
import { DOWNLOAD_MARGIN, checkSpace } from '../cache/disk-space.js';
import type { TransferItem } from '../download/types.js';
import { IntegrityError, MlcacheError, isMlcacheError } from '../errors.js';
import type { RepoRef } from '../hub/types.js';
import { readArtifactManifest, readModelConfig, type ArtifactContents } from '../modelpack/read-artifact.js';
import { artifactIdentity, artifactTree, executeSnapshot, planTree, unpackArchive, type ArtifactIdentity, type SnapshotPlan } from '../snapshot/index.js';
import { formatBytes } from '../util/bytes.js';
import { fsError } from '../util/fs-error.js';
import { randomHex8 } from '../util/random-suffix.js';
import { cutValue } from '../util/cut-value.js';
import { createHashWorkerPool, hashFile, type FileHashWorker, type HashWorkerPool } from '../util/hash.js';
import { MAX_JSON_BYTES, bundleInvalid, classifyEntry, parseIndex, splitRefName, verifyOciLayout, type IndexManifest } from './layout.js';
import type { BlobProgress } from './progress.js';
import type { SourceEntry } from './read-bundle.js';

/**
 * The staging folder, relative to the cache root: inside `.locks/`, which every cache reader skips
 * (huggingface_hub's scan_cache_dir, @huggingface/hub's scanCacheDir), so a killed import's staged
 * blobs never make a scanner warn; on the cache's filesystem, so placing a blob is a hard link.
 */
export const IMPORT_STAGING_FOLDER = path.join('.locks', 'mlcache-import');

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

export interface ImportEntriesResult {
  snapshots: ImportedSnapshot[];
  /** Blobs read from the bundle and verified. */
  blobsReceived: number;
  bytesReceived: number;
  /** Blobs read past because the cache (or the staging folder) already held them. */
  blobsSkipped: number;
}

interface Waiter {
  resolve: (file: string) => void;
  reject: (error: unknown) => void;
}

interface ImageWork {
  entry: IndexManifest;
  contents: ArtifactContents;
  identity: ArtifactIdentity;
  layerOf: Map<string, string>;
  plan: SnapshotPlan;
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
  const ready = await sweepStaging(stagingDir);
  /**
   * What this run staged or found staged (a killed run's blobs, reused or already in the cache):
   * removed when the run ends on its own.
   */
  const used = new Set<string>(ready.keys());
  const waiters = new Map<string, Waiter[]>();
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) controller.abort(options.signal.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;
  const pool = createHashWorkerPool(1);

  let layoutSeen = false;
  let index: IndexManifest[] | undefined;
  let ended = false;
  let materializing: Promise<ImportedSnapshot[]> | undefined;
  /** The plans (a few ms): the reading waits for them, so it knows which layers the cache already has. */
  let planning: Promise<ImageWork[]> | undefined;
  /** Layer blobs the plans still need (undefined until planned: then every blob is staged). */
  let needed: Set<string> | undefined;
  const labels = new Map<string, string>();
  let blobsReceived = 0;
  let bytesReceived = 0;
  let blobsSkipped = 0;

  const markReady = (hex: string, file: string) => {
    ready.set(hex, file);
    used.add(hex);
    for (const w of waiters.get(hex) ?? []) w.resolve(file);
    waiters.delete(hex);
  };
  const readyBlob = (hex: string, what: string): Promise<string> => {
    const file = ready.get(hex);
    if (file !== undefined) {
      used.add(hex);
      return Promise.resolve(file);
    }
    if (ended) return Promise.reject(missingBlob(hex, what));
    return new Promise((resolve, reject) => {
      const list = waiters.get(hex) ?? [];
      list.push({ resolve, reject: (e) => reject(e instanceof MlcacheError ? e : missingBlob(hex, what)) });
      waiters.set(hex, list);
    });
  };

  /** Manifests and configs, read back from the staging folder once verified (small: checked). */
  const smallBytes = new Map<string, Buffer>();
  const loadSmall = async (hex: string, what: string): Promise<void> => {
    const file = ready.get(hex);
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
    planning = planAll(images);
    materializing = planning.then(executeAll);
    materializing.catch((error: unknown) => {
      materializeError = error;
      controller.abort(error);
    });
  };

  async function planAll(images: Array<{ entry: IndexManifest; contents: ArtifactContents }>): Promise<ImageWork[]> {
    const work: ImageWork[] = [];
    for (const { entry, contents } of images) {
      const { repository, tag } = splitRefName(entry.refName);
      const configHex = contents.modelConfigDigest?.slice(7);
      const config = configHex !== undefined ? readModelConfig(smallBytes.get(configHex) ?? Buffer.alloc(0)) : undefined;
      const identity = artifactIdentity(contents, { repository, tag, manifestDigest: `sha256:${entry.hex}`, config });
      const tree = artifactTree(contents);
      // Only the files the bundle carries are placed; the commit's others (a partial snapshot's,
      // in an annotation) go into trees/<commit>.json only, as `pull` does.
      const plan = await planTree(
        { cacheDir, signal },
        { repo: identity.repo, revision: identity.revision, files: tree.carried },
        { commit: identity.commit, tree: tree.carried.length > 0 ? tree.tree : [], treeSource: tree.carried.length > 0 ? tree.treeSource : 'subset' },
      );
      work.push({ entry, contents, identity, layerOf: tree.layerOf, plan });
    }
    // What still has to come from the bundle: the layers of files the cache lacks, and tar layers.
    const want = new Set<string>();
    for (const w of work) {
      for (const file of w.plan.files) {
        const hex = w.layerOf.get(file.etag);
        if (hex === undefined) continue;
        labels.set(hex, `${w.identity.repo.id}: ${file.path}`);
        if (!file.cached) want.add(hex);
      }
      for (const archive of w.contents.archives) {
        labels.set(archive.sha256, `${w.identity.repo.id}: ${archive.label}`);
        want.add(archive.sha256);
      }
    }
    needed = want;
    const sizes = new Map<string, number>();
    for (const w of work) {
      for (const f of w.contents.files) sizes.set(f.sha256, f.size);
      for (const a of w.contents.archives) sizes.set(a.sha256, a.size);
    }
    let bytesToWrite = 0;
    for (const hex of want) {
      if (ready.has(hex)) continue;
      bytesToWrite += sizes.get(hex) ?? 0;
      progress.queue(hex, labels.get(hex) ?? hex, sizes.get(hex) ?? 0);
    }
    // The disk preflight, as download's: what the layers still to come need against what is free.
    const space = await checkSpace(cacheDir, bytesToWrite, { margin: DOWNLOAD_MARGIN, freeSpace: options.freeSpace });
    if (!space.fits && options.skipSpaceCheck !== true) {
      throw new MlcacheError(
        'INSUFFICIENT_SPACE',
        `Not enough disk space to import the bundle: its layers need ${formatBytes(bytesToWrite)} (${formatBytes(space.bytesRequired)} with margin), but ${formatBytes(space.bytesFree ?? 0)} is free on ${space.path}; nothing was imported.`,
        { hint: 'Free some space or point --cache-dir at a larger disk; --skip-space-check imports anyway.', details: { space } },
      );
    }
    return work;
  }

  async function executeAll(work: ImageWork[]): Promise<ImportedSnapshot[]> {
    const snapshots: ImportedSnapshot[] = [];
    for (const w of work) {
      signal.throwIfAborted();
      const { repo, commit } = w.identity;
      // Tar layers first: the ref (written by executeSnapshot, last) then points at a whole snapshot.
      const seenPaths = new Set(w.contents.files.map((f) => f.path));
      for (const archive of w.contents.archives) {
        const file = await readyBlob(archive.sha256, `layer ${archive.label}`);
        await unpackArchive({ cacheDir, repo, commit, copy: options.copy === true, signal }, archive, file, seenPaths);
      }
      let firstError: Error | undefined;
      let bytesImported = 0;
      const deliver = async (file: { path: string; size: number; etag: string }, item: TransferItem): Promise<number> => {
        try {
          const hex = w.layerOf.get(file.etag);
          if (hex === undefined) throw bundleInvalid(`${repo.id}: ${file.path} has no layer in the bundle.`);
          const staged = await readyBlob(hex, `layer ${file.path} of ${w.entry.refName ?? repo.id}`);
          const st = await fs.stat(staged);
          if (st.size !== file.size) {
            throw bundleInvalid(`The layer of ${repo.id}: ${file.path} is ${st.size} bytes, but its manifest says ${file.size}.`);
          }
          if (item.digest.algorithm !== 'sha256' || item.digest.hex !== hex) {
            const actual = await hashFile(staged, item.digest.algorithm, { signal });
            if (actual !== item.digest.hex) {
              throw new IntegrityError(
                `${repo.id}: ${file.path}: the layer's bytes hash to ${item.digest.algorithm} ${actual.slice(0, 12)}…, not the blob name ${item.digest.hex.slice(0, 12)}… its manifest gives.`,
                { expected: item.digest.hex, actual, algorithm: item.digest.algorithm },
                { hint: 'The bundle\'s manifest is inconsistent: export it again with mlcache. Nothing wrong was written to the cache.' },
              );
            }
          }
          const temp = await createRepoTemp(cacheDir, repo, 'copy', (p) => linkOrCopy(staged, p));
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
        if (ready.has(hex) || (needed !== undefined && !needed.has(hex))) {
          await drain(entry.body);
          blobsSkipped++;
          if (needed !== undefined) progress.skip(hex, labels.get(hex) ?? `sha256:${hex.slice(0, 12)}…`, entry.size);
          continue;
        }
        const file = await stage(stagingDir, hex, entry, labels.get(hex) ?? `sha256:${hex.slice(0, 12)}…`, progress, signal, pool);
        blobsReceived++;
        bytesReceived += entry.size;
        markReady(hex, file);
      }
      await maybeStart();
      if (planning !== undefined && needed === undefined) await planning.catch(() => undefined);
    }
    ended = true;
    if (!layoutSeen) throw bundleInvalid('The bundle has no oci-layout file: it is not an OCI image layout.', 'Pass a bundle written by `mlcache export` or `skopeo copy … oci-archive:…` (or such a folder).');
    if (index === undefined) throw bundleInvalid('The bundle has no index.json: it lists no snapshot.');
    for (const m of index) if (!ready.has(m.hex)) throw missingBlob(m.hex, `manifest ${m.refName ?? ''}`.trim());
    await maybeStart();
    if (materializing === undefined) throw bundleInvalid('The bundle lacks the config blob of one of its manifests.');
    for (const [hex, list] of waiters) for (const w of list) w.reject(missingBlob(hex, labels.get(hex) ?? 'a layer'));
    waiters.clear();
    const snapshots = await materializing;
    return { snapshots, blobsReceived, bytesReceived, blobsSkipped };
  } catch (error) {
    // The first failure is the one to report: a failed plan aborts the reading, a bad blob aborts the plan.
    const primary = materializeError ?? error;
    ended = true;
    controller.abort(error);
    for (const [hex, list] of waiters) for (const w of list) w.reject(missingBlob(hex, labels.get(hex) ?? 'a layer'));
    waiters.clear();
    await materializing?.catch(() => undefined);
    if (options.signal?.aborted) throw interrupted();
    throw primary;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await pool.close();
    // Whether it succeeded or failed, a run that ends on its own leaves nothing staged (a kill does:
    // the next run reuses it). A failure keeps the blobs already moved into blobs/: they are verified.
    for (const hex of used) await fs.rm(path.join(stagingDir, hex), { force: true }).catch(() => undefined);
    await fs.rmdir(stagingDir).catch(() => undefined);
    await fs.rmdir(stagingRoot).catch(() => undefined);
  }
}

function missingBlob(hex: string, what: string): MlcacheError {
  return bundleInvalid(`The bundle lacks blob sha256:${hex.slice(0, 12)}… (${what}).`, 'The bundle is incomplete (cut short, or exported without that file): export it again and copy it whole.');
}

function interrupted(): MlcacheError {
  return new MlcacheError('INTERRUPTED', 'Interrupted; the blobs imported so far are kept in the cache.', {
    hint: 'Run the same import again: what is already in the cache is skipped.',
  });
}

/** `<hex>.<host tag>-<pid>-<8hex>.partial` */
const PARTIAL = /^([0-9a-f]{64})\.([0-9a-f]{8})-([0-9]{1,10})-[0-9a-f]{8}\.partial$/;
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The staging folder as a killed run left it: verified blobs (named by their digest) are reused;
 * partials of processes that are gone (or untouched for STALE_TEMP_MS) are removed.
 */
async function sweepStaging(dir: string): Promise<Map<string, string>> {
  const ready = new Map<string, string>();
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    const file = path.join(dir, name);
    if (HEX64.test(name)) {
      ready.set(name, file);
      continue;
    }
    const match = PARTIAL.exec(name);
    const st = await fs.lstat(file).catch(() => undefined);
    if (st === undefined) continue;
    const dead = match !== null && match[2] === HOST_TAG && Number(match[3]) !== process.pid && !isProcessAlive(Number(match[3]));
    if (dead || Date.now() - st.mtimeMs > STALE_TEMP_MS) await fs.rm(file, { force: true }).catch(() => undefined);
  }
  return ready;
}

/** Chunks waiting to be written while the file catches up (the tar reader pauses beyond it). */
const WRITE_HIGH_WATER = 8 * 1024 * 1024;

/**
 * Write one blob entry to the staging folder; renamed to its digest only when its bytes match.
 * The hash runs in a worker thread that reads the file right behind the writes (the page cache
 * serves it), so parsing and writing on this thread and hashing on another overlap: on a 2-core
 * machine the import costs about the hash's time, not the hash's plus the copy's.
 */
async function stage(dir: string, hex: string, entry: SourceEntry, label: string, progress: BlobProgress, signal: AbortSignal, pool: HashWorkerPool): Promise<string> {
  const final = path.join(dir, hex);
  const temp = path.join(dir, `${hex}.${HOST_TAG}-${process.pid}-${randomHex8()}.partial`);
  const count = progress.start(hex, label, entry.size);
  let handle: FileHandle | undefined;
  let job: FileHashWorker | undefined;
  try {
    handle = await fs.open(temp, 'wx');
    job = pool.open(temp, 'sha256', entry.size);
    let position = 0;
    const file = handle;
    const hashJob = job;
    const sink = new Writable({
      highWaterMark: WRITE_HIGH_WATER,
      write(chunk: Buffer, _encoding, done) {
        void (async () => {
          let offset = 0;
          while (offset < chunk.length) {
            const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset, position);
            offset += bytesWritten;
            position += bytesWritten;
          }
          if (position > entry.size) throw bundleInvalid(`The bundle's blob sha256:${hex.slice(0, 12)}… is longer than its tar header says.`);
          hashJob.advanceTo(position);
          count(chunk.length);
        })().then(() => done(), done);
      },
    });
    await pipeline(entry.body, sink, { signal });
    await file.close();
    handle = undefined;
    if (position !== entry.size) throw bundleInvalid(`The bundle's blob sha256:${hex.slice(0, 12)}… is ${position} bytes where its tar header says ${entry.size}.`);
    const actual = await hashJob.digest();
    if (actual !== hex) {
      throw new IntegrityError(
        `The bundle's blob sha256:${hex.slice(0, 12)}… (${label}) holds bytes that hash to sha256:${actual.slice(0, 12)}…; it was altered or damaged.`,
        { expected: hex, actual, algorithm: 'sha256' },
        { hint: 'Nothing of that blob was written to the cache. Copy or export the bundle again (check the medium); run import again: what is imported is kept.' },
      );
    }
    await fs.rename(temp, final);
  } catch (error) {
    progress.fail(hex, label, isMlcacheError(error) ? error.code : 'FILESYSTEM', (error as Error).message);
    await job?.terminate();
    await handle?.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    if (error instanceof MlcacheError || (error as Error)?.name === 'AbortError') throw error;
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code !== undefined && /^E[A-Z]+$/.test(code)) throw fsError(error, `write ${temp}`);
    throw bundleInvalid(`The bundle could not be read at blob sha256:${hex.slice(0, 12)}… (${cutValue((error as Error)?.message ?? String(error))}).`);
  }
  progress.done(hex, label, entry.size, entry.size);
  return final;
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

async function readAll(body: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) throw bundleInvalid(`The bundle's ${what} is over ${limit} bytes; it cannot be a layout's ${what}.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function drain(body: Readable): Promise<void> {
  for await (const _chunk of body) {
    // read past
  }
}
