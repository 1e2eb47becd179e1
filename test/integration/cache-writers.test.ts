import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  blobPath,
  commitBlob,
  ensureCacheRoot,
  ensureRepoDirs,
  linkSnapshotFile,
  readRef,
  readTreeCache,
  repoPaths,
  repoTempName,
  serializeTreeCache,
  STALE_TEMP_MS,
  sweepRepoTemps,
  symlinksSupported,
  writeRef,
  writeTreeCache,
} from '../../src/cache/index.js';
import { UNSAFE_PATHS } from '../unit/cache/unsafe-paths.js';

const COMMIT = '11c5a3d5811f50298f278a704980280950aedb10';
const COMMIT2 = '22c5a3d5811f50298f278a704980280950aedb10';
const SHA1 = 'a16a55fda99d2f2e7b69cce5cf93ff4ad3049930';
const SHA256 = '7c5d3f4b8b76583b422fcb9189ad6c89d5d97a094541ce8932dce3ecabde1421';
const repo = { id: 'org/name', type: 'model' as const };

let root: string;
let cache: string;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'mlcache-cache-'));
  cache = path.join(root, 'hub');
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** Every file and folder under `dir`, relative, sorted. */
async function listAll(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

async function putBlob(etag: string, content: string): Promise<string> {
  const file = blobPath(cache, repo, etag);
  const temp = `${file}.abcd1234.incomplete`;
  await ensureRepoDirs(cache, repo);
  await fs.writeFile(temp, content);
  await commitBlob(temp, file);
  return file;
}

describe('ensureCacheRoot / ensureRepoDirs', () => {
  it('creates the cache root without a CACHEDIR.TAG, and keeps one another tool wrote', async () => {
    const root = path.join(cache, 'nested', 'hub');
    await ensureCacheRoot(root);
    expect(await listAll(root)).toEqual([]);
    const tag = 'Signature: 8a477f597d28d172789f06886806bc55\n# written by huggingface_hub >= 1.9\n';
    await fs.writeFile(path.join(root, 'CACHEDIR.TAG'), tag);
    await ensureCacheRoot(root);
    expect(await fs.readFile(path.join(root, 'CACHEDIR.TAG'), 'utf8')).toBe(tag);
    expect(await listAll(root)).toEqual(['CACHEDIR.TAG']);
  });

  it('creates blobs/, snapshots/ and refs/ (refs/ even with no ref)', async () => {
    await ensureRepoDirs(cache, repo);
    expect(await listAll(path.join(cache, 'models--org--name'))).toEqual(['blobs', 'refs', 'snapshots']);
  });
});

describe('writeRef / readRef', () => {
  it('writes the 40-hex commit with no newline, nested for refs/pr/1, atomically', async () => {
    await ensureRepoDirs(cache, repo);
    expect(await writeRef(cache, repo, 'main', COMMIT)).toBe(true);
    expect(await writeRef(cache, repo, 'refs/pr/1', COMMIT2)).toBe(true);
    const refs = repoPaths(cache, repo).refsDir;
    expect(await fs.readFile(path.join(refs, 'main'), 'utf8')).toBe(COMMIT);
    expect((await fs.stat(path.join(refs, 'main'))).size).toBe(40);
    expect(await fs.readFile(path.join(refs, 'refs', 'pr', '1'), 'utf8')).toBe(COMMIT2);
    expect(await listAll(refs)).toEqual(['main', 'refs', 'refs/pr', 'refs/pr/1']); // no *.tmp left behind
  });

  it('skips the write when unchanged (works on a read-only refs folder) and rewrites on change', async () => {
    await writeRef(cache, repo, 'main', COMMIT);
    const file = path.join(repoPaths(cache, repo).refsDir, 'main');
    const inode = (await fs.stat(file)).ino;
    expect(await writeRef(cache, repo, 'main', COMMIT)).toBe(false);
    expect((await fs.stat(file)).ino).toBe(inode);
    if (process.getuid?.() !== 0) {
      await fs.chmod(path.dirname(file), 0o555);
      try {
        expect(await writeRef(cache, repo, 'main', COMMIT)).toBe(false);
        await expect(writeRef(cache, repo, 'main', COMMIT2)).rejects.toMatchObject({ code: 'PERMISSION' });
      } finally {
        await fs.chmod(path.dirname(file), 0o755);
      }
    }
    expect(await writeRef(cache, repo, 'main', COMMIT2)).toBe(true);
    expect(await fs.readFile(file, 'utf8')).toBe(COMMIT2);
    expect((await fs.stat(file)).ino).not.toBe(inode); // replaced by rename, not rewritten in place
  });

  it('does not write a ref named after the commit itself', async () => {
    await ensureRepoDirs(cache, repo);
    expect(await writeRef(cache, repo, COMMIT, COMMIT)).toBe(false);
    expect(await listAll(repoPaths(cache, repo).refsDir)).toEqual([]);
  });

  it('reports the raw content, trailing newline included', async () => {
    await ensureRepoDirs(cache, repo);
    await fs.writeFile(path.join(repoPaths(cache, repo).refsDir, 'main'), `${COMMIT}\n`);
    expect(await readRef(cache, repo, 'main')).toBe(`${COMMIT}\n`);
    expect(await readRef(cache, repo, 'nope')).toBeUndefined();
  });

  it('refuses a non-commit target and unsafe revision names', async () => {
    await expect(writeRef(cache, repo, 'main', 'main')).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    await expect(writeRef(cache, repo, 'main', `${COMMIT}\n`)).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    await expect(writeRef(cache, repo, '../../../escape', COMMIT)).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
  });
});

describe('commitBlob', () => {
  it('renames into blobs/ with the default file mode, and drops the temp when the blob exists', async () => {
    await ensureRepoDirs(cache, repo);
    const file = blobPath(cache, repo, SHA1);
    const temp = `${file}.aaaa0000.incomplete`;
    await fs.writeFile(temp, 'first', { mode: 0o600 });
    expect(await commitBlob(temp, file)).toEqual({ committed: true });
    const probe = path.join(root, 'probe');
    await fs.writeFile(probe, '');
    expect((await fs.stat(file)).mode & 0o777).toBe((await fs.stat(probe)).mode & 0o777);

    const temp2 = `${file}.bbbb1111.incomplete`;
    await fs.writeFile(temp2, 'second');
    expect(await commitBlob(temp2, file)).toEqual({ committed: false });
    expect(await fs.readFile(file, 'utf8')).toBe('first');
    expect(await listAll(repoPaths(cache, repo).blobsDir)).toEqual([SHA1]);
  });
});

describe('linkSnapshotFile', () => {
  it('creates relative symlinks at depth 0, 1 and 2 that resolve to the blob', async () => {
    await ensureRepoDirs(cache, repo);
    expect(await symlinksSupported(cache)).toBe(true);
    await putBlob(SHA1, 'hello');
    for (const [p, target] of [
      ['README.md', `../../blobs/${SHA1}`],
      ['a/README.md', `../../../blobs/${SHA1}`],
      ['a/b/README.md', `../../../../blobs/${SHA1}`],
    ] as const) {
      const result = await linkSnapshotFile(cache, repo, COMMIT, p, SHA1);
      expect(result).toMatchObject({ mode: 'symlink', changed: true });
      expect(await fs.readlink(result.pointerPath)).toBe(target);
      expect(await fs.readFile(result.pointerPath, 'utf8')).toBe('hello');
    }
    const again = await linkSnapshotFile(cache, repo, COMMIT, 'README.md', SHA1);
    expect(again.changed).toBe(false);
    // no temp names left in the snapshot, and the probe folder is gone from the root
    expect(await listAll(path.join(repoPaths(cache, repo).snapshotsDir, COMMIT))).toEqual(['README.md', 'a', 'a/README.md', 'a/b', 'a/b/README.md']);
    expect((await fs.readdir(cache)).filter((n) => n.includes('probe'))).toEqual([]);
  });

  it('replaces an existing file, link or folder at the pointer path', async () => {
    await putBlob(SHA1, 'one');
    await putBlob(SHA256, 'two');
    const first = await linkSnapshotFile(cache, repo, COMMIT, 'w.bin', SHA1);
    await linkSnapshotFile(cache, repo, COMMIT, 'w.bin', SHA256);
    expect(await fs.readlink(first.pointerPath)).toBe(`../../blobs/${SHA256}`);
    await fs.rm(first.pointerPath);
    await fs.writeFile(first.pointerPath, 'stale copy');
    await linkSnapshotFile(cache, repo, COMMIT, 'w.bin', SHA1);
    expect(await fs.readlink(first.pointerPath)).toBe(`../../blobs/${SHA1}`);
    await fs.rm(first.pointerPath);
    await fs.mkdir(path.join(first.pointerPath, 'inner'), { recursive: true });
    await linkSnapshotFile(cache, repo, COMMIT, 'w.bin', SHA1);
    expect(await fs.readFile(first.pointerPath, 'utf8')).toBe('one');
  });

  it('copies when asked, keeping the blob in blobs/', async () => {
    const blob = await putBlob(SHA256, 'weights');
    const result = await linkSnapshotFile(cache, repo, COMMIT, 'sub/model.bin', SHA256, { copy: true });
    expect(result.mode).toBe('copy');
    const st = await fs.lstat(result.pointerPath);
    expect(st.isSymbolicLink()).toBe(false);
    expect(await fs.readFile(result.pointerPath, 'utf8')).toBe('weights');
    expect(await fs.readFile(blob, 'utf8')).toBe('weights');
  });

  it('a concurrent reader never sees the pointer missing while it is relinked', async () => {
    await putBlob(SHA1, 'one');
    await putBlob(SHA256, 'two');
    const { pointerPath } = await linkSnapshotFile(cache, repo, COMMIT, 'flip.bin', SHA1);
    let missing = 0;
    let done = false;
    const reader = (async () => {
      while (!done) {
        await fs.readFile(pointerPath).catch(() => missing++);
      }
    })();
    for (let i = 0; i < 100; i++) await linkSnapshotFile(cache, repo, COMMIT, 'flip.bin', i % 2 === 0 ? SHA256 : SHA1);
    done = true;
    await reader;
    expect(missing).toBe(0);
  });

  it('refuses every unsafe path and writes nothing outside the repo folder', async () => {
    await ensureCacheRoot(cache);
    await putBlob(SHA1, 'x');
    const before = await listAll(root);
    for (const [p] of UNSAFE_PATHS) {
      await expect(linkSnapshotFile(cache, repo, COMMIT, p, SHA1)).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
      await expect(linkSnapshotFile(cache, repo, COMMIT, p, SHA1, { copy: true })).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    }
    await expect(linkSnapshotFile(cache, repo, 'main', 'ok.txt', SHA1)).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    await expect(linkSnapshotFile(cache, repo, COMMIT, 'ok.txt', '../../x')).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    const after = await listAll(root);
    expect(after).toEqual(before);
  });
});

describe('writeTreeCache / readTreeCache', () => {
  const files = [
    { path: 'b.txt', size: 3, oid: SHA1 },
    { path: 'a.bin', size: 9, oid: SHA1, lfs: { oid: SHA256, size: 9 }, xetHash: 'cd'.repeat(32) },
  ];

  it('writes trees/<commit>.json that reads back, with no temp file left', async () => {
    expect(await writeTreeCache(cache, repo, COMMIT, files)).toBe(true);
    const treesDir = repoPaths(cache, repo).treesDir;
    expect(await fs.readdir(treesDir)).toEqual([`${COMMIT}.json`]);
    const text = await fs.readFile(path.join(treesDir, `${COMMIT}.json`), 'utf8');
    expect(text.startsWith('{\n "format_version": 1,\n "files": {\n  "a.bin": {\n   "size": 9,')).toBe(true);
    expect(await readTreeCache(cache, repo, COMMIT)).toEqual([files[1], files[0]]);
  });

  it('writes nothing for an invalid xet hash, and ignores unknown versions on read', async () => {
    expect(await writeTreeCache(cache, repo, COMMIT, [{ path: 'a', size: 1, oid: SHA1, xetHash: 'nope' }])).toBe(false);
    await expect(fs.readdir(repoPaths(cache, repo).treesDir)).rejects.toMatchObject({ code: 'ENOENT' });
    await fs.mkdir(repoPaths(cache, repo).treesDir, { recursive: true });
    await fs.writeFile(path.join(repoPaths(cache, repo).treesDir, `${COMMIT}.json`), '{"format_version": 2, "files": {}}');
    expect(await readTreeCache(cache, repo, COMMIT)).toBeUndefined();
    await fs.writeFile(path.join(repoPaths(cache, repo).treesDir, `${COMMIT}.json`), '{"format_version": 1, "files": {');
    expect(await readTreeCache(cache, repo, COMMIT)).toBeUndefined();
    expect(await readTreeCache(cache, repo, COMMIT2)).toBeUndefined();
  });
});

describe('linkSnapshotFile preconditions', () => {
  it('refuses to create a dangling pointer when the blob is missing', async () => {
    await ensureRepoDirs(cache, repo);
    await expect(linkSnapshotFile(cache, repo, COMMIT, 'a.txt', SHA1)).rejects.toMatchObject({ code: 'CACHE_DAMAGED' });
    expect(await listAll(repoPaths(cache, repo).snapshotsDir)).toEqual([]);
  });
});

describe('no temp where readers look (snapshots/, refs/)', () => {
  /** Every entry under the repo's snapshots/ and refs/, and under .mlcache-tmp/ (which must be gone). */
  async function readerVisible(): Promise<{ snapshots: string[]; refs: string[]; tempDirExists: boolean }> {
    const p = repoPaths(cache, repo);
    return {
      snapshots: await listAll(p.snapshotsDir),
      refs: await listAll(p.refsDir),
      tempDirExists: await fs.lstat(p.tempDir).then(() => true, () => false),
    };
  }

  it('symlink EEXIST paths: same link untouched, another link / a file / a folder replaced through .mlcache-tmp/', async () => {
    await putBlob(SHA1, 'one');
    await putBlob(SHA256, 'two');
    const first = await linkSnapshotFile(cache, repo, COMMIT, 'd/w.bin', SHA1);
    expect(first).toMatchObject({ mode: 'symlink', changed: true });
    const ino = (await fs.lstat(first.pointerPath)).ino;
    // Same link already there: nothing written (same inode), nothing staged.
    expect(await linkSnapshotFile(cache, repo, COMMIT, 'd/w.bin', SHA1)).toMatchObject({ changed: false });
    expect((await fs.lstat(first.pointerPath)).ino).toBe(ino);
    // Another link, a regular file, a folder: each replaced by the right link.
    for (const put of [
      () => fs.symlink(`../../../blobs/${SHA256}`, first.pointerPath),
      () => fs.writeFile(first.pointerPath, 'stale copy'),
      () => fs.mkdir(path.join(first.pointerPath, 'inner'), { recursive: true }),
    ]) {
      await fs.rm(first.pointerPath, { recursive: true });
      await put();
      expect(await linkSnapshotFile(cache, repo, COMMIT, 'd/w.bin', SHA1)).toMatchObject({ changed: true });
      expect(await fs.readlink(first.pointerPath)).toBe(`../../../blobs/${SHA1}`);
      const seen = await readerVisible();
      expect(seen.snapshots).toEqual([COMMIT, `${COMMIT}/d`, `${COMMIT}/d/w.bin`]);
      // The replacement was staged in .mlcache-tmp/ and renamed away: the folder holds nothing.
      if (seen.tempDirExists) expect(await fs.readdir(repoPaths(cache, repo).tempDir)).toEqual([]);
    }
  });

  it('copies and refs are staged outside snapshots/ and refs/', async () => {
    await putBlob(SHA1, 'one');
    await linkSnapshotFile(cache, repo, COMMIT, 'a/copy.bin', SHA1, { copy: true });
    await linkSnapshotFile(cache, repo, COMMIT, 'a/copy.bin', SHA1, { copy: true });
    expect(await writeRef(cache, repo, 'refs/pr/1', COMMIT)).toBe(true);
    expect(await writeRef(cache, repo, 'main', COMMIT)).toBe(true);
    const seen = await readerVisible();
    expect(seen.snapshots).toEqual([COMMIT, `${COMMIT}/a`, `${COMMIT}/a/copy.bin`]);
    expect(seen.refs).toEqual(['main', 'refs', 'refs/pr', 'refs/pr/1']);
    expect(await fs.readdir(repoPaths(cache, repo).tempDir)).toEqual([]);
    expect(await readRef(cache, repo, 'refs/pr/1')).toBe(COMMIT);
  });

  it('two writers racing on one pointer both succeed and leave one link', async () => {
    await putBlob(SHA1, 'one');
    const results = await Promise.all(Array.from({ length: 20 }, () => linkSnapshotFile(cache, repo, COMMIT, 'race.bin', SHA1)));
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(await readerVisible()).toMatchObject({ snapshots: [COMMIT, `${COMMIT}/race.bin`] });
  });

  it('sweepRepoTemps removes what dead processes left, keeps a live writer\'s fresh temp, and the empty folder goes', async () => {
    await ensureRepoDirs(cache, repo);
    const dir = repoPaths(cache, repo).tempDir;
    await fs.mkdir(dir, { recursive: true });
    const dead = path.join(dir, repoTempName('link', 2 ** 22 + 12345));
    const live = path.join(dir, repoTempName('copy', process.pid));
    const old = path.join(dir, 'unknown-name');
    await fs.symlink('../blobs/x', dead);
    await fs.writeFile(live, 'copying');
    await fs.writeFile(old, '');
    const past = new Date(Date.now() - STALE_TEMP_MS - 60_000);
    await fs.utimes(old, past, past);
    const removed = await sweepRepoTemps(cache, repo, { isAlive: (pid) => pid === process.pid });
    expect(removed.sort()).toEqual([dead, old].sort());
    expect(await fs.readdir(dir)).toEqual([path.basename(live)]);
    await fs.rm(live);
    expect(await sweepRepoTemps(cache, repo)).toEqual([]);
    await expect(fs.lstat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    // A writer after the sweep re-creates the folder.
    await putBlob(SHA1, 'one');
    expect(await writeRef(cache, repo, 'main', COMMIT)).toBe(true);
  });

  it('writeTreeCache streams a listing bigger than one write batch, byte-identical to serializeTreeCache', async () => {
    const files = Array.from({ length: 12_000 }, (_, i) => ({ path: `data/shard-${String(i).padStart(6, '0')}/é part.txt`, size: i, oid: SHA1 }));
    expect(await writeTreeCache(cache, repo, COMMIT, files)).toBe(true);
    const text = await fs.readFile(path.join(repoPaths(cache, repo).treesDir, `${COMMIT}.json`), 'utf8');
    expect(text.length).toBeGreaterThan(1 << 20);
    expect(text === serializeTreeCache(files)).toBe(true);
    expect(await fs.readdir(repoPaths(cache, repo).tempDir)).toEqual([]);
  });
});
