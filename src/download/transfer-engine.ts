/**
 * The transfer engine: one scheduler per run shared by every item. A global connection budget
 * (a semaphore) is shared by all ranges of all files; small files go in one request, large files
 * in ranges written at their offsets into a preallocated partial file. A journal beside the partial
 * file makes the download resumable across runs; every file is verified against its digest
 * (hashed in order as it fills) before the atomic rename to its destination.
 *
 * The engine knows nothing of the Hub or the cache layout (docs/download.md).
 */
import { setMaxListeners } from 'node:events';
import { constants as fsConstants } from 'node:fs';
import { access, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { IntegrityError, MlcacheError, isMlcacheError } from '../errors.js';
import { createHashWorkerPool, createHasher, type FileHashWorker, type HashWorkerPool, type Hasher } from '../util/hash.js';
import { sleep } from '../util/net.js';
import { planChunks, type PlannedRange } from './chunk-plan.js';
import { AttemptError, diskError, fetchRange } from './fetch-range.js';
import { contiguousPrefix, mergeIntervals, totalLength, type Interval } from './intervals.js';
import {
  JOURNAL_VERSION,
  claimJournal,
  journalMatches,
  journalNoncesAmong,
  journalPath,
  listFolder,
  newNonce,
  overwriteJournalInPlace,
  partialPath,
  readJournalFile,
  removePartial,
  writeJournalFile,
} from './journal.js';
import { retryDelayMs } from './retry-decision.js';
import { createSemaphore, type Semaphore } from './semaphore.js';
import { createTokenBucket, type TokenBucket } from './token-bucket.js';
import type {
  RetryPolicy,
  TransferEngine,
  TransferEngineOptions,
  TransferEvent,
  TransferItem,
  TransferResult,
  TransferSource,
  TransferTotals,
} from './types.js';

const MiB = 1024 * 1024;
export const DEFAULTS = {
  connections: 16,
  chunkThreshold: 64 * MiB,
  chunkSize: 16 * MiB,
  stallTimeoutMs: 30_000,
  retry: { maxRetries: 8, baseDelayMs: 500, maxDelayMs: 30_000 } satisfies RetryPolicy,
  /** How long completed bytes may stay unrecorded in the journal (kill -9 loses at most this). */
  journalIntervalMs: 250,
  progressIntervalMs: 100,
  totalsIntervalMs: 500,
} as const;

/** Hash in a worker (off the event loop) from this size on; below, hash in order in-thread. */
const WORKER_HASH_MIN = 16 * MiB;
/** Feed the hash worker when the contiguous prefix has grown by this much. */
const HASH_STEP = 8 * MiB;
/** Bytes an attempt must add to a range for its retry budget to start over. */
const PROGRESS_RESETS_RETRIES = MiB;
/** On a full disk with no journal yet, the partial keeps its contiguous prefix less this much. */
const FULL_DISK_SLACK = 64 * 1024;
/** Refresh a signed URL this long before its announced expiry. */
const EXPIRY_SKEW_MS = 5_000;

function interrupted(): MlcacheError {
  return new MlcacheError('INTERRUPTED', 'Interrupted.', { hint: 'Run the same command again to resume; finished ranges are kept.' });
}

function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

interface RangeState extends PlannedRange {
  /** Bytes of this range on disk, from `start`. */
  written: number;
  done: boolean;
}

/** In-order hashing for one attempt at a file: in-thread for small files, a worker for large. */
interface PrefixHasher {
  /** Bytes just written at `offset` (in-thread hasher uses them directly when in order). */
  offer(offset: number, buffers: Buffer[], length: number): void;
  /** [0, end) is on disk. */
  advanceTo(end: number): void;
  /** The whole file is on disk: finish and return hex. */
  finish(file: FileHandle): Promise<string>;
  /** Bytes [0, x) are being rewritten (a 200 answered with the whole file): start over. */
  reset(): void;
  close(): void;
}

function createInlinePrefixHasher(algorithm: 'sha256' | 'git-sha1', size: number): PrefixHasher {
  let hasher: Hasher = createHasher(algorithm, size);
  let hashed = 0;
  return {
    offer(offset, buffers, length) {
      if (offset !== hashed) return;
      for (const b of buffers) hasher.update(b);
      hashed += length;
    },
    advanceTo() {},
    async finish(file) {
      // Whatever did not arrive in order (resumed bytes, out-of-order ranges) is read back.
      const buffer = Buffer.allocUnsafe(Math.min(4 * MiB, Math.max(1, size - hashed)));
      while (hashed < size) {
        const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, size - hashed), hashed);
        if (bytesRead === 0) throw new Error(`unexpected end of the partial file at ${hashed}`);
        hasher.update(buffer.subarray(0, bytesRead));
        hashed += bytesRead;
      }
      return hasher.digest();
    },
    reset() {
      hasher = createHasher(algorithm, size);
      hashed = 0;
    },
    close() {},
  };
}

