/**
 * Export and import report their blobs as the transfer engine reports downloads (TransferEvent:
 * file-queued / started / progress / done / failed, and totals), so the same renderers show them:
 * bars on a terminal, lines in a log, NDJSON with --json. Progress of one blob at most every
 * 200 ms, totals every 500 ms and once at the end (as the engine does).
 */
import type { TransferEvent, TransferTotals } from '../download/types.js';

export interface BlobProgress {
  queue(id: string, label: string, size: number): void;
  /** A blob starts moving; returns a counter to call with each chunk's length. */
  start(id: string, label: string, size: number): (bytes: number) => void;
  done(id: string, label: string, size: number, moved: number): void;
  /** A blob that was already there (skipped): counts as done without bytes moved. */
  skip(id: string, label: string, size: number): void;
  fail(id: string, label: string, code: string, message: string): void;
  /** Stop the timer and emit the final totals. */
  finish(): TransferTotals;
}

const PROGRESS_INTERVAL_MS = 200;
const TOTALS_INTERVAL_MS = 500;

export function createBlobProgress(onEvent: ((event: TransferEvent) => void) | undefined): BlobProgress {
  const started = Date.now();
  const totals: TransferTotals = { filesQueued: 0, filesDone: 0, filesFailed: 0, bytesTotal: 0, bytesDone: 0, bytesTransferred: 0, retries: 0 };
  const queued = new Set<string>();
  let finished: TransferTotals | undefined;
  const emit = (event: TransferEvent) => onEvent?.(event);
  const emitTotals = () => {
    const elapsedMs = Date.now() - started;
    emit({ type: 'totals', totals: { ...totals }, bytesPerSecond: elapsedMs > 0 ? Math.round((totals.bytesTransferred / elapsedMs) * 1000) : 0, elapsedMs });
  };
  const timer = onEvent ? setInterval(emitTotals, TOTALS_INTERVAL_MS) : undefined;
  timer?.unref();
  const queue = (id: string, label: string, size: number) => {
    if (queued.has(id)) return;
    queued.add(id);
    totals.filesQueued++;
    totals.bytesTotal += size;
    emit({ type: 'file-queued', id, label, size });
  };
  return {
    queue,
    start(id, label, size) {
      queue(id, label, size);
      emit({ type: 'file-started', id, label, size, resumedBytes: 0, chunks: 1 });
      let done = 0;
      let last = 0;
      return (bytes) => {
        done += bytes;
        totals.bytesDone += bytes;
        totals.bytesTransferred += bytes;
        const now = Date.now();
        if (now - last >= PROGRESS_INTERVAL_MS) {
          last = now;
          emit({ type: 'file-progress', id, bytesDone: done, size });
        }
      };
    },
    done(id, label, size, moved) {
      totals.filesDone++;
      emit({ type: 'file-done', id, label, size, bytesTransferred: moved, durationMs: 0 });
    },
    skip(id, label, size) {
      queue(id, label, size);
      totals.filesDone++;
      totals.bytesDone += size;
      emit({ type: 'file-done', id, label, size, bytesTransferred: 0, durationMs: 0 });
    },
    fail(id, label, code, message) {
      totals.filesFailed++;
      emit({ type: 'file-failed', id, label, code, message });
    },
    finish() {
      if (finished) return finished;
      if (timer) clearInterval(timer);
      emitTotals();
      finished = { ...totals };
      return finished;
    },
  };
}
