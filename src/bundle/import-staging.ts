/**
 * The importer's staging folder (`<cache>/.locks/mlcache-import/sha256/`) and the bundle entries
 * written into it: one blob entry at a time, hashed as it streams and renamed to its digest only
 * when the hash matches; what a killed run left there (verified blobs reused, dead partials
 * removed); and the two ways an entry's body is read when it is not a blob (whole, or read past).
 */
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HOST_TAG, STALE_TEMP_MS, fsError, isProcessAlive, randomHex8 } from '../cache/index.js';
import { IntegrityError, MlcacheError, isMlcacheError } from '../errors.js';
import { cutValue } from '../util/cut-value.js';
import type { HashWorkerPool, FileHashWorker } from '../util/hash.js';
import { bundleInvalid } from './layout.js';
import type { BlobProgress } from './progress.js';
import type { SourceEntry } from './read-bundle.js';

/**
 * The staging folder, relative to the cache root: inside `.locks/`, which every cache reader skips
 * (huggingface_hub's scan_cache_dir, @huggingface/hub's scanCacheDir), so a killed import's staged
 * blobs never make a scanner warn; on the cache's filesystem, so placing a blob is a hard link.
 */
export const IMPORT_STAGING_FOLDER = path.join('.locks', 'mlcache-import');

/** `<hex>.<host tag>-<pid>-<8hex>.partial` */
const PARTIAL = /^([0-9a-f]{64})\.([0-9a-f]{8})-([0-9]{1,10})-[0-9a-f]{8}\.partial$/;
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The staging folder as a killed run left it: verified blobs (named by their digest) are reused;
 * partials of processes that are gone (or untouched for STALE_TEMP_MS) are removed.
 */
export async function sweepStaging(dir: string): Promise<Map<string, string>> {
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

export interface StageBlobOptions {
  /** The staging folder (`<cache>/.locks/mlcache-import/sha256`). */
  dir: string;
  /** The blob's sha256 as the bundle names it. */
  hex: string;
  entry: SourceEntry;
  label: string;
  progress: BlobProgress;
  signal: AbortSignal;
  pool: HashWorkerPool;
}

/**
 * Write one blob entry to the staging folder; renamed to its digest only when its bytes match.
 * The hash runs in a worker thread that reads the file right behind the writes (the page cache
 * serves it), so parsing and writing on this thread and hashing on another overlap: on a 2-core
 * machine the import costs about the hash's time, not the hash's plus the copy's.
 */
export async function stageBlob({ dir, hex, entry, label, progress, signal, pool }: StageBlobOptions): Promise<string> {
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

/** An entry's whole body, refused beyond `limit` bytes (oci-layout, index.json). */
export async function readAll(body: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) throw bundleInvalid(`The bundle's ${what} is over ${limit} bytes; it cannot be a layout's ${what}.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Read an entry's body past (a tar stream cannot skip without reading). */
export async function drain(body: Readable): Promise<void> {
  for await (const _chunk of body) {
    // read past
  }
}
