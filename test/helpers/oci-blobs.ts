/**
 * Layers the way other tools pack them, for pull tests: tar archives (tar-stream, as modctl's
 * archive/tar writes them), gzip (zlib) and zstd. Node 20 has no zstd encoder, so `zstdFrame`
 * writes a valid zstd frame (RFC 8878) of raw blocks: any decoder reads it.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

export interface TarEntry {
  name: string;
  content?: Buffer | string;
  type?: 'file' | 'directory' | 'symlink';
  linkname?: string;
}

export async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    if (type === 'file') p.entry({ name: e.name, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }, Buffer.from(e.content ?? ''));
    else p.entry({ name: e.name, type, linkname: e.linkname, mode: 0o755, mtime: new Date(0) });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export const gzip = (data: Buffer): Buffer => gzipSync(data);

/** A zstd frame holding `data` in raw (stored) blocks of at most 128 KiB. */
export function zstdFrame(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(6);
  head.writeUInt32LE(0xfd2fb528, 0);
  head[4] = 0x00; // no content size, not single-segment, no checksum, no dictionary
  head[5] = 7 << 3; // window 2^(10+7) = 128 KiB
  parts.push(head);
  const max = 128 * 1024;
  let offset = 0;
  do {
    const size = Math.min(max, data.length - offset);
    const last = offset + size >= data.length ? 1 : 0;
    const header = (size << 3) | (0 << 1) | last;
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), data.subarray(offset, offset + size));
    offset += size;
  } while (offset < data.length);
  return Buffer.concat(parts);
}

export const digestOf = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
