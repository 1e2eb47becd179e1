/**
 * The entries of an OCI image layout, in the order they can be read: a tar stream (a `.tar` file or
 * a pipe: tar order, whatever tool wrote it) or a folder (oci-layout, index.json, the manifests it
 * lists, their configs, then their layers: the order mlcache's own tars have, so an import reads
 * both the same way). Names and types are untrusted and checked by the importer (layout.ts).
 */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract } from 'tar-stream';
import { MlcacheError } from '../errors.js';
import { cutValue } from '../util/cut-value.js';
import { INDEX_FILE, MAX_JSON_BYTES, OCI_LAYOUT_FILE, blobEntryName, bundleInvalid, parseIndex } from './layout.js';

export interface SourceEntry {
  name: string;
  size: number;
  /** 'file' for a regular file, 'directory', or the tar type of anything else (symlink, link, …). */
  type: string;
  body: Readable;
}

/** The entries of a tar stream. Each entry's body must be read (or resumed) before the next one comes. */
export async function* tarEntries(input: Readable, signal?: AbortSignal): AsyncGenerator<SourceEntry> {
  const extract = tarExtract();
  // A failure of the input (or of the tar parser) destroys both ends: the loop below sees it.
  const feeding = pipeline(input, extract, { signal });
  feeding.catch(() => undefined);
  let finished = false;
  try {
    for await (const entry of extract) {
      const { header } = entry;
      const type = header.type === 'contiguous-file' ? 'file' : header.type ?? 'file';
      if (type === 'pax-global-header') {
        entry.resume();
        continue;
      }
      yield { name: header.name, size: header.size ?? 0, type, body: entry };
      entry.resume();
    }
    await feeding;
    finished = true;
  } catch (error) {
    throw tarError(error);
  } finally {
    // The importer stopped early (a refused entry, a bad blob): stop reading the input too.
    if (!finished) {
      input.destroy();
      extract.destroy();
    }
  }
}

function tarError(error: unknown): unknown {
  if (error instanceof MlcacheError || (error as Error)?.name === 'AbortError') return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code !== undefined && /^E[A-Z]+$/.test(code)) return error;
  const message = (error as Error)?.message ?? String(error);
  if (/unexpected end/i.test(message)) return bundleInvalid('The bundle ends in the middle of a file: it was cut short (an interrupted copy or export).');
  return bundleInvalid(`The bundle is not a tar archive of an OCI image layout (${cutValue(message)}).`);
}

/**
 * The entries of a layout folder: oci-layout and index.json first, then the manifests the index
 * lists, their configs and their layers, each blob once. Blobs nothing references are not read.
 * A name the index or a manifest gives that is missing from the folder comes through as a
 * zero-byte 'missing' entry, so the importer reports it as it would for a tar.
 */
export async function* folderEntries(dir: string): AsyncGenerator<SourceEntry> {
  const layoutFile = path.join(dir, OCI_LAYOUT_FILE);
  if (await regularFile(layoutFile)) yield await fileEntry(dir, OCI_LAYOUT_FILE);
  const indexFile = path.join(dir, INDEX_FILE);
  if (!(await regularFile(indexFile))) return;
  const indexBytes = await readSmall(indexFile);
  yield { name: INDEX_FILE, size: indexBytes.length, type: 'file', body: bufferStream(indexBytes) };
  let manifests: string[] = [];
  try {
    manifests = parseIndex(indexBytes).map((m) => m.hex);
  } catch {
    return; // the importer reports the index's fault
  }
  const seen = new Set<string>();
  const layers: string[] = [];
  const configs: string[] = [];
  for (const hex of manifests) {
    if (seen.has(hex)) continue;
    seen.add(hex);
    yield await fileEntry(dir, blobEntryName(hex));
    const bytes = await readSmall(path.join(dir, blobEntryName(hex))).catch(() => undefined);
    const parsed = bytes ? lenientManifest(bytes) : undefined;
    if (parsed?.config !== undefined) configs.push(parsed.config);
    layers.push(...(parsed?.layers ?? []));
  }
  for (const hex of [...configs, ...layers]) {
    if (seen.has(hex)) continue;
    seen.add(hex);
    yield await fileEntry(dir, blobEntryName(hex));
  }
}

async function regularFile(file: string): Promise<boolean> {
  return (await fs.lstat(file).catch(() => undefined))?.isFile() === true;
}

async function fileEntry(dir: string, name: string): Promise<SourceEntry> {
  const file = path.join(dir, name);
  const st = await fs.lstat(file).catch(() => undefined);
  if (st === undefined) return { name, size: 0, type: 'missing', body: bufferStream(Buffer.alloc(0)) };
  if (!st.isFile()) return { name, size: st.size, type: st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'directory' : 'other', body: bufferStream(Buffer.alloc(0)) };
  return { name, size: st.size, type: 'file', body: createReadStream(file, { highWaterMark: 1024 * 1024 }) };
}

async function readSmall(file: string): Promise<Buffer> {
  const st = await fs.stat(file);
  if (st.size > MAX_JSON_BYTES) throw bundleInvalid(`${path.basename(file)} in the bundle is ${st.size} bytes, over the 4 MiB limit for an index or a manifest.`);
  return fs.readFile(file);
}

function bufferStream(bytes: Buffer): Readable {
  return Readable.from(bytes.length > 0 ? [bytes] : []);
}

/** Config and layer digests of a manifest, without judging it (the importer does). */
function lenientManifest(bytes: Buffer): { config?: string | undefined; layers: string[] } | undefined {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { config?: { digest?: unknown }; layers?: Array<{ digest?: unknown }> };
    const hex = (d: unknown) => (typeof d === 'string' && /^sha256:[0-9a-f]{64}$/.test(d) ? d.slice(7) : undefined);
    return {
      config: hex(parsed.config?.digest),
      layers: (Array.isArray(parsed.layers) ? parsed.layers : []).map((l) => hex(l?.digest)).filter((h): h is string => h !== undefined),
    };
  } catch {
    return undefined;
  }
}
