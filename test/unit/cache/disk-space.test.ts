import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CACHE_MODELS_MARGIN,
  checkSpace,
  checkVolumes,
  DOWNLOAD_MARGIN,
  existingAncestor,
  localCopyDemand,
  marginFor,
  requiredWithMargin,
} from '../../../src/cache/disk-space.js';
import { inspectCacheDir, verifyCacheDir } from '../../../src/cache/verify-cache-dir.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-disk-space-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('disk preflight', () => {
  it('margins: nothing needed needs nothing; download 1% + 4 MiB; cache-models 5% + 1 GiB', () => {
    expect(requiredWithMargin(0, DOWNLOAD_MARGIN)).toBe(0);
    expect(requiredWithMargin(100_000_000, DOWNLOAD_MARGIN)).toBe(101_000_000 + 4 * 1024 ** 2);
    expect(requiredWithMargin(100_000_000, CACHE_MODELS_MARGIN)).toBe(105_000_000 + 1024 ** 3);
    expect(requiredWithMargin(100_000_000)).toBe(requiredWithMargin(100_000_000, CACHE_MODELS_MARGIN));
  });

  it('asks statfs about the nearest existing folder of a cache that does not exist yet', async () => {
    const cache = path.join(dir, 'not', 'yet', 'hub');
    expect(await existingAncestor(cache)).toBe(dir);
    const seen: string[] = [];
    const check = await checkSpace(cache, 10_000_000, { margin: DOWNLOAD_MARGIN, freeSpace: (d) => (seen.push(d), Promise.resolve(10_000_000)) });
    expect(seen).toEqual([dir]);
    expect(check).toMatchObject({ path: dir, bytesNeeded: 10_000_000, bytesRequired: 10_100_000 + 4 * 1024 ** 2, bytesFree: 10_000_000, fits: false });
    // Unknown free space never blocks; the real statfs answers for a real folder.
    expect((await checkSpace(cache, 1e15, { freeSpace: () => Promise.reject(new Error('ENOSYS')) })).fits).toBe(true);
    expect((await checkSpace(cache, 1)).bytesFree).toBeGreaterThan(0);
  });
});

describe('the one preflight: demands per filesystem', () => {
  it('one margin policy: a one-repo run keeps 1% + 4 MiB, a catalog run 5% + 1 GiB', () => {
    expect(marginFor('repo')).toEqual(DOWNLOAD_MARGIN);
    expect(marginFor('catalog')).toEqual(CACHE_MODELS_MARGIN);
  });

  it('sums the demands of folders on one filesystem into one check, each folder named once', async () => {
    const hub = path.join(dir, 'hub');
    const local = path.join(dir, 'models', 'x');
    const asked: string[] = [];
    const checks = await checkVolumes(
      [{ dir: hub, bytes: 10_000_000 }, { dir: local, bytes: 2_000_000 }, { dir: hub, bytes: 1_000_000 }],
      { scope: 'repo', freeSpace: (d) => (asked.push(d), Promise.resolve(15_000_000)) },
    );
    expect(asked).toEqual([dir]);
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ path: dir, roots: [hub, local], bytesNeeded: 13_000_000, bytesRequired: 13_130_000 + 4 * 1024 ** 2, fits: false });
  });

  it('counts every file copied into a local folder (never a hardlink to a blob)', () => {
    const files = [{ size: 100 }, { size: 5_000 }];
    expect(localCopyDemand(path.join(dir, 'local'), files)).toEqual({ dir: path.join(dir, 'local'), bytes: 5_100 });
    expect(localCopyDemand(path.join(dir, 'local'), [])).toEqual({ dir: path.join(dir, 'local'), bytes: 0 });
  });
});

describe('a cache path that is not a directory', () => {
  it('tells a folder, a missing path, a file, and a path below a file apart', async () => {
    await writeFile(path.join(dir, 'file'), 'x');
    expect(await inspectCacheDir(dir)).toEqual({ kind: 'directory' });
    expect(await inspectCacheDir(path.join(dir, 'missing', 'hub'))).toEqual({ kind: 'missing' });
    expect(await inspectCacheDir(path.join(dir, 'file'))).toEqual({ kind: 'not-a-directory', at: path.join(dir, 'file'), what: 'a regular file' });
    expect(await inspectCacheDir(path.join(dir, 'file', 'hub'))).toEqual({ kind: 'not-a-directory', at: path.join(dir, 'file'), what: 'a regular file' });
    await expect(verifyCacheDir(path.join(dir, 'file'), 'HF_HUB_CACHE')).rejects.toMatchObject({
      code: 'USAGE',
      message: `The hub cache ${path.join(dir, 'file')} (from HF_HUB_CACHE) is a regular file, not a directory.`,
    });
    await expect(verifyCacheDir(path.join(dir, 'missing'), '--cache-dir')).resolves.toEqual({ kind: 'missing' });
  });
});
