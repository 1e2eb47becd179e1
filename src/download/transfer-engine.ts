/**
 * The transfer engine: one scheduler per run shared by every item. It keeps the semaphores and
 * the item loop; each job below it lives in its own module (docs/download.md has the map):
 *
 *   file-pass.ts       one pass at a file: adopt or start a partial, run its ranges, hash
 *   range-runner.ts    one range until done, retrying as retry-decision.ts (pure) decides
 *   fetch-range.ts     one HTTP exchange, with stall-timer.ts and batched-writer.ts
 *   resume-claimer.ts  adopt or discard what earlier runs left (folder listed once, O(1) lookups)
 *   journal-writer.ts  the journal of one partial, true from its creation to its removal
 *   item-source.ts     an item's URL: resolved ahead, refreshed single-flight
 *   byte-ledger.ts     every byte count, one source of truth for progress and totals
 *
 * Bookkeeping is O(1) per queued item: a queued item is an entry in a FIFO with no listener, no
 * timer and no file; only the items holding an item slot (at most 2 × connections) have an abort
 * controller. The engine listens once on the caller's signal and, on abort, rejects the queue and
 * aborts the active items directly — there is no listener per item on a shared signal (Node
 * checks each new listener against all existing ones: 200,000 queued files were O(n²)).
 *
 * The engine knows nothing of the Hub or the cache layout (docs/download.md).
 */
import { setMaxListeners } from 'node:events';
import { rename, rm } from 'node:fs/promises';
import { IntegrityError, MlcacheError, isMlcacheError } from '../errors.js';
import { createHashWorkerPool, type HashWorkerPool } from '../util/hash.js';
import { pathExists } from '../util/path-exists.js';
import { createByteLedger, type ItemBytes } from './byte-ledger.js';
import { diskError } from './fetch-range.js';
import { runFilePass, type PassSettings } from './file-pass.js';
import { createItemSource, type ItemSource } from './item-source.js';
import { journalPath, partialPath, removePartial } from './journal.js';
import { createResumeClaimer } from './resume-claimer.js';
import { createSemaphore } from '../util/semaphore.js';
import { createTokenBucket } from '../util/token-bucket.js';
import type { RetryPolicy, TransferEngine, TransferEngineOptions, TransferEvent, TransferItem, TransferResult } from './types.js';

const MiB = 1024 * 1024;
export const DEFAULTS = {
  connections: 16,
  chunkThreshold: 64 * MiB,
  chunkSize: 16 * MiB,
  stallTimeoutMs: 30_000,
  retry: { maxRetries: 8, baseDelayMs: 500, maxDelayMs: 30_000, maxElapsedMs: 300_000 } satisfies RetryPolicy,
  progressIntervalMs: 100,
  totalsIntervalMs: 500,
} as const;

function interrupted(): MlcacheError {
  return new MlcacheError('INTERRUPTED', 'Interrupted.', { hint: 'Run the same command again to resume; finished ranges are kept.' });
}


/** A queued or running item. */
interface Entry {
  item: TransferItem;
  bytes: ItemBytes;
  source: ItemSource;
  queuedAt: number;
  settle(error: unknown, result?: TransferResult): void;
  /** Set once the item holds an item slot. */
  controller?: AbortController;
  lastProgressAt: number;
}

/** A FIFO whose shift is O(1) (an array with a moving head, compacted now and then). */
class Queue<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(value: T): void {
    this.items.push(value);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const value = this.items[this.head]!;
    this.items[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return value;
  }
  /** The first `n` waiting values (no copy of the rest). */
  *first(n: number): Generator<T> {
    for (let i = this.head; i < this.items.length && i < this.head + n; i++) yield this.items[i]!;
  }
  drain(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }
}

