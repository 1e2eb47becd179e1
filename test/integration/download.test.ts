/**
 * `download()` against the Hub emulator, in real temp dirs: the layout written, compatibility with
 * @huggingface/hub's scanner, zero bytes on a second run, blob reuse across revisions, the
 * token rule, and hostile file names.
 */
import { mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { scanCacheDir } from '@huggingface/hub';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { download } from '../../src/commands/download.js';
import { loadSettings } from '../../src/config/settings.js';
import type { FixtureRepo } from '../../src/emulator/index.js';
import { EMULATOR_TOKEN, startEmulator, useEmulator } from '../helpers/emulator.js';

const REPO = 'acme/tiny';
const shared = [
  { path: 'README.md', content: '# tiny\n' },
  { path: 'onnx/sub/model.onnx', content: 'onnx-bytes' },
  { path: 'weights/model.safetensors', generated: { size: 3_000_000, seed: 7 } },
];
const repos = (): FixtureRepo[] => [
  {
    id: REPO,
    revisions: [
      { refs: ['main'], files: [...shared, { path: 'config.json', content: '{"v":2}\n' }] },
      { refs: ['v1'], files: [...shared, { path: 'config.json', content: '{"v":1}\n' }, { path: 'old.bin', generated: { size: 500_000, seed: 9 } }] },
    ],
  },
  { id: 'acme/private', private: true, revisions: [{ refs: ['main'], files: [{ path: 'big.bin', generated: { size: 1_000_000, seed: 3 } }, { path: 'a.txt', content: 'a' }] }] },
  { id: 'acme/gated', gated: 'manual', revisions: [{ refs: ['main'], files: [{ path: 'x.txt', content: 'x' }] }] },
];

const hub = useEmulator(() => ({ repos: repos() }));
let root: string;
let cacheDir: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-dl-'));
  cacheDir = path.join(root, 'cache');
  hub().resetStats();
  hub().setFaults({});
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function settings() {
  return loadSettings({ env: { HOME: root }, cwd: root, cacheDir, endpoint: hub().url });
}

describe('download writes the HF cache layout exactly', () => {
  it('blobs, relative symlinks, refs without newline, trees/, and no CACHEDIR.TAG', async () => {
    const result = await download({ settings: settings(), repoId: REPO });
    const commit = hub().commitOf(REPO, 'main');
    const repoDir = path.join(cacheDir, 'models--acme--tiny');
    expect(result.commit).toBe(commit);
    expect(result.snapshotPath).toBe(path.join(repoDir, 'snapshots', commit));

    // huggingface_hub < 1.9 would scan a CACHEDIR.TAG as a repo and warn (docs/decisions.md).
    expect((await readdir(cacheDir)).sort()).toEqual(['.locks', 'models--acme--tiny']);
    expect(await readFile(path.join(repoDir, 'refs', 'main'), 'utf8')).toBe(commit);
    expect((await readdir(path.join(repoDir, 'refs'))).sort()).toEqual(['main']);

    const cases: Array<[file: string, depth: number]> = [
      ['README.md', 0],
      ['config.json', 0],
      ['onnx/sub/model.onnx', 2],
      ['weights/model.safetensors', 1],
    ];
    const expectedBlobs: string[] = [];
    for (const [file, depth] of cases) {
      const digest = await hub().digestOf(REPO, file, 'main');
      expect(digest.etag).toBe(digest.lfs ? digest.sha256 : digest.gitSha1);
      expectedBlobs.push(digest.etag);
      const pointer = path.join(repoDir, 'snapshots', commit, file);
      expect(await readlink(pointer)).toBe(`${'../'.repeat(depth + 2)}blobs/${digest.etag}`);
      // Buffer.equals: vitest's deep equality walks a 3 MB buffer byte by byte (seconds).
      expect((await readFile(pointer)).equals(await hub().contentOf(REPO, file, 'main'))).toBe(true);
    }
    // The LFS file is named by sha256, the others by git blob sha1; nothing else in blobs/.
    expect((await readdir(path.join(repoDir, 'blobs'))).sort()).toEqual(expectedBlobs.sort());
    const lfs = await hub().digestOf(REPO, 'weights/model.safetensors', 'main');
    expect(lfs.etag).toMatch(/^[0-9a-f]{64}$/);

    const tree = JSON.parse(await readFile(path.join(repoDir, 'trees', `${commit}.json`), 'utf8'));
    expect(tree.format_version).toBe(1);
    expect(Object.keys(tree.files).sort()).toEqual(cases.map((c) => c[0]).sort());
    expect(tree.files['weights/model.safetensors']).toMatchObject({ size: 3_000_000, lfs_sha256: lfs.sha256 });
  });

  it("@huggingface/hub's scanCacheDir reads it with no warnings and the right sizes", async () => {
    await download({ settings: settings(), repoId: REPO });
    await download({ settings: settings(), repoId: REPO, revision: 'v1' });
    const scan = await scanCacheDir(cacheDir);
    expect(scan.warnings).toEqual([]);
    expect(scan.repos).toHaveLength(1);
    const repo = scan.repos[0]!;
    expect(repo.id.name).toBe(REPO);
    expect(repo.revisions).toHaveLength(2);
    const main = repo.revisions.find((r) => r.commitOid === hub().commitOf(REPO, 'main'))!;
    expect(main.refs).toEqual(['main']);
    // The JS scanner reads snapshot folders one level deep only (@huggingface/hub
    // lib/cache-management.ts scanSnapshotDir skips sub-folders), so it sees
    // the top-level files: README.md (7 bytes) and config.json (8 bytes), resolved through the links.
    expect(main.files.map((f) => path.basename(f.path)).sort()).toEqual(['README.md', 'config.json']);
    expect(main.size).toBe(7 + 8);
    const v1 = repo.revisions.find((r) => r.commitOid === hub().commitOf(REPO, 'v1'))!;
    expect(v1.refs).toEqual(['v1']);
    expect(v1.size).toBe(7 + 8 + 500_000);
    // README.md is shared by both revisions and counted once for the repo.
    expect(repo.size).toBe(7 + 8 + 8 + 500_000);
  });
});

describe('the cache is never fetched twice', () => {
  it('a second download transfers zero bytes', async () => {
    const first = await download({ settings: settings(), repoId: REPO });
    expect(first.bytesFetched).toBeGreaterThanOrEqual(3_000_000);
    hub().resetStats();
    const second = await download({ settings: settings(), repoId: REPO });
    expect(hub().stats.bytesServed).toBe(0);
    expect(second.bytesFetched).toBe(0);
    expect(second.bytesCached).toBe(first.bytesTotal);
    expect(second.snapshotPath).toBe(first.snapshotPath);
  });

  it('a second revision reuses the blobs it shares', async () => {
    await download({ settings: settings(), repoId: REPO });
    hub().resetStats();
    const v1 = await download({ settings: settings(), repoId: REPO, revision: 'v1' });
    // Only config.json (v1) and old.bin are new.
    expect(hub().stats.bytesServed).toBe(8 + 500_000);
    expect(v1.bytesCached).toBe(7 + 10 + 3_000_000);
  });

  it('--dry-run reports sizes and writes nothing', async () => {
    const plan = await download({ settings: settings(), repoId: REPO, dryRun: true, include: ['*.json', 'weights/'] });
    expect(plan.dryRun).toBe(true);
    expect(plan.files.map((f) => f.path).sort()).toEqual(['config.json', 'weights/model.safetensors']);
    expect(plan.bytesNeeded).toBe(3_000_008);
    await expect(stat(cacheDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('include/exclude select files with fnmatch semantics, exclude winning', async () => {
    const result = await download({ settings: settings(), repoId: REPO, include: ['*.onnx', '*.md'], exclude: ['README*'] });
    expect(result.files.map((f) => f.path)).toEqual(['onnx/sub/model.onnx']);
    const entries = await readdir(path.join(result.snapshotPath), { recursive: true });
    expect(entries.sort()).toEqual(['onnx', 'onnx/sub', 'onnx/sub/model.onnx']);
  });

  it('named files only fetch those', async () => {
    const result = await download({ settings: settings(), repoId: REPO, files: ['config.json', 'onnx/'] });
    expect(result.files.map((f) => f.path)).toEqual(['config.json', 'onnx/sub/model.onnx']);
  });
});

describe('the token', () => {
  it('goes to the Hub but never to the CDN origin', async () => {
    const result = await download({ settings: settings(), repoId: 'acme/private', token: EMULATOR_TOKEN });
    expect(result.files).toHaveLength(2);
    const requests = hub().stats.requests;
    const cdn = requests.filter((r) => r.origin === 'cdn');
    const hubRequests = requests.filter((r) => r.origin === 'hub');
    expect(cdn.length).toBeGreaterThan(0);
    expect(cdn.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(hubRequests.every((r) => r.headers.authorization === `Bearer ${EMULATOR_TOKEN}`)).toBe(true);
  });
});

describe('Hub errors', () => {
  const cases: Array<[name: string, repoId: string, extra: Record<string, unknown>, code: string, hint: RegExp]> = [
    ['missing repo', 'acme/nope', {}, 'REPO_NOT_FOUND', /check the (repo )?id|token/i],
    ['private repo without token', 'acme/private', {}, 'REPO_NOT_FOUND', /token/i],
    ['missing revision', REPO, { revision: 'nope' }, 'REVISION_NOT_FOUND', /revision|branch/i],
    ['missing file', REPO, { files: ['nope.txt'] }, 'ENTRY_NOT_FOUND', /file name|list/i],
    ['gated repo without token', 'acme/gated', {}, 'GATED_REPO', /acme\/gated/],
    ['invalid token', REPO, { token: 'hf_wrongwrongwrongwrong' }, 'TOKEN_INVALID', /token/i],
  ];
  it.each(cases)('%s', async (_name, repoId, extra, code, hint) => {
    const error = await download({ settings: settings(), repoId, ...extra }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code });
    expect((error as { hint?: string }).hint).toMatch(hint);
    // Nothing is written for a failed resolution: not even the cache folder.
    await expect(stat(cacheDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a gated file on a repo whose metadata is public (as the Hub serves them) gets the gated hint, not a bare 401', async () => {
    hub().addFaultRule({
      match: { origin: 'hub', path: '/acme/tiny/resolve/' },
      action: { kind: 'status', status: 401, errorCode: 'GatedRepo', errorMessage: 'Access to model acme/tiny is restricted.' },
    });
    const error = await download({ settings: settings(), repoId: REPO, files: ['config.json'] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'GATED_REPO' });
    expect((error as { hint: string }).hint).toContain(`${hub().url}/acme/tiny`);
  });

  it('the gated hint names the page where access is requested', async () => {
    const error = await download({ settings: settings(), repoId: 'acme/gated' }).catch((e: unknown) => e);
    expect((error as { hint: string }).hint).toContain(`${hub().url}/acme/gated`);
  });
});

describe('hostile file lists', () => {
  it.each([['../../x'], ['/etc/x'], ['a\\..\\b'], ['ok/../../escape']])('%s: nothing is written outside the repo folder', async (evil) => {
    const emulator = await startEmulator({
      repos: [{ id: 'evil/repo', revisions: [{ refs: ['main'], files: [{ path: 'fine.txt', content: 'ok' }, { path: evil, content: 'pwned' }] }] }],
    });
    const s = loadSettings({ env: { HOME: root }, cwd: root, cacheDir, endpoint: emulator.url });
    const error = await download({ settings: s, repoId: 'evil/repo' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNSAFE_PATH' });
    expect((error as Error).message).toContain('evil/repo');
    // Nothing at all was written: the plan refuses before the first byte.
    const everything = await readdir(root, { recursive: true });
    expect(everything.filter((p) => !p.startsWith('cache'))).toEqual([]);
    expect(everything.some((p) => p.includes('pwned') || p.endsWith('x') || p.includes('escape'))).toBe(false);
    expect(emulator.stats.bytesServed).toBe(0);
  });
});

describe('impossible file lists', () => {
  it.each([
    ['a path that is both a file and a folder', [{ path: 'a', content: '1' }, { path: 'a/b', content: '2' }], /both as a file and as the folder/],
  ])('%s is refused before anything is written', async (_name, files, message) => {
    const emulator = await startEmulator({ repos: [{ id: 'odd/repo', revisions: [{ refs: ['main'], files }] }] });
    const s = loadSettings({ env: { HOME: root }, cwd: root, cacheDir, endpoint: emulator.url });
    const error = await download({ settings: s, repoId: 'odd/repo' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PROTOCOL' });
    expect((error as Error).message).toMatch(message);
    await expect(stat(cacheDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('leftovers of complete blobs', () => {
  it('a journal and partial left beside a blob that is complete (a kill after the rename) are removed by the next run', async () => {
    await download({ settings: settings(), repoId: REPO, token: EMULATOR_TOKEN });
    const digest = await hub().digestOf(REPO, 'weights/model.safetensors');
    const blobs = path.join(cacheDir, 'models--acme--tiny', 'blobs');
    await writeFile(path.join(blobs, `${digest.etag}.0a1b2c3d.mlcache-journal`), '{"format":"mlcache-journal"}\n');
    await writeFile(path.join(blobs, `${digest.etag}.0a1b2c3d.incomplete`), 'partial');
    await writeFile(path.join(blobs, `${digest.etag}.0a1b2c3d.mlcache-journal.12345678.tmp`), 'half');
    await writeFile(path.join(blobs, `${digest.etag}.incomplete`), 'huggingface_hub\'s own: never touched');
    hub().resetStats();
    const again = await download({ settings: settings(), repoId: REPO, token: EMULATOR_TOKEN });
    expect(again.bytesFetched).toBe(0);
    expect((await readdir(blobs)).filter((n) => !/^[0-9a-f]+$/.test(n))).toEqual([`${digest.etag}.incomplete`]);
  });
});
