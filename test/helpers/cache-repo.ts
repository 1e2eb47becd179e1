/**
 * Fixture repos written straight into an HF hub cache, laid out as huggingface_hub's
 * file_download.py writes them (`blobs/<etag>`, `snapshots/<commit>/<path>` a relative symlink to
 * `../../blobs/<etag>` (one more `../` per folder), `refs/<name>` holding the commit), without
 * mlcache's own writers: for tests of what reads or repairs a cache another tool wrote. The blob
 * name is the sha256 of an LFS file and the git blob sha1 of a regular one (the Hub's etags).
 * Repos for the Hub emulator are `FixtureRepo` data (src/emulator/types.ts), not this.
 */
import { createHash } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** sha256 of some bytes, hex: an LFS file's etag and blob name. */
export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** git's blob id (`sha1("blob <size>\0" + bytes)`), hex: a regular file's etag and blob name. */
export function gitBlobSha1(data: Buffer | string): string {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export interface CacheRepoFile {
  path: string;
  content: Buffer | string;
  /** An LFS file: its blob is named by sha256 (default: git blob sha1). */
  lfs?: boolean;
}

export interface CacheRepoFixture {
  /** `org/name`. */
  id: string;
  /** @default 'model' */
  type?: 'model' | 'dataset' | 'space';
  commit: string;
  files: CacheRepoFile[];
  /** Refs written with the commit (no trailing newline). @default ['main'] */
  refs?: string[];
}

export interface WrittenCacheRepo {
  /** `<cache>/models--org--name`. */
  dir: string;
  blobsDir: string;
  snapshotDir: string;
  /** File path → its blob name. */
  etags: Record<string, string>;
}

/** Write one repo (blobs, snapshot links, refs) into `cacheDir`; folders are created as needed. */
export async function writeCacheRepo(cacheDir: string, fixture: CacheRepoFixture): Promise<WrittenCacheRepo> {
  const dir = path.join(cacheDir, `${fixture.type ?? 'model'}s--${fixture.id.split('/').join('--')}`);
  const blobsDir = path.join(dir, 'blobs');
  const snapshotDir = path.join(dir, 'snapshots', fixture.commit);
  await mkdir(blobsDir, { recursive: true });
  await mkdir(path.join(dir, 'refs'), { recursive: true });
  await mkdir(snapshotDir, { recursive: true });
  const etags: Record<string, string> = {};
  for (const file of fixture.files) {
    const etag = file.lfs === true ? sha256Hex(file.content) : gitBlobSha1(file.content);
    etags[file.path] = etag;
    await writeFile(path.join(blobsDir, etag), file.content);
    const pointer = path.join(snapshotDir, ...file.path.split('/'));
    await mkdir(path.dirname(pointer), { recursive: true });
    const up = '../'.repeat(file.path.split('/').length + 1);
    await symlink(`${up}blobs/${etag}`, pointer);
  }
  for (const ref of fixture.refs ?? ['main']) {
    const refFile = path.join(dir, 'refs', ...ref.split('/'));
    await mkdir(path.dirname(refFile), { recursive: true });
    await writeFile(refFile, fixture.commit);
  }
  return { dir, blobsDir, snapshotDir, etags };
}