export function createTransferEngine(options: TransferEngineOptions): TransferEngine {
  const connections = Math.max(1, Math.floor(options.connections ?? DEFAULTS.connections));
  const chunkSize = options.chunkSize ?? DEFAULTS.chunkSize;
  // The last `connections × chunkSize` of a file go in quarter chunks: while the last full-size
  // range runs on one connection, the others have that much tail work (docs/download.md).
  const tailChunkSize = Math.min(chunkSize, options.tailChunkSize ?? Math.max(MiB, Math.floor(chunkSize / 4)));
  const ledger = createByteLedger();
  const emit = (event: TransferEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A renderer bug must not break a download.
    }
  };
  const hashPool: HashWorkerPool = createHashWorkerPool(2);
  const claimer = createResumeClaimer((message) => emit({ type: 'warning', message }));
  const pass: PassSettings = {
    dispatcher: options.dispatcher,
    connections,
    chunkThreshold: options.chunkThreshold ?? DEFAULTS.chunkThreshold,
    chunkSize,
    tailChunkSize,
    tailBytes: tailChunkSize < chunkSize ? connections * chunkSize : 0,
    stallTimeoutMs: options.stallTimeoutMs ?? DEFAULTS.stallTimeoutMs,
    policy: { ...DEFAULTS.retry, ...options.retry },
    bucket: options.maxRate ? createTokenBucket(options.maxRate) : undefined,
    hashPool,
    connectionSlots: createSemaphore(connections),
    claimer,
    ledger,
    emit,
  };
  // Files being prepared or transferred at once: enough to keep every connection busy with small
  // files, without opening hundreds of descriptors or resolving every URL up front.
  const itemLimit = Math.max(4, connections * 2);
  const resolveSlots = createSemaphore(connections);
  // Listeners an active item's signal may carry: one per range worker, plus a lock wait.
  const itemListeners = connections + 8;

  const queue = new Queue<Entry>();
  const active = new Set<Entry>();
  let abortReason: MlcacheError | undefined;
  let closed = false;

  // ---- totals events --------------------------------------------------------------------------
  const runStartedAt = Date.now();
  let totalsTimer: NodeJS.Timeout | undefined;
  const emitTotals = () => {
    const elapsedMs = Date.now() - runStartedAt;
    const totals = { ...ledger.totals };
    emit({ type: 'totals', totals, bytesPerSecond: elapsedMs > 0 ? Math.round((totals.bytesTransferred / elapsedMs) * 1000) : 0, elapsedMs });
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

  // ---- abort: one listener on the caller's signal -----------------------------------------------
  const onAbort = () => {
    abortReason ??= interrupted();
    for (const entry of queue.drain()) entry.settle(abortReason);
    for (const entry of active) entry.controller?.abort(abortReason);
  };
  if (options.signal?.aborted) abortReason = interrupted();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  // ---- the item loop ------------------------------------------------------------------------------
  const progress = (entry: Entry, force = false) => {
    const now = Date.now();
    if (!force && now - entry.lastProgressAt < DEFAULTS.progressIntervalMs) return;
    entry.lastProgressAt = now;
    emit({ type: 'file-progress', id: entry.item.id, bytesDone: entry.bytes.done, size: entry.item.size });
  };

  const runItem = async (entry: Entry, controller: AbortController): Promise<boolean> => {
    const { item } = entry;
    if (await pathExists(item.destination)) {
      await claimer.sweep(item.destination);
      return true;
    }
    let lock: { release(): Promise<void>; contended?: boolean } | undefined;
    if (item.lockPath && options.acquireLock) {
      lock = await options.acquireLock(item.lockPath, {
        signal: controller.signal,
        onWait: () => emit({ type: 'waiting-for-lock', id: item.id, label: item.label, lockPath: item.lockPath! }),
      });
    }
    try {
      // The lock's last owner may have delivered the file, or left a partial since the listing.
      if (lock?.contended) claimer.relist(item.destination);
      if (lock && (await pathExists(item.destination))) {
        await claimer.sweep(item.destination);
        return true;
      }
      for (let attempt = 0; ; attempt++) {
        const { nonce, actual } = await runFilePass(pass, {
          item,
          bytes: entry.bytes,
          source: entry.source,
          controller,
          exclusive: lock !== undefined,
          fresh: attempt > 0,
          progress: (force) => progress(entry, force),
        });
        if (actual !== item.digest.hex.toLowerCase()) {
          await removePartial(item.destination, nonce);
          ledger.lost(entry.bytes, entry.bytes.done);
          if (attempt >= 1) {
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
        if (await pathExists(item.destination)) {
          await removePartial(item.destination, nonce);
          return true;
        }
        try {
          await rename(partialPath(item.destination, nonce), item.destination);
        } catch (error) {
          await removePartial(item.destination, nonce).catch(() => undefined);
          if ((error as NodeJS.ErrnoException).code === 'ENOENT' && (await pathExists(item.destination))) return true;
          throw diskError(error, item.destination);
        }
        // The partial is the blob now; its journal goes last (a kill in between leaves a journal
        // without a partial, which the next run that meets this blob removes).
        await rm(journalPath(item.destination, nonce), { force: true });
        return false;
      }
    } finally {
      await lock?.release().catch(() => undefined);
    }
  };

  const start = (entry: Entry) => {
    const controller = new AbortController();
    setMaxListeners(itemListeners, controller.signal);
    entry.controller = controller;
    active.add(entry);
    runItem(entry, controller)
      .then(
        (deliveredByOther) =>
          entry.settle(undefined, {
            id: entry.item.id,
            destination: entry.item.destination,
            bytesTransferred: entry.bytes.transferred,
            bytesResumed: entry.bytes.resumed,
            deliveredByOther,
            retries: entry.bytes.retries,
            durationMs: Date.now() - entry.queuedAt,
          }),
        (error: unknown) => entry.settle(abortReason ?? error),
      )
      .finally(() => {
        active.delete(entry);
        pump();
      });
  };

  const pump = () => {
    while (active.size < itemLimit && abortReason === undefined) {
      const entry = queue.shift();
      if (!entry) break;
      start(entry);
    }
    // The URLs of the next items are resolved while they wait for their turn (a HEAD for LFS
    // files, at most `connections` at once): their first range starts the moment a slot is free.
    for (const entry of queue.first(connections)) entry.source.prefetch();
  };

  let pending = 0;
  /**
   * Items in this engine by destination. Two callers of one run that want the same blob (two
   * catalog entries of one repo selecting the same file) share one transfer: the second does not
   * wait on its own process's lock as if another process held it.
   */
  const inFlight = new Map<string, Promise<TransferResult>>();
  const download = (item: TransferItem): Promise<TransferResult> => {
    const twin = inFlight.get(item.destination);
    if (twin !== undefined) {
      return twin.then((r) => ({ ...r, id: item.id, bytesTransferred: 0, bytesResumed: 0, deliveredByOther: true, retries: 0 }));
    }
    const started = startItem(item);
    inFlight.set(item.destination, started);
    const forget = () => {
      if (inFlight.get(item.destination) === started) inFlight.delete(item.destination);
    };
    started.then(forget, forget);
    return started;
  };
  const startItem = (item: TransferItem): Promise<TransferResult> => {
    if (closed) return Promise.reject(new MlcacheError('INTERNAL', 'The transfer engine is closed.'));
    ledger.queued(item.size);
    pending++;
    startTotals();
    emit({ type: 'file-queued', id: item.id, label: item.label, group: item.group, size: item.size });
    return new Promise<TransferResult>((resolve, reject) => {
      const entry: Entry = {
        item,
        bytes: ledger.item(),
        source: createItemSource(item, resolveSlots),
        queuedAt: Date.now(),
        lastProgressAt: 0,
        settle: (error, result) => {
          const settled = () => {
            pending--;
            if (pending === 0) stopTotals();
          };
          if (error === undefined) {
            ledger.fileDone(entry.bytes, item.size);
            emit({ type: 'file-done', id: item.id, label: item.label, size: item.size, bytesTransferred: result!.bytesTransferred, durationMs: result!.durationMs });
            settled();
            resolve(result!);
            return;
          }
          let typed: MlcacheError;
          if (abortReason) typed = abortReason;
          else if (isMlcacheError(error)) typed = error;
          else {
            typed = new MlcacheError('INTERNAL', `Downloading ${item.label} failed unexpectedly: ${error instanceof Error ? error.message : JSON.stringify(error)}`, {
              cause: error,
              hint: 'This is a bug in mlcache; please report it with the output of --verbose.',
            });
          }
          ledger.fileFailed();
          emit({ type: 'file-failed', id: item.id, label: item.label, code: typed.code, message: typed.message });
          settled();
          reject(typed);
        },
      };
      if (abortReason) {
        entry.settle(abortReason);
        return;
      }
      queue.push(entry);
      pump();
    });
  };

  return {
    download,
    get totals() {
      return { ...ledger.totals };
    },
    async close() {
      closed = true;
      if (totalsTimer) clearInterval(totalsTimer);
      totalsTimer = undefined;
      options.signal?.removeEventListener('abort', onAbort);
      await hashPool.close();
    },
  };
}
