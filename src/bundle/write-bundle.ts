/**
 * Writing an OCI image layout: to a folder, to a `.tar` file, or as a tar stream (stdout). Each
 * blob is written once however many snapshots hold it, read from the cache as a stream (a 40 GB
 * weight never sits in memory) and hashed on the way: a blob the cache holds damaged fails the
 * export (CACHE_DAMAGED) instead of travelling to an air-gapped site.
 *
 * The tar is ordered so an importer reading a pipe knows where every layer goes as it arrives:
 * `oci-layout`, every manifest and config blob, `index.json`, then the layer blobs. A `.tar` file
 * is written under a temp name and renamed into place at the end (a killed export leaves no
 * half-bundle under the name). A folder is filled blob by blob (temp + rename each, a blob already
 * there with its size is kept, so an interrupted export to a folder resumes) and its index.json is
 * written last, merged with the index of an earlier export into the same folder.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { once } from 'node:events';
import { pack as tarPack, type Pack } from 'tar-stream';
import { atomicWriteFile } from '../util/atomic-write.js';
import { fsError } from '../util/fs-error.js';
import { randomHex8 } from '../util/random-suffix.js';
import { MlcacheError } from '../errors.js';
import type { TransferTotals } from '../download/types.js';
import { createHashWorkerPool, type HashWorkerPool } from '../util/hash.js';
import { INDEX_FILE, MAX_JSON_BYTES, OCI_LAYOUT_BYTES, OCI_LAYOUT_FILE, blobEntryName, buildIndex, parseIndex, type IndexEntryInput } from './layout.js';
import type { BlobProgress } from './progress.js';

export interface BundleLayer {
  /** sha256 hex of the blob (the layer digest without `sha256:`). */
  hex: string;
  size: number;
  /** The blob's file in the cache. */
  file: string;
  /** What a person sees: `org/name: path/in/repo`. */
  label: string;
}

export interface BundleImage {
  refName: string;
  manifest: { bytes: Buffer; digest: string };
  config: { bytes: Buffer; digest: string };
  layers: BundleLayer[];
  /** Annotations for the index entry (the repo id, for people listing the index). */
  annotations?: Record<string, string> | undefined;
}

export type BundleTarget = { kind: 'folder'; path: string } | { kind: 'tar'; path: string } | { kind: 'stream'; stream: Writable };

export interface WriteBundleResult {
  /** Distinct blobs in the bundle (manifests, configs, layers). */
  blobs: number;
  /** Bytes of layer blobs written in this run (a folder's kept blobs are not counted). */
  bytesWritten: number;
  /** Layer blobs already in the target folder, kept. */
  blobsKept: number;
  totals: TransferTotals;
}

const hexOf = (digest: string) => digest.replace(/^sha256:/, '');

export async function writeBundle(
  target: BundleTarget,
  images: readonly BundleImage[],
  options: { progress: BlobProgress; signal?: AbortSignal | undefined },
): Promise<WriteBundleResult> {
  const pool = createHashWorkerPool(1);
  try {
    return await writeWith(target, images, { ...options, pool });
  } finally {
    await pool.close();
  }
}

interface WriteOptions {
  progress: BlobProgress;
  signal?: AbortSignal | undefined;
  pool: HashWorkerPool;
}

async function writeWith(target: BundleTarget, images: readonly BundleImage[], options: WriteOptions): Promise<WriteBundleResult> {
  const small = new Map<string, Buffer>();
  for (const image of images) {
    small.set(hexOf(image.manifest.digest), image.manifest.bytes);
    small.set(hexOf(image.config.digest), image.config.bytes);
  }
  const layers = new Map<string, BundleLayer>();
  for (const image of images) for (const layer of image.layers) if (!small.has(layer.hex) && !layers.has(layer.hex)) layers.set(layer.hex, layer);
  for (const layer of layers.values()) options.progress.queue(layer.hex, layer.label, layer.size);
  const index: IndexEntryInput[] = images.map((image) => ({
    digest: image.manifest.digest,
    size: image.manifest.bytes.length,
    refName: image.refName,
    annotations: image.annotations,
  }));
  const result = target.kind === 'folder' ? await writeFolder(target.path, small, layers, index, options) : await writeTar(target, small, layers, buildIndex(index), options);
  return { ...result, blobs: small.size + layers.size, totals: options.progress.finish() };
}

