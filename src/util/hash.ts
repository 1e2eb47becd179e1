/**
 * File digests as the Hub declares them: sha256 for LFS files, and the git blob sha1 for the
 * others, i.e. sha1("blob <size>\0" + bytes) (git-scm "Git Objects"; huggingface_hub
 * utils/_verification.py::verify_maps uses the same two). Three shapes:
 * - `createHasher`: incremental, in this thread (small files, or bytes fed in order);
 * - `hashFile`: a whole file, streamed (never read whole), optionally in a worker thread;
 * - `createHashWorkerPool`: workers that hash files' prefixes as they fill, so that a chunked
 *   download only has a little left to hash when its last range lands (the bytes are read back
 *   from the page cache, off the event loop); `createFileHashWorker` is one file on a pool of one.
 * The worker thread's code is the module util/hash-worker.ts (typed messages, linted like the rest);
 * both threads start digests through util/hash-algorithm.ts. `startHashWorker` below says how the
 * worker is loaded from dist/ and when vitest runs the TypeScript source.
 */
import { open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { HASH_READ_SIZE, startDigest, type HashAlgorithm } from './hash-algorithm.js';
import { HASH_WORKER_ROLE, type HashWorkerReply, type HashWorkerRequest } from './hash-worker.js';

export { gitBlobHeader, type HashAlgorithm } from './hash-algorithm.js';

export interface Hasher {
  update(data: Uint8Array): void;
  /** Lower-case hex. The hasher cannot be used afterwards. */
  digest(): string;
}

/** An incremental hasher. For 'git-sha1' the declared `size` goes into the blob header up front. */
export function createHasher(algorithm: HashAlgorithm, size: number): Hasher {
  const hash = startDigest(algorithm, size);
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
    const buffer = Buffer.allocUnsafe(Math.min(HASH_READ_SIZE, Math.max(1, size)));
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

/**
 * How a pool worker starts. From dist/ (the CLI, the bench) this module is hash.js and the worker
 * is the compiled hash-worker.js beside it. Under vitest, which runs src/*.ts in place, the worker
 * is hash-worker.ts — but a worker thread is plain Node, outside vitest's transform, and Node 20
 * cannot load TypeScript; so the worker gets `--import` of a registration of
 * scripts/typescript-worker-hooks.mjs, loader hooks that transpile .ts with the project's
 * TypeScript (a dev dependency, present wherever the source runs). Both paths run the same module
 * from the same source, so there is no second copy to drift. The price, from source only: the hooks
 * run on a thread of their own per worker, so a worker starts about twice as slowly under vitest
 * (measured ~0.6 s vs ~0.3 s on a loaded 2-core machine; the transpiled files are cached).
 */
function startHashWorker(): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  if (!fromSource) return new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: HASH_WORKER_ROLE });
  const hooks = new URL('../../scripts/typescript-worker-hooks.mjs', import.meta.url).href;
  const register = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(hooks)});`)}`;
  return new Worker(new URL('./hash-worker.ts', import.meta.url), { workerData: HASH_WORKER_ROLE, execArgv: ['--import', register] });
}

function send(worker: Worker, message: HashWorkerRequest): void {
  worker.postMessage(message);
}

/** Hash workers shared by many files: started on first use, at most `size`, the least busy first. */
export interface HashWorkerPool {
  /** Hash `filePath`'s prefix as it fills (see FileHashWorker). */
  open(filePath: string, algorithm: HashAlgorithm, size: number): FileHashWorker;
  /** Stop every worker; unfinished files reject. */
  close(): Promise<void>;
}

interface PoolWorker {
  worker: Worker;
  /** Jobs in progress, by id. */
  jobs: Map<number, (value: { hex: string } | { error: Error }) => void>;
  /** Jobs whose digest is being awaited: the worker keeps the process alive only for those. */
  awaited: number;
}

/**
 * A pool of hash workers. Starting a worker costs ~40 ms of CPU (a V8 isolate), which a repo of
 * many shards would otherwise pay per file, and which competes with the first connections of a
 * download on a small machine; one worker hashes faster (~1.7 GB/s sha256) than most links fill.
 */
