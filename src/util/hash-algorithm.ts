/**
 * The two digests the Hub declares for a file, shared by the main thread (util/hash.ts) and the
 * hash worker (util/hash-worker.ts) so both start a digest the same way: sha256 for LFS files, and
 * the git blob sha1 for the others, i.e. sha1("blob <size>\0" + bytes) (git-scm "Git Objects").
 */
import { createHash, type Hash } from 'node:crypto';

/** Bytes per read when hashing a file, in this thread or in the worker. */
export const HASH_READ_SIZE = 4 * 1024 * 1024;

export type HashAlgorithm = 'sha256' | 'git-sha1';

/** git's blob header: `blob <size>\0` (git hash-object). */
export function gitBlobHeader(size: number): Buffer {
  return Buffer.from(`blob ${size}\0`, 'utf8');
}

/** A node:crypto hash for `algorithm`; for 'git-sha1' the blob header of the declared `size` is already fed in. */
export function startDigest(algorithm: HashAlgorithm, size: number): Hash {
  if (algorithm === 'sha256') return createHash('sha256');
  const hash = createHash('sha1');
  hash.update(gitBlobHeader(size));
  return hash;
}