function createWorkerPrefixHasher(pool: HashWorkerPool, file: string, algorithm: 'sha256' | 'git-sha1', size: number): PrefixHasher {
  // The job starts with the first bytes to hash, not with the file: a download's first
  // connections do not wait behind a worker's start-up.
  let worker: FileHashWorker | undefined;
  const job = () => (worker ??= pool.open(file, algorithm, size));
  let sent = 0;
  return {
    offer() {},
    advanceTo(end) {
      if (end >= size || end - sent >= HASH_STEP) {
        sent = end;
        job().advanceTo(end);
      }
    },
    finish() {
      job().advanceTo(size);
      return job().digest();
    },
    reset() {
      throw new Error('a chunked file is never rewritten from 0');
    },
    close() {
      void worker?.terminate();
    },
  };
}

interface ItemRun {
  item: TransferItem;
  controller: AbortController;
  startedAt: number;
  bytesTransferred: number;
  bytesResumed: number;
  retries: number;
  /** Bytes counted into totals.bytesDone for this item (undone on a full re-fetch). */
  countedDone: number;
  lastProgressAt: number;
  source?: TransferSource;
  sourceGeneration: number;
  resolving?: Promise<void> | undefined;
  /** The initial resolve, started ahead of the first connection slot (see `resolveAhead`). */
  initial?: Promise<void> | undefined;
  /** Re-resolves since the last byte arrived: a second 403 after a fresh URL is final. */
  reResolvesWithoutProgress: number;
}

