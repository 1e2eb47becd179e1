/**
 * One complete pass at a file: adopt an earlier partial or start a new one (journal first, then
 * the partial, so a partial never exists without a journal), run its missing ranges on at most
 * `connections` workers, and hash it. Returns the partial's nonce and the actual digest; the
 * engine verifies and commits. On failure the journal is made to say what is on disk (or the
 * partial goes when nothing on it is worth keeping) before the error is rethrown.
 */
import { link, open, rename, rm, type FileHandle } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { MlcacheError } from '../errors.js';
import type { HashWorkerPool } from '../util/hash.js';
import type { ByteLedger, ItemBytes } from './byte-ledger.js';
import { planChunks } from './chunk-plan.js';
import { diskError, fetchRange } from './fetch-range.js';
import { contiguousPrefix, mergeIntervals, totalLength, type Interval } from './intervals.js';
import type { ItemSource } from './item-source.js';
import { openJournalWriter, type JournalWriter } from './journal-writer.js';
import { journalPath, KEPT_NONCE, newNonce, partialPath, removePartial } from './journal.js';
import { createPrefixHasher, type PrefixHasher } from './prefix-hasher.js';
import { runRange, type RangeState } from './range-runner.js';
import type { ResumeClaimer } from './resume-claimer.js';
import type { Semaphore } from '../util/semaphore.js';
import type { TokenBucket } from '../util/token-bucket.js';
import type { RetryPolicy, TransferEvent, TransferItem } from './types.js';

export interface PassSettings {
  dispatcher: Dispatcher;
  connections: number;
  chunkThreshold: number;
  chunkSize: number;
  tailBytes: number;
  tailChunkSize: number;
  stallTimeoutMs: number;
  policy: RetryPolicy;
  bucket: TokenBucket | undefined;
  hashPool: HashWorkerPool;
  connectionSlots: Semaphore;
  claimer: ResumeClaimer;
  ledger: ByteLedger;
  emit(event: TransferEvent): void;
}

export interface PassContext {
  item: TransferItem;
  bytes: ItemBytes;
  source: ItemSource;
  controller: AbortController;
  /** This run holds the item's lock: leftovers of other runs may be removed. */
  exclusive: boolean;
  /** Do not adopt an earlier partial (the pass after a failed hash check). */
  fresh: boolean;
  progress(force?: boolean): void;
}

export interface PassResult {
  nonce: string;
  actual: string;
}

/**
 * Still holding the lock, give a kept partial (and its journal) the fixed nonce KEPT_NONCE, so the
 * next run finds it even if its folder listing is older (resume-claimer.ts). Without the lock the
 * name stays: another process may be racing for the same destination. Returns the nonce it has.
 *
 * Every step leaves a journal with its partial beside it, so an exit at any moment (a second
 * Ctrl-C) loses nothing: the partial gets its new name as a hard link first, then the journal is
 * renamed, then the old name goes. An extra name without a journal is removed by the next run
 * that holds the lock. Where hard links are not supported, the names stay.
 */
async function keepUnderFixedName(destination: string, nonce: string, exclusive: boolean): Promise<string> {
  if (!exclusive || nonce === KEPT_NONCE) return nonce;
  const kept = partialPath(destination, KEPT_NONCE);
  try {
    await rm(kept, { force: true });
    await link(partialPath(destination, nonce), kept);
  } catch {
    return nonce;
  }
  try {
    await rename(journalPath(destination, nonce), journalPath(destination, KEPT_NONCE));
  } catch {
    await rm(kept, { force: true }).catch(() => undefined);
    return nonce;
  }
  await rm(partialPath(destination, nonce), { force: true }).catch(() => undefined);
  return KEPT_NONCE;
}

