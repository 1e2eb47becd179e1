/**
 * One source of truth for byte counts: what each file and the whole run have on disk (`done`:
 * resumed from a journal or written by this run, never the apparent size of a preallocated
 * partial), what came over the network (`transferred`), and file counts. Progress events and the
 * totals read from here; every change goes through one of these methods, so a rewind (a server
 * that restarted a range from 0) or a discarded pass (a failed hash) can never leave the totals
 * counting bytes that are gone.
 */
import type { TransferTotals } from './types.js';

export interface ItemBytes {
  /** Bytes of this file on disk and counted into totals.bytesDone. */
  done: number;
  transferred: number;
  resumed: number;
  retries: number;
}

export interface ByteLedger {
  readonly totals: Readonly<TransferTotals>;
  item(): ItemBytes;
  queued(size: number): void;
  resumed(item: ItemBytes, bytes: number): void;
  /** Bytes that landed on disk. */
  written(item: ItemBytes, bytes: number): void;
  /** Bytes on disk that no longer count (rewritten from 0, or a pass thrown away). */
  lost(item: ItemBytes, bytes: number): void;
  received(item: ItemBytes, bytes: number): void;
  retried(item: ItemBytes): void;
  fileDone(item: ItemBytes, size: number): void;
  fileFailed(): void;
}

export function createByteLedger(): ByteLedger {
  const totals: TransferTotals = { filesQueued: 0, filesDone: 0, filesFailed: 0, bytesTotal: 0, bytesDone: 0, bytesTransferred: 0, retries: 0 };
  return {
    totals,
    item: () => ({ done: 0, transferred: 0, resumed: 0, retries: 0 }),
    queued(size) {
      totals.filesQueued++;
      totals.bytesTotal += size;
    },
    resumed(item, bytes) {
      item.resumed += bytes;
      item.done += bytes;
      totals.bytesDone += bytes;
    },
    written(item, bytes) {
      item.done += bytes;
      totals.bytesDone += bytes;
    },
    lost(item, bytes) {
      const n = Math.min(bytes, item.done);
      item.done -= n;
      totals.bytesDone -= n;
    },
    received(item, bytes) {
      item.transferred += bytes;
      totals.bytesTransferred += bytes;
    },
    retried(item) {
      item.retries++;
      totals.retries++;
    },
    fileDone(item, size) {
      // Delivered by another process (or already there): the whole file counts as done.
      totals.bytesDone += size - item.done;
      item.done = size;
      totals.filesDone++;
    },
    fileFailed() {
      totals.filesFailed++;
    },
  };
}