export function createTransferEngine(options: TransferEngineOptions): TransferEngine {
  const connections = Math.max(1, Math.floor(options.connections ?? DEFAULTS.connections));
  const chunkThreshold = options.chunkThreshold ?? DEFAULTS.chunkThreshold;
  const chunkSize = options.chunkSize ?? DEFAULTS.chunkSize;
  const stallTimeoutMs = options.stallTimeoutMs ?? DEFAULTS.stallTimeoutMs;
  const retryPolicy: RetryPolicy = { ...DEFAULTS.retry, ...options.retry };
  const journalIntervalMs = options.journalIntervalMs ?? DEFAULTS.journalIntervalMs;
  // A journal write per quarter chunk (at most 4 MiB): a killed run re-fetches well under a range.
  const journalEveryBytes = Math.min(4 * MiB, Math.max(256 * 1024, Math.floor(chunkSize / 4)));
  // The last `connections × chunkSize` of a file go in quarter chunks: while the last full-size
  // range runs on one connection, the others have that much tail work (docs/download.md).
  const tailChunkSize = Math.min(chunkSize, options.tailChunkSize ?? Math.max(MiB, Math.floor(chunkSize / 4)));
  const tailBytes = tailChunkSize < chunkSize ? connections * chunkSize : 0;
  const stats = { journalWrites: 0 };
  // Two workers hash every large file of the run (started when first needed).
  const hashPool: HashWorkerPool = createHashWorkerPool(2);
  const dispatcher = options.dispatcher;
  const bucket: TokenBucket | undefined = options.maxRate ? createTokenBucket(options.maxRate) : undefined;
  const connectionSlots: Semaphore = createSemaphore(connections);
  // Files being prepared or transferred at once: enough to keep every connection busy with
  // small files, without opening hundreds of descriptors or resolving every URL up front.
  const itemSlots: Semaphore = createSemaphore(Math.max(4, connections * 2));
  const resolveSlots: Semaphore = createSemaphore(connections);
  const engineController = new AbortController();
  // Every waiting range listens for abort on its item's signal (and items on the engine's).
  setMaxListeners(0, engineController.signal);
  const onOuterAbort = () => engineController.abort(options.signal?.reason);
  if (options.signal?.aborted) engineController.abort(options.signal.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });

  const totals: TransferTotals = { filesQueued: 0, filesDone: 0, filesFailed: 0, bytesTotal: 0, bytesDone: 0, bytesTransferred: 0, retries: 0 };
  const runStartedAt = Date.now();
  let active = 0;
  let totalsTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const emit = (event: TransferEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A renderer bug must not break a download.
    }
  };
  const emitTotals = () => {
    const elapsedMs = Date.now() - runStartedAt;
    emit({ type: 'totals', totals: { ...totals }, bytesPerSecond: elapsedMs > 0 ? Math.round((totals.bytesTransferred / elapsedMs) * 1000) : 0, elapsedMs });
  };
  const startTotals = () => {
    if (totalsTimer || !options.onEvent) return;
    totalsTimer = setInterval(emitTotals, DEFAULTS.totalsIntervalMs);
    totalsTimer.unref();
  };
  const stopTotals = () => {
    if (totalsTimer) clearInterval(totalsTimer);
    totalsTimer = undefined;
    emitTotals();
  };

  const progress = (run: ItemRun, bytesDone: number, force = false) => {
    const now = Date.now();
    if (!force && now - run.lastProgressAt < DEFAULTS.progressIntervalMs) return;
    run.lastProgressAt = now;
    emit({ type: 'file-progress', id: run.item.id, bytesDone, size: run.item.size });
  };

  /** Single-flight resolve; 'expired' bumps the generation so ranges notice the new URL. */
  const resolveSource = async (run: ItemRun, reason: 'initial' | 'expired', seenGeneration: number): Promise<void> => {
    if (run.sourceGeneration !== seenGeneration && run.source) return; // someone already did it
    if (run.resolving) return run.resolving;
    run.resolving = (async () => {
      try {
        run.source = await run.item.resolve(reason);
        run.sourceGeneration++;
        if (reason === 'expired') run.reResolvesWithoutProgress++;
      } finally {
        run.resolving = undefined;
      }
    })();
    return run.resolving;
  };

  /**
   * Start an item's initial resolve before any of its ranges holds a connection slot, so the
   * resolve round trip (a HEAD on the Hub for LFS files) overlaps other items' transfers instead of
   * occupying a slot. At most `connections` resolves run at once. A failure is kept and rethrown
   * by `currentSource` (not retried here: the Hub client already retried it).
   */
  const resolveAhead = (run: ItemRun): void => {
    if (run.source || run.initial) return;
    run.initial = (async () => {
      const release = await resolveSlots.acquire({ signal: run.controller.signal });
      try {
        if (!run.source) await resolveSource(run, 'initial', run.sourceGeneration);
      } finally {
        release();
      }
    })();
    run.initial.catch(() => undefined); // observed by currentSource
  };

  const currentSource = async (run: ItemRun): Promise<{ source: TransferSource; generation: number }> => {
    if (!run.source && run.initial) await run.initial;
    if (!run.source) await resolveSource(run, 'initial', run.sourceGeneration);
    let source = run.source!;
    if (source.expiresAt !== undefined && Date.now() >= source.expiresAt - EXPIRY_SKEW_MS) {
      await resolveSource(run, 'expired', run.sourceGeneration);
      source = run.source!;
    }
    return { source, generation: run.sourceGeneration };
  };

  // Each destination folder (a repo's blobs/) is listed once per run, not once per file: only
  // journals left by earlier runs matter here, and a partial this run keeps drops its folder's
  // listing so a later attempt at the same file in this run still finds it.
  const folderListings = new Map<string, Promise<string[]>>();
  const journalNonces = async (destination: string): Promise<string[]> => {
    const dir = path.dirname(destination);
    let listing = folderListings.get(dir);
    if (!listing) folderListings.set(dir, (listing = listFolder(dir)));
    return journalNoncesAmong(await listing, destination);
  };

  /**
   * Find an earlier run's journal for this destination, claim it, and return what is on disk. A
   * journal that vanished or was claimed since this run listed the folder means another process
   * (perhaps killed since) renamed it to its own nonce: the folder is listed again, once.
   */
  const claimResume = async (run: ItemRun, nonce: string): Promise<Interval[]> => {
    const { item } = run;
    for (let listing = 0; listing < 2; listing++) {
      let stale = false;
      for (const other of await journalNonces(item.destination)) {
        const parsed = await readJournalFile(journalPath(item.destination, other));
        if (!parsed) {
          stale = true; // claimed by someone else meanwhile
          continue;
        }
        const mismatch = parsed.ok ? journalMatches(parsed.journal, { size: item.size, digest: item.digest }) : parsed.reason;
        if (!parsed.ok || mismatch) {
          emit({ type: 'warning', id: item.id, message: `Discarded the resume journal of ${item.label} (${mismatch}); starting the file over.` });
          await removePartial(item.destination, other);
          continue;
        }
        const claim = await claimJournal(item.destination, other, nonce);
        if (claim === 'taken') {
          stale = true;
          continue;
        }
        if (claim === 'no-partial') {
          emit({ type: 'warning', id: item.id, message: `The partial file of ${item.label} is missing; starting the file over.` });
          await removePartial(item.destination, nonce);
          continue;
        }
        try {
          const info = await stat(partialPath(item.destination, nonce));
          if (info.size !== item.size) {
            emit({ type: 'warning', id: item.id, message: `The partial file of ${item.label} has the wrong size (${info.size}); starting the file over.` });
            await removePartial(item.destination, nonce);
            return [];
          }
        } catch {
          await removePartial(item.destination, nonce);
          return [];
        }
        return parsed.journal.completed;
      }
      if (!stale) break;
      folderListings.delete(path.dirname(item.destination));
    }
    return [];
  };

  /**
   * One complete pass at a file: claim or create the partial, fetch the missing ranges, hash.
   * Returns the partial's nonce and the actual digest; the caller verifies and commits.
   */
  const transferOnce = async (run: ItemRun, fresh: boolean): Promise<{ nonce: string; actual: string; journaled: boolean }> => {
    const { item } = run;
    const signal = run.controller.signal;
    const nonce = newNonce();
    const completed = fresh ? [] : await claimResume(run, nonce);
    const resumed = totalLength(completed);
    const partial = partialPath(item.destination, nonce);
    const journalFile = journalPath(item.destination, nonce);
    const chunked = item.size >= chunkThreshold;

    let file: FileHandle | undefined;
    try {
      file = await open(partial, resumed > 0 ? 'r+' : 'w+');
      // Chunked files are preallocated up front (ranges land at their offsets); a file fetched in
      // one request fills in order and is extended to its size only before its first journal
      // write (a resumed partial must have the full size): most small files finish before that,
      // and the saved ftruncate shows in profiles of repos with many small files.
      if (resumed === 0 && chunked) await file.truncate(item.size);
    } catch (error) {
      await file?.close().catch(() => undefined);
      await rm(partial, { force: true }).catch(() => undefined);
      throw diskError(error, partial);
    }
    run.bytesResumed += resumed;
    run.countedDone += resumed;
    totals.bytesDone += resumed;

    const ranges: RangeState[] = planChunks({ size: item.size, chunkThreshold, chunkSize, completed, tailBytes, tailChunkSize }).map((r) => ({ ...r, written: 0, done: false }));
    const hasher: PrefixHasher =
      item.size >= WORKER_HASH_MIN ? createWorkerPrefixHasher(hashPool, partial, item.digest.algorithm, item.size) : createInlinePrefixHasher(item.digest.algorithm, item.size);

    const onDisk = (): Interval[] => mergeIntervals([...completed, ...ranges.map((r): Interval => [r.start, r.start + r.written])]);
    let doneBytes = resumed;

    // Journal: rewritten (temp + rename) once `journalEveryBytes` more bytes are on disk, or
    // journalIntervalMs after the first unrecorded byte, one write at a time. kill -9 keeps the
    // page cache, so a run killed mid-file loses only the unrecorded bytes. The data is not
    // fdatasync'ed: a sync per second forced the file to disk speed while it downloaded (5 % of the
    // capped bench) and still left a power cut able to make the journal claim bytes that never
    // reached the disk. That case is caught by the hash check (one full re-fetch, never a wrong
    // blob), as for every other tool that resumes (huggingface_hub, aria2c sync nothing either).
    let journalTimer: NodeJS.Timeout | undefined;
    let journalChain: Promise<void> = Promise.resolve();
    let journalBusy = false;
    let journalAgain = false;
    let journalWritten = resumed > 0;
    let preallocated = resumed > 0 || chunked;
    let journalWarned = false;
    let unrecorded = 0;
    let finished = false;
    const journalOf = (completed: Interval[]) => ({ version: JOURNAL_VERSION, size: item.size, digest: { algorithm: item.digest.algorithm, hex: item.digest.hex.toLowerCase() }, chunkSize, completed });
    const warnJournal = (error: unknown) => {
      if (journalWarned) return;
      journalWarned = true;
      emit({ type: 'warning', id: item.id, message: `Could not save the resume journal of ${item.label} (${(error as NodeJS.ErrnoException).code ?? String(error)}).` });
    };
    /** Record what is on disk; a failure is returned (and warned about unless `quiet`), never thrown. */
    const writeJournalNow = async (quiet = false): Promise<unknown> => {
      unrecorded = 0;
      const snapshot = onDisk();
      if (totalLength(snapshot) === 0) return undefined;
      try {
        if (!preallocated) {
          await file.truncate(item.size);
          preallocated = true;
        }
        await writeJournalFile(journalFile, journalOf(snapshot));
        journalWritten = true;
        stats.journalWrites++;
        return undefined;
      } catch (error) {
        if (!quiet) warnJournal(error);
        return error;
      }
    };
    /**
     * The disk is full, so the journal cannot get a new temp file: rewrite the existing one in
     * place, or, with none yet, shrink the partial to its contiguous prefix (freeing the blocks
     * after it) and record just that. Either way the next run fetches only what is missing.
     */
    const saveJournalOnFullDisk = async (): Promise<unknown> => {
      try {
        if (journalWritten) {
          if (await overwriteJournalInPlace(journalFile, journalOf(onDisk()))) return undefined;
          return new Error('the journal does not fit in place');
        }
        // Back a little from the prefix end: the freed pages make room for the journal itself.
        const keep = Math.max(0, contiguousPrefix(onDisk()) - FULL_DISK_SLACK);
        if (keep === 0) return new Error('nothing contiguous to keep');
        await file.truncate(keep);
        await file.truncate(item.size);
        preallocated = true;
        await writeJournalFile(journalFile, journalOf([[0, keep]]));
        journalWritten = true;
        return undefined;
      } catch (error) {
        return error;
      }
    };
    const persistJournal = (): Promise<void> => {
      if (journalTimer) clearTimeout(journalTimer);
      journalTimer = undefined;
      if (journalBusy) {
        journalAgain = true;
        return journalChain;
      }
      journalBusy = true;
      journalChain = (async () => {
        do {
          journalAgain = false;
          await writeJournalNow();
        } while (journalAgain && !finished);
        journalBusy = false;
      })();
      return journalChain;
    };
    const markDirty = (length: number) => {
      if (finished) return;
      unrecorded += length;
      if (unrecorded >= journalEveryBytes) void persistJournal();
      else if (!journalTimer) {
        journalTimer = setTimeout(() => {
          journalTimer = undefined;
          if (!finished) void persistJournal();
        }, journalIntervalMs);
      }
    };

    emit({ type: 'file-started', id: item.id, label: item.label, size: item.size, resumedBytes: resumed, chunks: ranges.length });
    if (ranges.length > 0) resolveAhead(run);
    let prefixEnd = contiguousPrefix(completed);
    if (resumed > 0) hasher.advanceTo(prefixEnd);

    const runRange = async (range: RangeState): Promise<void> => {
      let attempt = 0;
      while (!range.done) {
        if (signal.aborted) throw signal.reason;
        const release = await connectionSlots.acquire({ urgent: attempt > 0 || range.written > 0, signal });
        let failure: AttemptError | undefined;
        const writtenBefore = range.written;
        let generation = run.sourceGeneration;
        try {
          const current = await currentSource(run);
          generation = current.generation;
          const want = { start: range.start + range.written, end: range.end };
          const acceptWhole = !chunked && range.start === 0 && range.end === item.size;
          let rewinding = false;
          await fetchRange({
            dispatcher,
            source: current.source,
            range: want,
            size: item.size,
            acceptWhole,
            file,
            stallTimeoutMs,
            bucket,
            signal,
            label: item.label,
            onReceived: (bytes) => {
              run.bytesTransferred += bytes;
              totals.bytesTransferred += bytes;
            },
            onWritten: (offset, buffers, length) => {
              if (offset === 0 && want.start > 0 && !rewinding) {
                // A 200 with the whole file: the range starts over from byte 0.
                rewinding = true;
                totals.bytesDone -= range.written;
                run.countedDone -= range.written;
                doneBytes -= range.written;
                range.written = 0;
                hasher.reset();
              }
              range.written = offset + length - range.start;
              doneBytes += length;
              totals.bytesDone += length;
              run.countedDone += length;
              run.reResolvesWithoutProgress = 0;
              hasher.offer(offset, buffers, length);
              // The contiguous prefix [0, prefixEnd) can only grow through a write that starts
              // inside it or at its end (byte prefixEnd is not on disk): other writes skip the
              // interval merge, which otherwise ran for every batch over all of a file's ranges.
              if (offset <= prefixEnd) {
                prefixEnd = contiguousPrefix(onDisk());
                hasher.advanceTo(prefixEnd);
              }
              markDirty(length);
              progress(run, doneBytes);
            },
          });
          range.done = true;
        } catch (error) {
          if (!(error instanceof AttemptError)) throw error;
          failure = error;
        } finally {
          release();
        }
        if (!failure) break;
        if (signal.aborted) throw signal.reason;
        if (failure.kind === 'fatal') throw failure.error;
        if (failure.kind === 'expired' || failure.kind === 'redirect') {
          if (run.reResolvesWithoutProgress >= 1 && run.sourceGeneration === generation) throw failure.error;
          run.retries++;
          totals.retries++;
          const why = failure.kind === 'redirect' ? 'redirected, resolving the download URL' : 'the download URL expired, resolving it again';
          emit({ type: 'retry', id: item.id, label: item.label, attempt: 1, delayMs: 0, reason: `${failure.reason}: ${why}`, range: { start: range.start, end: range.end } });
          await resolveSource(run, 'expired', generation);
          continue;
        }
        // Real progress resets the budget; a server that trickles a few bytes per attempt and
        // then stalls does not, or it would be retried forever.
        if (range.written - writtenBefore >= Math.min(PROGRESS_RESETS_RETRIES, range.end - range.start - writtenBefore)) attempt = 0;
        attempt++;
        if (attempt > retryPolicy.maxRetries) throw failure.error;
        const delayMs = retryDelayMs(attempt, retryPolicy, failure.retryAfterSeconds);
        run.retries++;
        totals.retries++;
        emit({ type: 'retry', id: item.id, label: item.label, attempt, delayMs, reason: failure.reason, range: { start: range.start, end: range.end } });
        await sleep(delayMs, signal);
      }
    };

    try {
      if (item.size > 0) {
        // Every range runs until it is done or one fails for good; then the others are stopped.
        const failures: unknown[] = [];
        await Promise.all(
          ranges.map((range) =>
            runRange(range).catch((error: unknown) => {
              failures.push(error);
              if (!signal.aborted) run.controller.abort(error);
            }),
          ),
        );
        if (failures.length > 0) {
          const firstReal = failures.find((f) => !(signal.aborted && f === signal.reason)) ?? failures[0];
          throw firstReal;
        }
      }
      finished = true;
      if (journalTimer) clearTimeout(journalTimer);
      await journalChain;
      progress(run, doneBytes, true);
      const actual = await hasher.finish(file);
      await file.close();
      return { nonce, actual, journaled: journalWritten };
    } catch (error) {
      finished = true;
      if (journalTimer) clearTimeout(journalTimer);
      hasher.close();
      await journalChain;
      // Keep what we have for the next run; a partial with nothing worth keeping goes.
      if (totalLength(onDisk()) > 0 && !(error instanceof MlcacheError && error.code === 'INTEGRITY')) {
        let failure = await writeJournalNow(true);
        if (failure && isDiskFull(failure)) failure = await saveJournalOnFullDisk();
        if (failure) warnJournal(failure);
      }
      await file.close().catch(() => undefined);
      if (!journalWritten) await removePartial(item.destination, nonce).catch(() => undefined);
      else folderListings.delete(path.dirname(item.destination));
      throw error;
    }
  };

  const runItem = async (run: ItemRun): Promise<TransferResult> => {
    const { item } = run;
    const result = (deliveredByOther: boolean): TransferResult => ({
      id: item.id,
      destination: item.destination,
      bytesTransferred: run.bytesTransferred,
      bytesResumed: run.bytesResumed,
      deliveredByOther,
      retries: run.retries,
      durationMs: Date.now() - run.startedAt,
    });
    if (await exists(item.destination)) return result(true);
    // The URL is resolved while the item waits for its turn (a HEAD for LFS files, at most
    // `connections` at once): its first range then starts the moment a connection is free.
    resolveAhead(run);
    const releaseItem = await itemSlots.acquire({ signal: run.controller.signal });
    try {
      let lock: { release(): Promise<void> } | undefined;
      if (item.lockPath && options.acquireLock) {
        let waited = false;
        lock = await options.acquireLock(item.lockPath, {
          signal: run.controller.signal,
          onWait: () => {
            waited = true;
            emit({ type: 'waiting-for-lock', id: item.id, label: item.label, lockPath: item.lockPath! });
          },
        });
        // The lock's last owner may have left a journal since this run listed the folder.
        if (waited) folderListings.delete(path.dirname(item.destination));
      }
      try {
        // Someone else may have delivered it while we waited for the lock.
        if (lock && (await exists(item.destination))) return result(true);
        for (let pass = 0; ; pass++) {
          const { nonce, actual, journaled } = await transferOnce(run, pass > 0);
          const partial = partialPath(item.destination, nonce);
          if (actual !== item.digest.hex.toLowerCase()) {
            await removePartial(item.destination, nonce);
            totals.bytesDone -= run.countedDone;
            run.countedDone = 0;
            if (pass >= 1) {
              throw new IntegrityError(
                `${item.label} does not match its ${item.digest.algorithm} (expected ${item.digest.hex}, got ${actual}), twice.`,
                { expected: item.digest.hex, actual, algorithm: item.digest.algorithm },
                { hint: 'The server or a proxy in between is sending wrong bytes; nothing was written to the cache. Try again later or report it.' },
              );
            }
            emit({ type: 'warning', id: item.id, message: `${item.label} failed its ${item.digest.algorithm} check (got ${actual}); downloading it again.` });
            continue;
          }
          // Correctness never depends on the lock: if another process delivered the file meanwhile
          // (same verified bytes), keep theirs and drop ours.
          if (await exists(item.destination)) {
            await removePartial(item.destination, nonce);
            return result(true);
          }
          try {
            await rename(partial, item.destination);
          } catch (error) {
            await removePartial(item.destination, nonce).catch(() => undefined);
            if ((error as NodeJS.ErrnoException).code === 'ENOENT' && (await exists(item.destination))) return result(true);
            throw diskError(error, item.destination);
          }
          // Most small files finish before their first journal write: no file to remove (and no
          // failing lstat per file, which shows in profiles of many-small-file repos).
          if (journaled) await rm(journalPath(item.destination, nonce), { force: true });
          return result(false);
        }
      } finally {
        await lock?.release().catch(() => undefined);
      }
    } finally {
      releaseItem();
    }
  };

  const download = async (item: TransferItem): Promise<TransferResult> => {
    if (closed) throw new MlcacheError('INTERNAL', 'The transfer engine is closed.');
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    const onEngineAbort = () => controller.abort(interrupted());
    if (engineController.signal.aborted) controller.abort(interrupted());
    engineController.signal.addEventListener('abort', onEngineAbort, { once: true });
    const run: ItemRun = {
      item,
      controller,
      startedAt: Date.now(),
      bytesTransferred: 0,
      bytesResumed: 0,
      retries: 0,
      countedDone: 0,
      lastProgressAt: 0,
      sourceGeneration: 0,
      reResolvesWithoutProgress: 0,
    };
    totals.filesQueued++;
    totals.bytesTotal += item.size;
    active++;
    startTotals();
    emit({ type: 'file-queued', id: item.id, label: item.label, group: item.group, size: item.size });
    try {
      const result = await runItem(run);
      totals.filesDone++;
      if (result.deliveredByOther) {
        totals.bytesDone += item.size - run.countedDone;
      }
      emit({ type: 'file-done', id: item.id, label: item.label, size: item.size, bytesTransferred: result.bytesTransferred, durationMs: result.durationMs });
      return result;
    } catch (raw) {
      let error: unknown = raw;
      if (engineController.signal.aborted) error = interrupted();
      else if (!isMlcacheError(error)) {
        error = new MlcacheError('INTERNAL', `Downloading ${item.label} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`, {
          cause: raw,
          hint: 'This is a bug in mlcache; please report it with the output of --verbose.',
        });
      }
      totals.filesFailed++;
      const e = error as MlcacheError;
      emit({ type: 'file-failed', id: item.id, label: item.label, code: e.code, message: e.message });
      throw e;
    } finally {
      engineController.signal.removeEventListener('abort', onEngineAbort);
      active--;
      if (active === 0) stopTotals();
    }
  };

  return {
    download,
    get totals() {
      return { ...totals };
    },
    async close() {
      closed = true;
      if (totalsTimer) clearInterval(totalsTimer);
      totalsTimer = undefined;
      options.signal?.removeEventListener('abort', onOuterAbort);
      await hashPool.close();
    },
  };
}

