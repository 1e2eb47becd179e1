import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  blobPath,
  lockPath,
  parseRepoFolderName,
  refPath,
  relativeBlobTarget,
  repoFolderName,
  repoPaths,
  snapshotFilePath,
  treeCachePath,
} from '../../../src/cache/index.js';
import { MlcacheError } from '../../../src/errors.js';

const SHA1 = 'a16a55fda99d2f2e7b69cce5cf93ff4ad3049930';
const SHA256 = '7c5d3f4b8b76583b422fcb9189ad6c89d5d97a094541ce8932dce3ecabde1421';
const COMMIT = '11c5a3d5811f50298f278a704980280950aedb10';
const CACHE = '/c';

describe('repoFolderName', () => {
  it.each([
    [{ id: 'org/name', type: 'model' as const }, 'models--org--name'],
    [{ id: 'gpt2', type: 'model' as const }, 'models--gpt2'],
    [{ id: 'google/fleurs', type: 'dataset' as const }, 'datasets--google--fleurs'],
    [{ id: 'Org/Some.Name_1', type: 'space' as const }, 'spaces--Org--Some.Name_1'],
  ])('%j → %s', (repo, expected) => {
    expect(repoFolderName(repo)).toBe(expected);
    expect(parseRepoFolderName(expected)).toEqual(repo);
  });

  it.each(['../x', 'a/b/c', 'a/../b', 'a--b/c', '', 'a/', '/a', 'a\\b'])('refuses repo id %j', (id) => {
    expect(() => repoFolderName({ id, type: 'model' })).toThrow(MlcacheError);
  });
});

describe('parseRepoFolderName', () => {
  it.each(['kernels--org--name', 'buckets--org--x', 'model--x', 'noseparator', '--x', 'models--', 'models--a----b', '.locks', 'CACHEDIR.TAG'])(
    '%j is not a repo folder mlcache handles',
    (name) => {
      expect(parseRepoFolderName(name)).toBeUndefined();
    },
  );
});

describe('repoPaths and blob/lock/ref paths', () => {
  const repo = { id: 'org/name', type: 'model' as const };
  it('lays out the repo folder as huggingface_hub does', () => {
    expect(repoPaths(CACHE, repo)).toEqual({
      repoDir: '/c/models--org--name',
      blobsDir: '/c/models--org--name/blobs',
      snapshotsDir: '/c/models--org--name/snapshots',
      refsDir: '/c/models--org--name/refs',
      treesDir: '/c/models--org--name/trees',
      noExistDir: '/c/models--org--name/.no_exist',
      locksDir: '/c/.locks/models--org--name',
      tempDir: '/c/models--org--name/.mlcache-tmp',
    });
    expect(blobPath(CACHE, repo, SHA256)).toBe(`/c/models--org--name/blobs/${SHA256}`);
    expect(lockPath(CACHE, repo, SHA1)).toBe(`/c/.locks/models--org--name/${SHA1}.lock`);
    expect(refPath(CACHE, repo, 'refs/pr/1')).toBe('/c/models--org--name/refs/refs/pr/1');
    expect(treeCachePath(CACHE, repo, COMMIT)).toBe(`/c/models--org--name/trees/${COMMIT}.json`);
  });

  it.each([SHA1.toUpperCase(), SHA1.slice(1), `${SHA256}0`, '../x', `"${SHA1}"`, `W/"${SHA1}"`])('refuses blob name %j', (etag) => {
    expect(() => blobPath(CACHE, repo, etag)).toThrow(expect.objectContaining({ code: 'UNSAFE_PATH' }));
    expect(() => lockPath(CACHE, repo, etag)).toThrow(expect.objectContaining({ code: 'UNSAFE_PATH' }));
  });

  it('symlink targets are relative: ../../blobs at depth 0, one more ../ per folder', () => {
    const blob = blobPath(CACHE, repo, SHA1);
    const at = (p: string) => relativeBlobTarget(snapshotFilePath(CACHE, repo, COMMIT, p), blob);
    expect(at('README.md')).toBe(`../../blobs/${SHA1}`);
    expect(at('a/README.md')).toBe(`../../../blobs/${SHA1}`);
    expect(at('a/b/README.md')).toBe(`../../../../blobs/${SHA1}`);
  });

  it('snapshot paths need a 40-hex commit and stay under snapshots/<commit>', () => {
    expect(snapshotFilePath(CACHE, repo, COMMIT, 'x/..y')).toBe(path.join('/c/models--org--name/snapshots', COMMIT, 'x', '..y'));
    expect(snapshotFilePath(CACHE, repo, COMMIT, '..hidden')).toBe(path.join('/c/models--org--name/snapshots', COMMIT, '..hidden'));
    expect(() => snapshotFilePath(CACHE, repo, 'main', 'a')).toThrow(expect.objectContaining({ code: 'UNSAFE_PATH' }));
    expect(() => snapshotFilePath(CACHE, repo, COMMIT.toUpperCase(), 'a')).toThrow(expect.objectContaining({ code: 'UNSAFE_PATH' }));
  });
});
