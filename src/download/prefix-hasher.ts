/**
 * In-order hashing for one pass at a file: in-thread for small files (the bytes just written are
 * hashed while still in memory), a worker of the engine's pool for large ones (it reads the
 * contiguous prefix back from the page cache as it grows, off the event loop).
 */
import type { FileHandle } from 'node:fs/promises';
import type { DigestAlgorithm } from '../util/digest-algorithm.js';
import { createHasher, type HashWorkerPool, type FileHashWorker, type Hasher } from '../util/hash.js';

const MiB = 1024 * 1024;
/** Hash in a worker (off the event loop) from this size on; below, hash in order in-thread. */
const WORKER_HASH_MIN = 16 * MiB;
/** Feed the hash worker when the contiguous prefix has grown by this much. */
const HASH_STEP = 8 * MiB;

export interface PrefixHasher {
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

export function createPrefixHasher(pool: HashWorkerPool, file: string, algorithm: DigestAlgorithm, size: number): PrefixHasher {
  return size >= WORKER_HASH_MIN ? workerPrefixHasher(pool, file, algorithm, size) : inlinePrefixHasher(algorithm, size);
}

function inlinePrefixHasher(algorithm: DigestAlgorithm, size: number): PrefixHasher {
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

function workerPrefixHasher(pool: HashWorkerPool, file: string, algorithm: DigestAlgorithm, size: number): PrefixHasher {
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
      // A 200 answered a retry with the whole file: the prefix is being rewritten, hash it anew.
      void worker?.terminate();
      worker = undefined;
      sent = 0;
    },
    close() {
      void worker?.terminate();
    },
  };
}
