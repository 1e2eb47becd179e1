/**
 * The hash worker thread (started by util/hash.ts's pool): hashes any number of files ("jobs"),
 * each up to the target its owner last announced, in 4 MiB synchronous reads — the thread exists
 * so that those reads and the hashing stay off the main event loop. It speaks the messages typed
 * below; the digests start as on the main thread (hash-algorithm.ts).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Hash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { HASH_READ_SIZE, startDigest, type HashAlgorithm } from './hash-algorithm.js';

/** Main thread → worker. */
export type HashWorkerRequest =
  | { type: 'open'; id: number; path: string; algorithm: HashAlgorithm; size: number }
  /** The bytes [0, to) are on disk. */
  | { type: 'advance'; id: number; to: number }
  | { type: 'cancel'; id: number };

/** Worker → main thread. */
export type HashWorkerReply =
  | { type: 'progress'; id: number; hashed: number }
  | { type: 'done'; id: number; hex: string }
  | { type: 'error'; id: number; message: string };

/** The `workerData` util/hash.ts starts this module with; the module does nothing without it. */
export const HASH_WORKER_ROLE = 'mlcache-hash-worker';

interface Job {
  fd: number;
  hash: Hash;
  size: number;
  position: number;
  target: number;
}

function startWorker(port: NonNullable<typeof parentPort>): void {
  const buffer = Buffer.allocUnsafe(HASH_READ_SIZE);
  const jobs = new Map<number, Job>();
  const reply = (message: HashWorkerReply) => port.postMessage(message);

  const pump = (id: number, job: Job) => {
    while (job.position < job.target) {
      const n = readSync(job.fd, buffer, 0, Math.min(buffer.length, job.target - job.position), job.position);
      if (n === 0) throw new Error(`unexpected end of file at ${job.position}`);
      job.hash.update(n === buffer.length ? buffer : buffer.subarray(0, n));
      job.position += n;
    }
    reply({ type: 'progress', id, hashed: job.position });
    if (job.position >= job.size) {
      jobs.delete(id);
      closeSync(job.fd);
      reply({ type: 'done', id, hex: job.hash.digest('hex') });
    }
  };

  port.on('message', (message: HashWorkerRequest) => {
    const { id } = message;
    let job = jobs.get(id);
    try {
      if (message.type === 'open') {
        job = { fd: openSync(message.path, 'r'), hash: startDigest(message.algorithm, message.size), size: message.size, position: 0, target: 0 };
        jobs.set(id, job);
        if (message.size === 0) pump(id, job);
      } else if (message.type === 'advance' && job) {
        if (message.to > job.target) job.target = Math.min(message.to, job.size);
        pump(id, job);
      } else if (message.type === 'cancel' && job) {
        jobs.delete(id);
        closeSync(job.fd);
      }
    } catch (error) {
      if (job) {
        jobs.delete(id);
        try {
          closeSync(job.fd);
        } catch {
          // Already closed, or never opened: nothing to release.
        }
      }
      reply({ type: 'error', id, message: error instanceof Error ? error.message : String(error) });
    }
  });
}

// Only as the pool's worker: imported anywhere else (even in another worker thread) it does nothing.
if (parentPort && workerData === HASH_WORKER_ROLE) startWorker(parentPort);