export function createHashWorkerPool(maxWorkers = 2): HashWorkerPool {
  const workers: PoolWorker[] = [];
  let nextId = 1;
  let closed = false;

  const spawn = (): PoolWorker => {
    const entry: PoolWorker = { worker: startHashWorker(), jobs: new Map(), awaited: 0 };
    // An idle worker must not keep a finished CLI alive; digest() refs it while awaited.
    entry.worker.unref();
    const failAll = (error: Error) => {
      const index = workers.indexOf(entry);
      if (index >= 0) workers.splice(index, 1);
      for (const settle of [...entry.jobs.values()]) settle({ error });
      entry.jobs.clear();
    };
    entry.worker.on('message', (message: HashWorkerReply) => {
      const settle = entry.jobs.get(message.id);
      if (!settle) return;
      if (message.type === 'progress') progress.get(message.id)?.(message.hashed);
      else if (message.type === 'done') settle({ hex: message.hex });
      else settle({ error: new Error(`hash worker: ${message.message || 'failed'}`) });
    });
    entry.worker.on('error', (error) => failAll(error));
    entry.worker.on('exit', () => failAll(new Error('hash worker exited before finishing')));
    workers.push(entry);
    return entry;
  };
  const progress = new Map<number, (hashed: number) => void>();

  const pick = (): PoolWorker => {
    let best = workers[0];
    for (const w of workers) if (best === undefined || w.jobs.size < best.jobs.size) best = w;
    if (best === undefined || (best.jobs.size > 0 && workers.length < maxWorkers)) return spawn();
    return best;
  };

  return {
    open(filePath, algorithm, size) {
      // A closed pool answers with a job that has already failed (its digest() rejects), so
      // callers meet the error where they await the digest, not at an unexpected call site.
      if (closed) return failedJob(new Error('the hash worker pool is closed'));
      const entry = pick();
      const id = nextId++;
      let hashedBytes = 0;
      let requested = 0;
      let result: { hex: string } | { error: Error } | undefined;
      let awaited = false;
      const waiters: Array<{ resolve: (hex: string) => void; reject: (error: Error) => void }> = [];
      const settle = (value: { hex: string } | { error: Error }) => {
        if (result) return;
        result = value;
        entry.jobs.delete(id);
        progress.delete(id);
        if (awaited && --entry.awaited === 0) entry.worker.unref();
        for (const waiter of waiters.splice(0)) {
          if ('hex' in value) waiter.resolve(value.hex);
          else waiter.reject(value.error);
        }
      };
      entry.jobs.set(id, settle);
      progress.set(id, (hashed) => (hashedBytes = hashed));
      send(entry.worker, { type: 'open', id, path: filePath, algorithm, size });
      return {
        advanceTo(end: number) {
          if (result || end <= requested) return;
          requested = Math.min(end, size);
          send(entry.worker, { type: 'advance', id, to: requested });
        },
        get hashedBytes() {
          return hashedBytes;
        },
        digest() {
          if (result) return 'hex' in result ? Promise.resolve(result.hex) : Promise.reject(result.error);
          if (!awaited) {
            awaited = true;
            if (entry.awaited++ === 0) entry.worker.ref();
          }
          return new Promise<string>((resolve, reject) => waiters.push({ resolve, reject }));
        },
        terminate() {
          if (!result) {
            send(entry.worker, { type: 'cancel', id });
            settle({ error: new Error('hash worker terminated') });
          }
          return Promise.resolve();
        },
      };
    },
    async close() {
      closed = true;
      await Promise.all(workers.splice(0).map((w) => w.worker.terminate()));
    },
  };
}

function failedJob(error: Error): FileHashWorker {
  return {
    advanceTo() {},
    hashedBytes: 0,
    digest: () => Promise.reject(error),
    terminate: () => Promise.resolve(),
  };
}

/** One file's hash in a worker of its own (closed once the digest is known or it is terminated). */
export function createFileHashWorker(filePath: string, algorithm: HashAlgorithm, size: number): FileHashWorker {
  const pool = createHashWorkerPool(1);
  const job = pool.open(filePath, algorithm, size);
  const done = () => void pool.close();
  return {
    advanceTo: (end) => job.advanceTo(end),
    get hashedBytes() {
      return job.hashedBytes;
    },
    digest: () => {
      const digest = job.digest();
      digest.then(done, done);
      return digest;
    },
    async terminate() {
      await job.terminate();
      await pool.close();
    },
  };
}