/**
 * Read `layer.file` into `sink`; CACHE_DAMAGED when the cache's bytes are not the layer's. The hash
 * runs in a worker thread reading the same file (from the page cache) while this thread streams
 * it, so hashing and writing overlap instead of adding up.
 */
async function copyVerified(layer: BundleLayer, sink: Writable, options: WriteOptions): Promise<void> {
  const st = await fs.stat(layer.file).catch((error: unknown) => {
    throw damaged(layer, 'it is missing', error);
  });
  if (st.size !== layer.size) throw damaged(layer, `it is ${st.size} bytes, not ${layer.size}`);
  const job = options.pool.open(layer.file, 'sha256', layer.size);
  job.advanceTo(layer.size);
  const count = options.progress.start(layer.hex, layer.label, layer.size);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      count(chunk.length);
      done(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(layer.file, { highWaterMark: 1024 * 1024 }), counter, sink, { signal: options.signal });
  } catch (error) {
    await job.terminate();
    throw error;
  }
  const actual = await job.digest();
  if (actual !== layer.hex) throw damaged(layer, `its bytes hash to sha256:${actual.slice(0, 12)}…`);
  options.progress.done(layer.hex, layer.label, layer.size, layer.size);
}

function damaged(layer: BundleLayer, why: string, cause?: unknown): MlcacheError {
  return new MlcacheError('CACHE_DAMAGED', `The cached blob of ${layer.label} is damaged: ${why}; the export stopped.`, {
    hint: 'Run `mlcache verify --repair` (it fetches the file again), then export again.',
    cause,
  });
}

async function writeTar(
  target: Extract<BundleTarget, { kind: 'tar' | 'stream' }>,
  small: Map<string, Buffer>,
  layers: Map<string, BundleLayer>,
  indexBytes: Buffer,
  options: WriteOptions,
): Promise<Omit<WriteBundleResult, 'blobs' | 'totals'>> {
  const temp = target.kind === 'tar' ? path.join(path.dirname(target.path), `.${path.basename(target.path)}.${randomHex8()}.partial`) : undefined;
  const pack = tarPack();
  let out: Writable;
  try {
    out = temp !== undefined ? createWriteStream(temp, { flags: 'wx' }) : target.kind === 'stream' ? target.stream : createWriteStream(target.path);
  } catch (error) {
    throw fsError(error, `write ${target.kind === 'tar' ? target.path : 'the bundle'}`);
  }
  // The pack's output is drained into the target while entries are added (back-pressure: an
  // entry's writes wait when the pipe is full). A stream we were given (stdout) is written to, not
  // piped: a failure or Ctrl-C must not destroy it (main.ts still reports on stderr and exits).
  const draining = temp !== undefined ? pipeline(pack, out, { signal: options.signal }) : drainInto(pack, out, options.signal);
  draining.catch(() => undefined);
  let bytesWritten = 0;
  try {
    await addBuffer(pack, OCI_LAYOUT_FILE, OCI_LAYOUT_BYTES);
    for (const [hex, bytes] of small) await addBuffer(pack, blobEntryName(hex), bytes);
    await addBuffer(pack, INDEX_FILE, indexBytes);
    for (const layer of layers.values()) {
      options.signal?.throwIfAborted();
      const entry = pack.entry({ ...HEADER, name: blobEntryName(layer.hex), size: layer.size });
      await copyVerified(layer, entry, options);
      bytesWritten += layer.size;
    }
    pack.finalize();
    await draining;
    if (temp !== undefined && target.kind === 'tar') await fs.rename(temp, target.path);
  } catch (error) {
    pack.destroy(error as Error);
    await draining.catch(() => undefined);
    if (temp !== undefined) await fs.rm(temp, { force: true }).catch(() => undefined);
    throw writeError(error, target.kind === 'tar' ? target.path : 'the output');
  }
  return { bytesWritten, blobsKept: 0 };
}

