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

/** Up to `length` bytes of `source`, in the chunks it gives; `onShort` when it ends first. The source is destroyed at the end. */
async function* take(source: Readable, length: number, onShort: () => Error): AsyncGenerator<Buffer> {
  let left = length;
  try {
    if (left > 0) {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
        left -= part.length;
        yield part;
        if (left === 0) break;
      }
    }
  } finally {
    source.destroy();
  }
  if (left > 0) throw onShort();
}

/** The hash of the first `offset` bytes from `open(0)` (a resumed session's prefix); `onShort` when the file is shorter. */
export async function hashPrefix(open: (start: number) => Readable, offset: number, onShort: () => Error): Promise<Hash> {
  const hash = createHash('sha256');
  if (offset === 0) return hash;
  for await (const part of take(open(0), offset, onShort)) hash.update(part);
  return hash;
}

/** A body of `length` bytes from `open(start)`, hashed into `hash` as undici reads it; `onBytes` is told each part's size. */
export function uploadBody(open: (start: number) => Readable, start: number, length: number, hash: Hash, onBytes: (bytes: number) => void, onShort: () => Error): Readable {
  const parts = take(open(start), length, onShort);
  async function* generate(): AsyncGenerator<Buffer> {
    for await (const part of parts) {
      hash.update(part);
      onBytes(part.length);
      yield part;
    }
  }
  return Readable.from(generate(), { objectMode: false });
}
