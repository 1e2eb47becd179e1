/**
 * `mlcache import <bundle.tar | folder | ->`: rebuild HF cache snapshots from an OCI image layout
 * written by `mlcache export` (or by skopeo from such a bundle, or pushed through a registry and
 * copied back with `skopeo copy … oci-archive:…`). Every digest is verified; the cache comes out
 * as `download` writes it. docs/registry.md "Bundles" describes the format and the guarantees.
 */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { verifyCacheDir } from '../cache/verify-cache-dir.js';
import { importEntries, type ImportedSnapshot } from '../bundle/import-bundle.js';
import { createBlobProgress } from '../bundle/progress.js';
import { folderEntries, tarEntries, type SourceEntry } from '../bundle/read-bundle.js';
import type { Settings } from '../config/settings.js';
import type { TransferEvent, TransferTotals } from '../download/types.js';
import { MlcacheError, usageError } from '../errors.js';

export interface ImportBundleOptions {
  settings: Settings;
  /** A `.tar` file, a layout folder, `-` (read `stdin`), or a readable stream of a tar. */
  source: string | Readable;
  /** What `-` reads. @default process.stdin */
  stdin?: Readable | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: TransferEvent) => void) | undefined;
  /** --skip-space-check: import even when the free space looks too small. @default false */
  skipSpaceCheck?: boolean | undefined;
  /** Free bytes on the filesystem holding a folder (tests). @default statfs: bavail × bsize */
  freeSpace?: ((dir: string) => Promise<number>) | undefined;
}

export interface ImportBundleResult {
  snapshots: ImportedSnapshot[];
  blobsReceived: number;
  bytesReceived: number;
  blobsSkipped: number;
  durationMs: number;
  totals: TransferTotals;
}

export async function importBundle(options: ImportBundleOptions): Promise<ImportBundleResult> {
  const started = Date.now();
  const { settings } = options;
  await verifyCacheDir(settings.hubCache, settings.hubCacheSource);
  const progress = createBlobProgress(options.onEvent);
  let entries: AsyncIterable<SourceEntry>;
  if (typeof options.source !== 'string') {
    entries = tarEntries(options.source, options.signal);
  } else if (options.source === '-') {
    entries = tarEntries(options.stdin ?? process.stdin, options.signal);
  } else {
    const file = options.source;
    const st = await fs.stat(file).catch((error: unknown) => {
      throw new MlcacheError('USAGE', `No bundle at ${file}.`, { hint: 'Give the path of a .tar or a folder written by `mlcache export`, or `-` to read stdin.', cause: error });
    });
    if (st.isDirectory()) entries = folderEntries(file);
    else if (st.isFile() || st.isFIFO()) entries = tarEntries(createReadStream(file, { highWaterMark: 1024 * 1024 }), options.signal);
    else throw usageError(`${file} is neither a file nor a folder.`, 'Give the path of a .tar or a folder written by `mlcache export`, or `-` to read stdin.');
  }
  try {
    const result = await importEntries({ cacheDir: settings.hubCache, copy: settings.disableSymlinks, entries, progress, signal: options.signal, skipSpaceCheck: options.skipSpaceCheck, freeSpace: options.freeSpace });
    return { ...result, durationMs: Date.now() - started, totals: progress.finish() };
  } finally {
    progress.finish();
  }
}