export async function runFilePass(settings: PassSettings, ctx: PassContext): Promise<PassResult> {
  const { item, bytes } = ctx;
  const { ledger } = settings;
  const signal = ctx.controller.signal;
  const request = { destination: item.destination, size: item.size, digest: item.digest, label: item.label, nonce: newNonce(), exclusive: ctx.exclusive };
  const { nonce, completed } = ctx.fresh ? { nonce: request.nonce, completed: [] } : await settings.claimer.claim(request);
  const resumed = completed.length > 0;
  const partial = partialPath(item.destination, nonce);
  const chunked = item.size >= settings.chunkThreshold;

  let journal: JournalWriter | undefined;
  let file: FileHandle | undefined;
  try {
    journal = await openJournalWriter({
      path: journalPath(item.destination, nonce),
      journal: { size: item.size, digest: { algorithm: item.digest.algorithm, hex: item.digest.hex.toLowerCase() }, chunkSize: settings.chunkSize },
      resumed: resumed ? completed : undefined,
    });
    file = await open(partial, resumed ? 'r+' : 'w+');
    // Chunked files are preallocated (ranges land at their offsets); a file fetched in one request
    // fills in order and needs no preallocation: its journal never claims past what was written.
    if (chunked) await file.truncate(item.size);
  } catch (error) {
    await file?.close().catch(() => undefined);
    await journal?.close();
    // A claimed partial keeps its journal as it was (still valid: a full disk may refuse the
    // rewrite); a new one had nothing yet.
    if (resumed) settings.claimer.kept(item.destination, nonce);
    else await removePartial(item.destination, nonce).catch(() => undefined);
    throw diskError(error, partial);
  }
  ledger.resumed(bytes, totalLength(completed));

  const ranges: RangeState[] = planChunks({
    size: item.size,
    chunkThreshold: settings.chunkThreshold,
    chunkSize: settings.chunkSize,
    completed,
    tailBytes: settings.tailBytes,
    tailChunkSize: settings.tailChunkSize,
  }).map((r) => ({ ...r, written: 0, done: false }));
  const hasher: PrefixHasher = createPrefixHasher(settings.hashPool, partial, item.digest.algorithm, item.size);
  const onDisk = (): Interval[] => mergeIntervals([...completed, ...ranges.map((r): Interval => [r.start, r.start + r.written])]);

  settings.emit({ type: 'file-started', id: item.id, label: item.label, size: item.size, resumedBytes: totalLength(completed), chunks: ranges.length });
  if (ranges.length > 0) ctx.source.prefetch();
  let prefixEnd = contiguousPrefix(completed);
  if (prefixEnd > 0) hasher.advanceTo(prefixEnd);

  const openFile = file;
  const openJournal = journal;
  const attempt = async (range: RangeState, source: Parameters<typeof fetchRange>[0]['source']) => {
    const want = { start: range.start + range.written, end: range.end };
    // A file fetched in one request may come back whole from a server that ignores Range (a 200),
    // also when resuming: it is then rewritten from byte 0. A chunked file's ranges may not.
    const acceptWhole = !chunked && range.end === item.size;
    let rewinding = false;
    await fetchRange({
      dispatcher: settings.dispatcher,
      source,
      range: want,
      size: item.size,
      acceptWhole,
      file: openFile,
      stallTimeoutMs: settings.stallTimeoutMs,
      bucket: settings.bucket,
      signal,
      label: item.label,
      onReceived: (n) => ledger.received(bytes, n),
      onWritten: (offset, buffers, length) => {
        if (offset === 0 && want.start > 0 && !rewinding) {
          // A 200 with the whole file: everything before (this run's bytes and resumed ones) is
          // being rewritten from byte 0, so none of it counts any more.
          rewinding = true;
          ledger.lost(bytes, bytes.done);
          completed.length = 0;
          range.start = 0;
          range.written = 0;
          prefixEnd = 0;
          hasher.reset();
        }
        range.written = offset + length - range.start;
        ledger.written(bytes, length);
        openJournal.record(offset, offset + length);
        hasher.offer(offset, buffers, length);
        // The contiguous prefix can only grow through a write that starts inside it or at its end.
        if (offset <= prefixEnd) {
          prefixEnd = contiguousPrefix(onDisk());
          hasher.advanceTo(prefixEnd);
        }
        ctx.progress();
      },
    });
  };

  try {
    // At most `connections` ranges of this file wait or run at once, each worker pulling the next:
    // a 20 GB file's 1,280 ranges are not 1,280 waiters (and abort listeners) at once.
    let next = 0;
    const failures: unknown[] = [];
    const worker = async () => {
      while (next < ranges.length && !signal.aborted) {
        const range = ranges[next++]!;
        await runRange(
          {
            connectionSlots: settings.connectionSlots,
            source: ctx.source,
            policy: settings.policy,
            signal,
            attempt,
            onRetry: (info) => {
              ledger.retried(bytes);
              settings.emit({ type: 'retry', id: item.id, label: item.label, ...info, range: { start: info.range.start, end: info.range.end } });
            },
          },
          range,
        );
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(ranges.length, settings.connections) }, () =>
        worker().catch((error: unknown) => {
          failures.push(error);
          // One range failed for good: the others stop.
          if (!signal.aborted) ctx.controller.abort(error);
        }),
      ),
    );
    if (failures.length > 0) throw failures.find((f) => !(signal.aborted && f === signal.reason)) ?? failures[0];
    signal.throwIfAborted();
    ctx.progress(true);
    await openJournal.close();
    const actual = await hasher.finish(openFile);
    await openFile.close();
    return { nonce, actual };
  } catch (error) {
    hasher.close();
    // Keep what is on disk for the next run; a partial with nothing worth keeping goes.
    const kept = onDisk();
    const keep = totalLength(kept) > 0 && !(error instanceof MlcacheError && error.code === 'INTEGRITY');
    if (keep) {
      const failure = await openJournal.saveOnFailure(kept);
      if (failure !== undefined) {
        settings.emit({ type: 'warning', id: item.id, message: `Could not save the resume journal of ${item.label} (${(failure as NodeJS.ErrnoException).code ?? (failure instanceof Error ? failure.message : 'unknown error')}).` });
      }
    }
    await openJournal.close();
    await openFile.close().catch(() => undefined);
    if (keep) settings.claimer.kept(item.destination, await keepUnderFixedName(item.destination, nonce, ctx.exclusive));
    else await removePartial(item.destination, nonce).catch(() => undefined);
    throw error;
  }
}
