/**
 * File content for fixture repos: literal bytes, or deterministic pseudo-random bytes produced on
 * the fly. Generated content is the AES-128-CTR keystream under a key derived from the seed, which
 * is a fast (native) PRNG that is seekable by construction: byte `o` only depends on counter
 * `o / 16`, so any range of a multi-GB file is produced without generating its prefix, in fixed
 * 64 KiB blocks, with no disk and no memory cost beyond one block.
 */
import { createCipheriv, createHash } from 'node:crypto';

/** Streaming block size (also the unit the PRNG output is produced in). */
export const BLOCK_SIZE = 64 * 1024;

export type ContentSource =
  | { kind: 'literal'; bytes: Buffer }
  | { kind: 'generated'; size: number; seed: number };

const ZEROS = Buffer.alloc(BLOCK_SIZE);

/** Version tag of the generator: part of every digest memo key, bump it if the bytes change. */
export const GENERATOR_VERSION = 'aes128ctr-v1';

/** Default seed of a generated file: a 32-bit hash of its path (types.ts FixtureFile.generated). */
export function defaultSeed(path: string): number {
  return createHash('sha256').update(path).digest().readUInt32BE(0);
}

export function sizeOf(source: ContentSource): number {
  return source.kind === 'literal' ? source.bytes.length : source.size;
}

function keyFor(seed: number): Buffer {
  return createHash('sha256').update(`mlcache-emulator:${GENERATOR_VERSION}:${seed}`).digest().subarray(0, 16);
}

function counterIv(blockOf16: number): Buffer {
  const iv = Buffer.alloc(16);
  // 2^53 / 16 counters are far beyond any fixture; split into two 32-bit words.
  iv.writeUInt32BE(Math.floor(blockOf16 / 2 ** 32), 8);
  iv.writeUInt32BE(blockOf16 % 2 ** 32, 12);
  return iv;
}

/**
 * The bytes [start, end) of a source, as chunks of at most `chunkSize` bytes. Never materialises
 * more than one chunk of a generated file.
 */
export function* readRange(source: ContentSource, start: number, end: number, chunkSize = BLOCK_SIZE): Generator<Buffer> {
  const size = sizeOf(source);
  const stop = Math.min(end, size);
  if (start >= stop) return;
  if (source.kind === 'literal') {
    for (let o = start; o < stop; o += chunkSize) yield source.bytes.subarray(o, Math.min(o + chunkSize, stop));
    return;
  }
  const aligned = start - (start % 16);
  const cipher = createCipheriv('aes-128-ctr', keyFor(source.seed), counterIv(aligned / 16));
  let skip = start - aligned;
  let position = aligned;
  const step = Math.min(chunkSize, BLOCK_SIZE);
  while (position < stop) {
    const length = Math.min(step, stop - position);
    const block = cipher.update(length === BLOCK_SIZE ? ZEROS : ZEROS.subarray(0, length));
    position += length;
    if (skip > 0) {
      const out = block.subarray(skip);
      skip = 0;
      if (out.length > 0) yield out;
    } else {
      yield block;
    }
  }
}

/** The whole content in memory: for small files and test assertions only. */
export function readAll(source: ContentSource): Buffer {
  if (source.kind === 'literal') return source.bytes;
  return Buffer.concat([...readRange(source, 0, source.size)]);
}

/** Byte `offset` of the padding a `wrong-length`/`wrong-total` fault appends past a file's end. */
export function padByte(offset: number): number {
  return ((offset % 256) * 131 + 17) & 0xff;
}

/**
 * The bytes [start, end) of `source` resized to `servedSize` bytes: truncated when smaller, padded
 * with `padByte` when larger. What a CDN serving a different object than the Hub announced sends.
 */
export function* readResized(source: ContentSource, servedSize: number, start: number, end: number, chunkSize = BLOCK_SIZE): Generator<Buffer> {
  const size = sizeOf(source);
  const stop = Math.min(end, servedSize);
  if (start >= stop) return;
  yield* readRange(source, start, Math.min(stop, size), chunkSize);
  for (let o = Math.max(start, size); o < stop; o += chunkSize) {
    const piece = Buffer.allocUnsafe(Math.min(chunkSize, stop - o));
    for (let i = 0; i < piece.length; i++) piece[i] = padByte(o + i);
    yield piece;
  }
}
