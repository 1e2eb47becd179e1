import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { scanCacheDir, snapshotDownload } from '@huggingface/hub';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  blobPath,
  commitBlob,
  ensureCacheRoot,
  ensureRepoDirs,
  linkSnapshotFile,
  repoPaths,
  scanCache,
  writeRef,
  writeTreeCache,
} from '../../src/cache/index.js';
import { gitBlobSha1 as gitSha1, sha256Hex as sha256 } from '../helpers/cache-repo.js';

const COMMIT = '11c5a3d5811f50298f278a704980280950aedb10';
const COMMIT2 = '22c5a3d5811f50298f278a704980280950aedb10';
const repo = { id: 'org/name', type: 'model' as const };


interface FakeFile {
  path: string;
  data: Buffer;
  lfs: boolean;
}
const FILES: FakeFile[] = [
  { path: 'config.json', data: Buffer.from('{"model_type":"gpt2"}\n'), lfs: false },
  { path: 'model.safetensors', data: Buffer.alloc(3000, 7), lfs: true },
  { path: 'sub/tokenizer.json', data: Buffer.from('{"version":"1.0"}'), lfs: false },
  { path: 'sub/deeper/weights.bin', data: Buffer.alloc(1234, 1), lfs: true },
];
const etagOf = (f: FakeFile) => (f.lfs ? sha256(f.data) : gitSha1(f.data));
const entryOf = (f: FakeFile) => ({
  type: 'file',
  path: f.path,
  oid: gitSha1(f.lfs ? Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(f.data)}\nsize ${f.data.length}\n`) : f.data),
  size: f.data.length,
  ...(f.lfs ? { lfs: { oid: sha256(f.data), size: f.data.length, pointerSize: 130 } } : {}),
});
const TOTAL = FILES.reduce((s, f) => s + f.data.length, 0);

let root: string;
let cache: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'mlcache-scan-'));
  cache = path.join(root, 'hub');
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** The few Hub endpoints @huggingface/hub's snapshotDownload calls, on 127.0.0.1. */
async function startFakeHub(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/api/models/org/name/revision/main') return json({ _id: '1', id: 'org/name', sha: COMMIT, private: false });
    if (url.pathname === `/api/models/org/name/tree/${COMMIT}`) {
      return json([
        ...FILES.map(entryOf),
        { type: 'directory', path: 'sub', oid: '0'.repeat(40), size: 0 },
        { type: 'directory', path: 'sub/deeper', oid: '0'.repeat(40), size: 0 },
      ]);
    }
    if (req.method === 'POST' && url.pathname === `/api/models/org/name/paths-info/${COMMIT}`) {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const { paths } = JSON.parse(body) as { paths: string[] };
        json(FILES.filter((f) => paths.includes(f.path)).map((f) => ({ ...entryOf(f), lastCommit: { id: COMMIT, title: 't', date: new Date().toISOString() } })));
      });
      return;
    }
    const prefix = `/org/name/resolve/${COMMIT}/`;
    const file = FILES.find((f) => url.pathname === prefix + f.path);
    if (file) {
      const etag = `"${etagOf(file)}"`;
      if (req.headers.range === 'bytes=0-0') {
        res.writeHead(206, { 'content-range': `bytes 0-0/${file.data.length}`, etag, 'content-length': '1' });
        return res.end(file.data.subarray(0, 1));
      }
      res.writeHead(200, { etag, 'content-length': String(file.data.length) });
      return res.end(file.data);
    }
    res.writeHead(404, { 'x-error-code': 'EntryNotFound' });
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Build the same snapshot with mlcache's writers. */
async function writeWithMlcache(): Promise<void> {
  await ensureCacheRoot(cache);
  await ensureRepoDirs(cache, repo);
  for (const f of FILES) {
    const blob = blobPath(cache, repo, etagOf(f));
    const temp = `${blob}.0123abcd.incomplete`;
    await fs.writeFile(temp, f.data);
    await commitBlob(temp, blob);
    await linkSnapshotFile(cache, repo, COMMIT, f.path, etagOf(f));
  }
  await writeRef(cache, repo, 'main', COMMIT);
  await writeTreeCache(cache, repo, COMMIT, FILES.map((f) => entryOf(f)));
  await fs.mkdir(path.join(cache, '.locks', 'models--org--name'), { recursive: true });
}

describe('scanCache on a cache written by @huggingface/hub', () => {
  it('reads repos, refs, revisions, blobs and partial files', async () => {
    const hub = await startFakeHub();
    const debug = console.debug;
    console.debug = () => undefined; // downloadFileToCacheDir logs every file
    try {
      await snapshotDownload({ repo: 'org/name', cacheDir: cache, hubUrl: hub.url });
    } finally {
      console.debug = debug;
      await hub.close();
    }
    // an interrupted @huggingface/hub download leaves `<etag>.incomplete`
    await fs.writeFile(path.join(repoPaths(cache, repo).blobsDir, `${'e'.repeat(64)}.incomplete`), 'partial');

    const scan = await scanCache(cache);
    expect(scan.warnings).toEqual([]);
    expect(scan.repos).toHaveLength(1);
    const r = scan.repos[0]!;
    expect(r.repo).toEqual(repo);
    expect(r.folder).toBe('models--org--name');
    expect(r.refs).toEqual([{ name: 'main', raw: COMMIT, commit: COMMIT, trailingNewline: false }]);
    expect(r.revisions.map((v) => [v.commit, v.refs])).toEqual([[COMMIT, ['main']]]);
    const files = r.revisions[0]!.files;
    expect(files.map((f) => [f.path, f.kind, f.blobName, f.size, f.broken])).toEqual(
      [...FILES].sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => [f.path, 'symlink', etagOf(f), f.data.length, false]),
    );
    expect(files.find((f) => f.path === 'sub/deeper/weights.bin')?.linkTarget).toMatch(/^\.\.\/\.\.\/\.\.\/\.\.\/blobs\//);
    expect(r.blobs.map((b) => [b.name, b.size, b.nlink, b.referenced])).toEqual(
      FILES.map((f) => [etagOf(f), f.data.length, 1, true]).sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)),
    );
    expect(r.sizeOnDisk).toBe(TOTAL);
    expect(scan.sizeOnDisk).toBe(TOTAL);
    expect(scan.partialFiles).toEqual([expect.objectContaining({ name: `${'e'.repeat(64)}.incomplete`, kind: 'incomplete', size: 7 })]);
  });
});

describe('caches written by mlcache', () => {
  it('are read by @huggingface/hub scanCacheDir with zero warnings and the right sizes', async () => {
    await writeWithMlcache();
    const js = await scanCacheDir(cache);
    expect(js.warnings).toEqual([]);
    expect(js.repos).toHaveLength(1);
    expect(js.repos[0]!.id).toEqual({ name: 'org/name', type: 'model' });
    // the JS scanner only looks at top-level snapshot files
    const top = FILES.filter((f) => !f.path.includes('/'));
    expect(js.size).toBe(top.reduce((s, f) => s + f.data.length, 0));
    expect(js.repos[0]!.revisions[0]!.refs).toEqual(['main']);
    expect(js.repos[0]!.revisions[0]!.files.map((f) => path.basename(f.path)).sort()).toEqual(top.map((f) => f.path).sort());
  });

  it('scan with zero warnings and every blob counted once', async () => {
    await writeWithMlcache();
    // a second revision sharing every blob must not change the size
    for (const f of FILES) await linkSnapshotFile(cache, repo, COMMIT2, f.path, etagOf(f));
    await writeRef(cache, repo, 'refs/pr/1', COMMIT2);
    const scan = await scanCache(cache);
    expect(scan.warnings).toEqual([]);
    const r = scan.repos[0]!;
    expect(r.sizeOnDisk).toBe(TOTAL);
    expect(r.blobsSize).toBe(TOTAL);
    expect(r.revisions.map((v) => [v.commit, v.refs, v.size, v.hasTreeCache])).toEqual([
      [COMMIT, ['main'], TOTAL, true],
      [COMMIT2, ['refs/pr/1'], TOTAL, false],
    ]);
  });
});

describe('scanCache warnings', () => {
  it('flags what huggingface_hub scan_cache_dir flags, with precise messages', async () => {
    await writeWithMlcache();
    const p = repoPaths(cache, repo);
    const mainRef = path.join(p.refsDir, 'main');
    await fs.writeFile(mainRef, `${COMMIT}\n`); // trailing newline
    await fs.mkdir(path.join(p.refsDir, 'refs', 'pr'), { recursive: true });
    await fs.writeFile(path.join(p.refsDir, 'refs', 'pr', '7'), COMMIT2); // missing commit
    await fs.rm(blobPath(cache, repo, etagOf(FILES[0]!))); // broken link
    await fs.writeFile(path.join(p.snapshotsDir, 'stray.txt'), 'x'); // file in snapshots/
    await fs.writeFile(path.join(p.blobsDir, `${'f'.repeat(64)}.0a1b2c3d.incomplete`), 'abc');
    await fs.writeFile(path.join(p.blobsDir, `${'f'.repeat(64)}.0a1b2c3d.mlcache-journal`), '{}');
    await fs.mkdir(path.join(cache, 'kernels--org--k', 'snapshots'), { recursive: true });
    await fs.mkdir(path.join(cache, 'not-a-repo'));
    await fs.writeFile(path.join(cache, 'stray-file'), '');
    await fs.writeFile(path.join(cache, '.DS_Store'), '');
    await fs.mkdir(path.join(cache, 'datasets--org--nosnap', 'refs'), { recursive: true });
    await fs.mkdir(path.join(cache, 'spaces--org--norefs', 'snapshots', COMMIT), { recursive: true });
    await fs.mkdir(path.join(cache, 'models--org--refsfile', 'snapshots'), { recursive: true });
    await fs.writeFile(path.join(cache, 'models--org--refsfile', 'refs'), COMMIT);

    const scan = await scanCache(cache);
    const byCode = scan.warnings.map((w) => [w.code, path.relative(cache, w.path)]).sort();
    expect(byCode).toEqual(
      [
        ['BROKEN_LINK', `models--org--name/snapshots/${COMMIT}/config.json`],
        ['FILE_IN_SNAPSHOTS', 'models--org--name/snapshots/stray.txt'],
        ['NOT_A_DIRECTORY', 'stray-file'],
        ['NOT_A_REPO_FOLDER', 'not-a-repo'],
        ['REFS_IS_FILE', 'models--org--refsfile/refs'],
        ['REFS_MISSING', 'spaces--org--norefs/refs'],
        ['REF_TO_MISSING_COMMIT', 'models--org--name/refs/refs/pr/7'],
        ['REF_TRAILING_NEWLINE', 'models--org--name/refs/main'],
        ['SNAPSHOTS_MISSING', 'datasets--org--nosnap/snapshots'],
        ['UNKNOWN_REPO_TYPE', 'kernels--org--k'],
      ].sort(),
    );
    const message = (code: string) => scan.warnings.find((w) => w.code === code)!.message;
    expect(message('BROKEN_LINK')).toContain(`-> ../../blobs/${etagOf(FILES[0]!)}`);
    expect(message('REF_TRAILING_NEWLINE')).toMatch(/ends with a newline/);
    expect(message('REF_TO_MISSING_COMMIT')).toContain(`snapshots/${COMMIT2}`);
    expect(message('UNKNOWN_REPO_TYPE')).toContain('"kernels"');
    expect(scan.warnings.find((w) => w.code === 'REFS_MISSING')!.pythonDropsRepo).toBe(false);

    const r = scan.repos.find((x) => x.folder === 'models--org--name')!;
    expect(r.refs.find((x) => x.name === 'main')).toEqual({ name: 'main', raw: `${COMMIT}\n`, commit: undefined, trailingNewline: true });
    expect(r.partialFiles.map((f) => [f.kind, f.size])).toEqual([
      ['incomplete', 3],
      ['journal', 2],
    ]);
    expect(r.sizeOnDisk).toBe(TOTAL - FILES[0]!.data.length);
    expect(scan.repos.map((x) => x.folder).sort()).toEqual(['datasets--org--nosnap', 'models--org--name', 'models--org--refsfile', 'spaces--org--norefs']);
  });

  it('reports plain copies (no-symlink fallback) as copies with their size', async () => {
    await ensureRepoDirs(cache, repo);
    const f = FILES[1]!;
    const blob = blobPath(cache, repo, etagOf(f));
    await fs.writeFile(blob, f.data);
    await linkSnapshotFile(cache, repo, COMMIT, f.path, etagOf(f), { copy: true });
    const scan = await scanCache(cache);
    expect(scan.warnings).toEqual([]);
    const file = scan.repos[0]!.revisions[0]!.files[0]!;
    expect([file.kind, file.size, file.broken]).toEqual(['copy', f.data.length, false]);
    expect(scan.repos[0]!.blobs[0]!.referenced).toBe(false);
    expect(scan.repos[0]!.blobsSize).toBe(f.data.length);
  });

  it('throws CACHE_NOT_FOUND with a hint for a missing cache', async () => {
    await expect(scanCache(path.join(root, 'nope'))).rejects.toMatchObject({ code: 'CACHE_NOT_FOUND', hint: expect.stringMatching(/HF_HUB_CACHE/) });
  });
});
