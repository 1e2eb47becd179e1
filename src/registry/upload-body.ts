/**
 * The bytes of a blob upload, streamed from `open(start)` (never the whole blob in memory) and
 * hashed as they are read, so the sha256 of what was sent can be checked before the final PUT.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { MlcacheError } from '../errors.js';

/** The file ended before `size` bytes: it changed while it was being pushed. */
export function shortFile(digest: string, size: number): MlcacheError {
  return new MlcacheError('FILESYSTEM', `The file for ${digest} ended before its ${size} bytes while it was being pushed.`, { hint: 'The file changed during the push: run it again.' });
}

/** The hash of the first `offset` bytes from `open(0)` (a resumed session's prefix); `onShort` when the file is shorter. */
export async function hashPrefix(open: (start: number) => Readable, offset: number, onShort: () => Error): Promise<Hash> {
  const hash = createHash('sha256');
  if (offset === 0) return hash;
  const source = open(0);
  let left = offset;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      hash.update(part);
      left -= part.length;
      if (left === 0) break;
    }
  } finally {
    source.destroy();
  }
  if (left > 0) throw onShort();
  return hash;
}

/** A body of `length` bytes from `open(start)`, hashed into `hash` as undici reads it; `onBytes` is told each part's size. */
export function uploadBody(open: (start: number) => Readable, start: number, length: number, hash: Hash, onBytes: (bytes: number) => void, onShort: () => Error): Readable {
  const source = open(start);
  async function* generate(): AsyncGenerator<Buffer> {
    let left = length;
    try {
      if (left > 0) {
        for await (const chunk of source as AsyncIterable<Buffer>) {
          const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
          hash.update(part);
          left -= part.length;
          onBytes(part.length);
          yield part;
          if (left === 0) break;
        }
      }
    } finally {
      source.destroy();
    }
    if (left > 0) throw onShort();
  }
  return Readable.from(generate(), { objectMode: false });
}