async function drainInto(pack: Pack, out: Writable, signal: AbortSignal | undefined): Promise<void> {
  for await (const chunk of pack as AsyncIterable<Buffer>) {
    signal?.throwIfAborted();
    if (!out.write(chunk)) await once(out, 'drain', { signal });
  }
  await new Promise<void>((resolve) => out.end(resolve));
}

/** Fixed header fields: the same snapshot always gives the same tar. */
const HEADER = { mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(0), type: 'file' as const };

function addBuffer(pack: Pack, name: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ ...HEADER, name, size: bytes.length }, bytes, (error) => (error ? reject(error) : resolve()));
  });
}

function writeError(error: unknown, where: string): unknown {
  if (error instanceof MlcacheError || (error as Error)?.name === 'AbortError') return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  // The reading end of a pipe went away (`mlcache export … - | head`): not a bug of ours.
  if (code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_DESTROYED') {
    return new MlcacheError('FILESYSTEM', `The program reading the bundle from ${where} stopped reading before its end.`, {
      hint: 'Check the command on the other side of the pipe (e.g. `mlcache import -` on the other host) and run the export again.',
      cause: error,
    });
  }
  return fsError(error, `write ${where}`);
}

async function writeFolder(
  dir: string,
  small: Map<string, Buffer>,
  layers: Map<string, BundleLayer>,
  index: IndexEntryInput[],
  options: WriteOptions,
): Promise<Omit<WriteBundleResult, 'blobs' | 'totals'>> {
  const blobsDir = path.join(dir, 'blobs', 'sha256');
  try {
    await fs.mkdir(blobsDir, { recursive: true });
    await atomicWriteFile(path.join(dir, OCI_LAYOUT_FILE), OCI_LAYOUT_BYTES);
    for (const [hex, bytes] of small) if ((await sizeOf(path.join(blobsDir, hex))) !== bytes.length) await atomicWriteFile(path.join(blobsDir, hex), bytes);
  } catch (error) {
    throw writeError(error, dir);
  }
  let bytesWritten = 0;
  let blobsKept = 0;
  for (const layer of layers.values()) {
    options.signal?.throwIfAborted();
    const final = path.join(blobsDir, layer.hex);
    // Blobs are renamed into place only whole and verified: one with the right size is this blob.
    if ((await sizeOf(final)) === layer.size) {
      options.progress.skip(layer.hex, layer.label, layer.size);
      blobsKept++;
      continue;
    }
    const temp = `${final}.${randomHex8()}.partial`;
    try {
      await copyVerified(layer, createWriteStream(temp, { flags: 'wx' }), options);
      await fs.rename(temp, final);
    } catch (error) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw writeError(error, dir);
    }
    bytesWritten += layer.size;
  }
  // index.json last: a folder with an index is a complete layout. An earlier export's snapshots
  // stay listed, unless this export writes the same ref name.
  const names = new Set(index.map((m) => m.refName));
  const kept = (await earlierIndex(path.join(dir, INDEX_FILE))).filter((m) => m.refName !== undefined && !names.has(m.refName));
  try {
    await atomicWriteFile(path.join(dir, INDEX_FILE), buildIndex([...kept.map((m) => ({ digest: `sha256:${m.hex}`, size: m.size, refName: m.refName! })), ...index]));
  } catch (error) {
    throw writeError(error, dir);
  }
  return { bytesWritten, blobsKept };
}

async function sizeOf(file: string): Promise<number | undefined> {
  const st = await fs.lstat(file).catch(() => undefined);
  return st?.isFile() === true ? st.size : undefined;
}

async function earlierIndex(file: string) {
  const st = await fs.stat(file).catch(() => undefined);
  if (st === undefined || st.size > MAX_JSON_BYTES) return [];
  try {
    return parseIndex(await fs.readFile(file));
  } catch {
    // Not ours to repair: it is replaced by this export's index.
    return [];
  }
}
