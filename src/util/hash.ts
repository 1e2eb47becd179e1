/**
 * File digests as the Hub declares them: sha256 for LFS files, and the git blob sha1 for the
 * others, i.e. sha1("blob <size>\0" + bytes) (git-scm "Git Objects"; huggingface_hub
 * utils/_verification.py::verify_maps uses the same two). Three shapes:
 * - `createHasher`: incremental, in this thread (small files, or bytes fed in order);
 * - `hashFile`: a whole file, streamed (never read whole), optionally in a worker thread;
 * - `createFileHashWorker`: a worker that hashes a file's prefix as it fills, so that a chunked
 *   download only has a little left to hash when its last range lands (the bytes are read back
 *   from the page cache, off the event loop).
 */
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';

export type HashAlgorithm = 'sha256' | 'git-sha1';

export interface Hasher {
  update(data: Uint8Array): void;
  /** Lower-case hex. The hasher cannot be used afterwards. */
  digest(): string;
}

/** git's blob header: `blob <size>\0` (git hash-object). */
export function gitBlobHeader(size: number): Buffer {
  return Buffer.from(`blob ${size}\0`, 'utf8');
}

/** An incremental hasher. For 'git-sha1' the declared `size` goes into the blob header up front. */
export function createHasher(algorithm: HashAlgorithm, size: number): Hasher {
  let hash: Hash;
  if (algorithm === 'git-sha1') {
    hash = createHash('sha1');
    hash.update(gitBlobHeader(size));
  } else {
    hash = createHash('sha256');
  }
  return {
    update: (data) => {
      hash.update(data);
    },
    digest: () => hash.digest('hex'),
  };
}

export interface HashFileOptions {
  /** Hash in a worker thread (large files: keeps the event loop free). Default false. */
  worker?: boolean;
  signal?: AbortSignal;
}

const READ_SIZE = 4 * 1024 * 1024;

/** Digest of a whole file, read in 4 MiB pieces. */
export async function hashFile(filePath: string, algorithm: HashAlgorithm, options: HashFileOptions = {}): Promise<string> {
  if (options.worker) {
    const handle = await open(filePath, 'r');
    let size: number;
    try {
      size = (await handle.stat()).size;
    } finally {
      await handle.close();
    }
    const worker = createFileHashWorker(filePath, algorithm, size);
    const onAbort = () => void worker.terminate();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      worker.advanceTo(size);
      return await worker.digest();
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
  const handle = await open(filePath, 'r');
  try {
    const size = (await handle.stat()).size;
    const hasher = createHasher(algorithm, size);
    const buffer = Buffer.allocUnsafe(Math.min(READ_SIZE, Math.max(1, size)));
    let position = 0;
    while (position < size) {
      if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted');
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position);
      if (bytesRead === 0) break;
      hasher.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
    return hasher.digest();
  } finally {
    await handle.close();
  }
}

/** A worker hashing a file's prefix [0, n) as `advanceTo(n)` is called with growing n. */
export interface FileHashWorker {
  /** The bytes [0, end) are on disk: hash up to there (calls with smaller values are ignored). */
  advanceTo(end: number): void;
  /** Bytes hashed so far (updated asynchronously). */
  readonly hashedBytes: number;
  /** Resolves with the digest once `size` bytes have been hashed; rejects if the worker fails. */
  digest(): Promise<string>;
  terminate(): Promise<void>;
}

/*
 * The worker is evaluated from source (CommonJS) rather than loaded from a file, so the same code
 * runs from dist/ and under vitest (which cannot start a worker from a .ts file).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const { path, algorithm, size } = workerData;
const hash = createHash(algorithm === 'git-sha1' ? 'sha1' : 'sha256');
if (algorithm === 'git-sha1') hash.update(Buffer.from('blob ' + size + '\\0', 'utf8'));
const fd = fs.openSync(path, 'r');
const buffer = Buffer.allocUnsafe(${READ_SIZE});
let position = 0;
let target = 0;
function pump() {
  while (position < target) {
    const n = fs.readSync(fd, buffer, 0, Math.min(buffer.length, target - position), position);
    if (n === 0) throw new Error('unexpected end of file at ' + position);
    hash.update(n === buffer.length ? buffer : buffer.subarray(0, n));
    position += n;
  }
  parentPort.postMessage({ type: 'progress', hashed: position });
  if (position >= size) {
    fs.closeSync(fd);
    parentPort.postMessage({ type: 'done', hex: hash.digest('hex') });
  }
}
parentPort.on('message', (message) => {
  try {
    if (message.to > target) target = Math.min(message.to, size);
    pump();
  } catch (error) {
    parentPort.postMessage({ type: 'error', message: String(error && error.message || error) });
  }
});
`;

export function createFileHashWorker(filePath: string, algorithm: HashAlgorithm, size: number): FileHashWorker {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: filePath, algorithm, size } });
  // The worker must not keep a finished CLI alive; digest() re-refs it while awaited.
  worker.unref();
  let hashedBytes = 0;
  let requested = 0;
  let settled = false;
  let result: { hex: string } | { error: Error } | undefined;
  const waiters: Array<{ resolve: (hex: string) => void; reject: (error: Error) => void }> = [];
  const settle = (value: { hex: string } | { error: Error }) => {
    if (settled) return;
    settled = true;
    result = value;
    worker.unref();
    for (const waiter of waiters.splice(0)) {
      if ('hex' in value) waiter.resolve(value.hex);
      else waiter.reject(value.error);
    }
    void worker.terminate();
  };
  worker.on('message', (message: { type: string; hashed?: number; hex?: string; message?: string }) => {
    if (message.type === 'progress') hashedBytes = message.hashed ?? hashedBytes;
    else if (message.type === 'done') settle({ hex: message.hex ?? '' });
    else if (message.type === 'error') settle({ error: new Error(`hash worker: ${message.message ?? 'failed'}`) });
  });
  worker.on('error', (error) => settle({ error }));
  worker.on('exit', () => settle({ error: new Error('hash worker exited before finishing') }));
  if (size === 0) worker.postMessage({ to: 0 });
  return {
    advanceTo(end: number) {
      if (settled || end <= requested) return;
      requested = Math.min(end, size);
      worker.postMessage({ to: requested });
    },
    get hashedBytes() {
      return hashedBytes;
    },
    digest() {
      if (result) return 'hex' in result ? Promise.resolve(result.hex) : Promise.reject(result.error);
      worker.ref();
      return new Promise<string>((resolve, reject) => waiters.push({ resolve, reject }));
    },
    async terminate() {
      settle({ error: new Error('hash worker terminated') });
      await worker.terminate();
    },
  };
}
