/**
 * Positional writes of one attempt's body: socket chunks (often 16–64 KiB) are coalesced into
 * writes of up to `batchBytes` (512 KiB), or whatever arrived in the last `maxAgeMs` (20 ms) on a
 * slow connection. Bytes only count (journal, progress, hash) once they are on disk, so a small batch
 * keeps what a kill loses small. The next batch fills while one is written; `backlogged` says
 * when a second full batch is waiting, so the caller pauses reading and a connection holds at
 * most two batches in memory.
 *
 * After a failed write (a full disk) nothing queued later is written: its offset would be wrong.
 * What part of the failed batch did land is reported, so it counts for the resume.
 */
import type { FileHandle } from 'node:fs/promises';

export interface BatchedWriterOptions {
  file: FileHandle;
  /** Where the first byte goes. */
  position: number;
  batchBytes?: number;
  maxAgeMs?: number;
  /** After each write: absolute offset, the buffers now on disk there, their total length. */
  onWritten: (offset: number, buffers: Buffer[], length: number) => void;
  /** A write failed; the writer is dead from now on. */
  onWriteError: (error: unknown) => void;
  /** A write finished and reading may resume (the caller re-evaluates its pause). */
  onDrained: () => void;
  now?: () => number;
}

export interface BatchedWriter {
  /** Queue a chunk; starts a write when a batch is full or old enough. */
  push(chunk: Buffer): void;
  /** Whether reading should pause: a write is in flight and a full batch is waiting behind it. */
  readonly backlogged: boolean;
  /** Offset just past the last queued byte. */
  readonly end: number;
  /** Offset just past the last byte on disk. */
  readonly position: number;
  /** Write everything queued (after the body ended, or before giving up on an attempt). */
  drain(): Promise<void>;
}

const WRITE_BATCH = 512 * 1024;
const WRITE_MAX_AGE_MS = 20;

export function createBatchedWriter(options: BatchedWriterOptions): BatchedWriter {
  const { file } = options;
  const batchBytes = options.batchBytes ?? WRITE_BATCH;
  const maxAgeMs = options.maxAgeMs ?? WRITE_MAX_AGE_MS;
  const now = options.now ?? (() => performance.now());
  let position = options.position;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let pendingSince = 0;
  /** Bytes of the write in flight (neither pending nor on disk yet). */
  let inFlight = 0;
  let writing = false;
  let failed = false;
  let writes: Promise<void> = Promise.resolve();

  const writeBatch = async (): Promise<void> => {
    if (failed) return;
    const buffers = pending;
    const length = pendingBytes;
    pending = [];
    pendingBytes = 0;
    inFlight = length;
    let written = 0;
    let whole: Buffer | undefined;
    try {
      // writev may write less than asked on some filesystems; finish with plain writes.
      written = (await file.writev(buffers, position)).bytesWritten;
      if (written < length) {
        whole = Buffer.concat(buffers);
        while (written < length) written += (await file.write(whole, written, length - written, position + written)).bytesWritten;
      }
    } catch (error) {
      failed = true;
      inFlight = 0;
      pending = [];
      pendingBytes = 0;
      if (written > 0) {
        options.onWritten(position, [(whole ?? Buffer.concat(buffers)).subarray(0, written)], written);
        position += written;
      }
      throw error;
    }
    inFlight = 0;
    options.onWritten(position, buffers, length);
    position += length;
  };

  const flush = (): void => {
    if (pendingBytes === 0 || writing || failed) return;
    writing = true;
    writes = (async () => {
      try {
        do await writeBatch();
        while (pendingBytes >= batchBytes && !failed);
      } finally {
        writing = false;
      }
    })();
    writes.then(options.onDrained, options.onWriteError);
  };

  return {
    push(chunk) {
      if (failed) return;
      if (pendingBytes === 0) pendingSince = now();
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= batchBytes || now() - pendingSince >= maxAgeMs) flush();
    },
    get backlogged() {
      return writing && pendingBytes >= batchBytes;
    },
    get end() {
      return position + inFlight + pendingBytes;
    },
    get position() {
      return position;
    },
    async drain() {
      await writes.catch(() => undefined);
      while (pendingBytes > 0 && !failed) await writeBatch();
    },
  };
}
