/**
 * export → import round trips through real files: a model (two revisions, nested and non-ASCII
 * paths, a blob shared by two paths) and a dataset, downloaded from the Hub emulator, exported as
 * an OCI image layout (tar, folder), imported into an empty cache: the cache comes out
 * byte-identical (blobs, snapshot links, refs, trees) and @huggingface/hub's scanner reads it.
 * Then what a hostile or damaged bundle gets: a tampered blob, `..` names, no oci-layout, a tar
 * cut short, another entry order.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { scanCacheDir } from '@huggingface/hub';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { download } from '../../src/commands/download.js';
import { exportBundle } from '../../src/commands/export.js';
import { importBundle } from '../../src/commands/import.js';
import { loadSettings } from '../../src/config/settings.js';
import type { TransferEvent } from '../../src/download/types.js';
import { MlcacheError } from '../../src/errors.js';
import { useEmulator } from '../helpers/emulator.js';
import { DATASET, MODEL, bundleRepos, cacheFingerprint, readTar, writeTar } from '../helpers/bundle.js';

const hub = useEmulator(() => ({ repos: bundleRepos() }));
let root: string;
let sourceCache: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-bundle-'));
  sourceCache = path.join(root, 'source');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function settingsFor(cacheDir: string) {
  return loadSettings({ env: { HOME: root }, cwd: root, cacheDir, endpoint: hub().url });
}

async function populate(): Promise<void> {
  const settings = settingsFor(sourceCache);
  await download({ settings, repoId: MODEL });
  await download({ settings, repoId: MODEL, revision: 'v1' });
  await download({ settings, repoId: DATASET, repoType: 'dataset' });
}

const ALL = [
  { repoId: MODEL, revision: 'main' },
  { repoId: MODEL, revision: 'v1' },
  { repoId: DATASET, repoType: 'dataset' as const },
];

async function rejection(promise: Promise<unknown>): Promise<MlcacheError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(MlcacheError);
    return error as MlcacheError;
  }
  throw new Error('expected a rejection');
}

describe('export → import round trip', () => {
  it('a tar rebuilds the cache byte for byte, and scanCacheDir reads it', async () => {
    await populate();
    const bundle = path.join(root, 'bundle.tar');
    const events: TransferEvent[] = [];
    const exported = await exportBundle({ settings: settingsFor(sourceCache), repos: ALL, target: bundle, onEvent: (e) => events.push(e) });
    expect(exported.kind).toBe('tar');
    expect(exported.snapshots.map((s) => s.refName)).toEqual([`${MODEL}:main`, `${MODEL}:v1`, `datasets/${DATASET}:main`]);
    // Progress speaks the engine's events: every layer queued, started and done, and final totals.
    const done = events.filter((e) => e.type === 'file-done');
    expect(done.length).toBe(events.filter((e) => e.type === 'file-queued').length);
    const totals = events.filter((e) => e.type === 'totals').at(-1);
    expect(totals?.type === 'totals' && totals.totals.bytesDone === totals.totals.bytesTotal && totals.totals.bytesTotal > 3_000_000).toBe(true);

    // Each blob once, in the order an importer reading a pipe needs.
    const entries = await readTar(bundle);
    const names = entries.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names[0]).toBe('oci-layout');
    const indexAt = names.indexOf('index.json');
    const manifestDigests = exported.snapshots.map((s) => `blobs/sha256/${s.manifestDigest.slice(7)}`);
    for (const m of manifestDigests) expect(names.indexOf(m)).toBeLessThan(indexAt);
    // The README is in all three snapshots (and twice in one, as copy-of-card.md): stored once.
    // 9 distinct contents: 6 of main, v1's config.json, the dataset's two files.
    const layerCount = names.length - 2 - 6; // minus oci-layout, index.json, 3 manifests and 3 configs
    expect(layerCount).toBe(9);

    const target = path.join(root, 'target');
    const imported = await importBundle({ settings: settingsFor(target), source: bundle });
    expect(imported.snapshots.map((s) => `${s.repoId}@${s.revision}`)).toEqual([`${MODEL}@main`, `${MODEL}@v1`, `${DATASET}@main`]);
    expect(await cacheFingerprint(target)).toEqual(await cacheFingerprint(sourceCache));

    const scan = await scanCacheDir(target);
    expect(scan.warnings).toEqual([]);
    expect(scan.repos.map((r) => `${r.id.type}:${r.id.name}`).sort()).toEqual([`dataset:${DATASET}`, `model:${MODEL}`]);

    // A second import has nothing to write: every layer is read past.
    const again = await importBundle({ settings: settingsFor(target), source: bundle });
    expect(again.snapshots.every((s) => s.filesImported === 0)).toBe(true);
    expect(again.blobsReceived).toBe(6); // only the manifests and configs
    expect(await cacheFingerprint(target)).toEqual(await cacheFingerprint(sourceCache));
  });

  it('a folder layout: written once per blob, resumed, and imported the same way', async () => {
    await populate();
    const folder = path.join(root, 'layout');
    const first = await exportBundle({ settings: settingsFor(sourceCache), repos: [ALL[0]!], target: `${folder}/` });
    expect(first.kind).toBe('folder');
    // A second export into the same folder keeps the blobs already there and lists both snapshots.
    const second = await exportBundle({ settings: settingsFor(sourceCache), repos: ALL.slice(1), target: folder });
    expect(second.blobsKept).toBeGreaterThan(0);
    const blobs = await readdir(path.join(folder, 'blobs', 'sha256'));
    expect(blobs.every((b) => /^[0-9a-f]{64}$/.test(b))).toBe(true);
    expect(blobs.length).toBe(9 + 6);

    const target = path.join(root, 'target');
    const imported = await importBundle({ settings: settingsFor(target), source: folder });
    expect(imported.snapshots).toHaveLength(3);
    expect(await cacheFingerprint(target)).toEqual(await cacheFingerprint(sourceCache));
  });

  it('a partial snapshot (download --include) comes back as the same partial snapshot', async () => {
    const settings = settingsFor(sourceCache);
    await download({ settings, repoId: MODEL, include: ['*.json', 'weights/*'] });
    const bundle = path.join(root, 'partial.tar');
    const exported = await exportBundle({ settings, repos: [{ repoId: MODEL }], target: bundle });
    expect(exported.snapshots[0]!.files).toBe(3); // config.json, 日本語/設定.json, the weights
    const target = path.join(root, 'target');
    await importBundle({ settings: settingsFor(target), source: bundle });
    expect(await cacheFingerprint(target)).toEqual(await cacheFingerprint(sourceCache));
  });

  it('imports a tar whose entries come in another order (layers first, oci-layout last, as skopeo writes)', async () => {
    await populate();
    const bundle = path.join(root, 'bundle.tar');
    await exportBundle({ settings: settingsFor(sourceCache), repos: ALL, target: bundle });
    const entries = await readTar(bundle);
    const reordered = path.join(root, 'reordered.tar');
    await writeTar(reordered, [{ name: 'blobs/', data: Buffer.alloc(0), type: 'directory' }, { name: 'blobs/sha256/', data: Buffer.alloc(0), type: 'directory' }, ...entries.reverse()]);
    const target = path.join(root, 'target');
    await importBundle({ settings: settingsFor(target), source: reordered });
    expect(await cacheFingerprint(target)).toEqual(await cacheFingerprint(sourceCache));
  });
});

describe('export --group', () => {
  it('exports the Hub entries of a catalog group at their revisions (URL entries are not snapshots)', async () => {
    await populate();
    const catalog = path.join(root, 'catalog.json');
    await writeFile(
      catalog,
      JSON.stringify({
        groups: {
          fleet: {
            entries: [
              { repo: MODEL, revision: 'v1', purpose: 'test' },
              { repo: DATASET, type: 'dataset', purpose: 'test' },
              { url: `${hub().url}/x.bin`, sha256: 'a'.repeat(64), size: 1, destination: 'hub/checkpoints/x.bin', purpose: 'not a snapshot' },
            ],
          },
        },
      }),
    );
    const bundle = path.join(root, 'group.tar');
    const result = await exportBundle({ settings: settingsFor(sourceCache), groups: ['fleet'], catalogPath: catalog, target: bundle });
    expect(result.snapshots.map((s) => s.refName)).toEqual([`${MODEL}:v1`, `datasets/${DATASET}:main`]);
    const target = path.join(root, 'target');
    const imported = await importBundle({ settings: settingsFor(target), source: bundle });
    expect(imported.snapshots.map((s) => s.commit)).toEqual([hub().commitOf(MODEL, 'v1'), hub().commitOf(DATASET, 'main', 'dataset')]);
    expect((await scanCacheDir(target)).warnings).toEqual([]);
  });
});

describe('a damaged or hostile bundle', () => {
  it('a tampered layer fails with INTEGRITY; the cache stays valid and holds no staging or temp', async () => {
    await populate();
    const bundle = path.join(root, 'bundle.tar');
    await exportBundle({ settings: settingsFor(sourceCache), repos: [ALL[0]!], target: bundle });
    const entries = await readTar(bundle);
    const big = entries.find((e) => e.data.length === 2_500_000)!;
    const tamperedHex = big.name.slice('blobs/sha256/'.length);
    big.data[1000] = big.data[1000]! ^ 0xff;
    const tampered = path.join(root, 'tampered.tar');
    await writeTar(tampered, entries);

    const target = path.join(root, 'target');
    const error = await rejection(importBundle({ settings: settingsFor(target), source: tampered }));
    expect(error.code).toBe('INTEGRITY');
    expect(error.exitCode).toBe(8);
    expect(error.message).toContain('altered or damaged');
    const repoDir = path.join(target, 'models--acme--bundle-model');
    // No ref to a half-built snapshot, no blob under the tampered name, no leftovers.
    await expect(stat(path.join(repoDir, 'refs', 'main'))).rejects.toThrow();
    const blobs = await readdir(path.join(repoDir, 'blobs')).catch(() => [] as string[]);
    expect(blobs).not.toContain(tamperedHex);
    expect(blobs.every((b) => /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(b))).toBe(true);
    expect((await readdir(target)).filter((n) => n.startsWith('.mlcache'))).toEqual([]);
    expect((await readdir(repoDir)).filter((n) => n.startsWith('.mlcache'))).toEqual([]);
    expect((await scanCacheDir(target)).warnings).toEqual([]);

    // The good bundle then completes that cache: the same as importing it into an empty one.
    await importBundle({ settings: settingsFor(target), source: bundle });
    const clean = path.join(root, 'clean');
    await importBundle({ settings: settingsFor(clean), source: bundle });
    expect(await cacheFingerprint(target)).toEqual(await cacheFingerprint(clean));
  });

  it.each([
    ['../escape.txt'],
    ['blobs/sha256/../../../escape.txt'],
    ['/etc/escape.txt'],
  ])('an entry named %s is refused (UNSAFE_PATH) and nothing is written outside', async (name) => {
    const evil = path.join(root, 'evil.tar');
    await writeTar(evil, [
      { name: 'oci-layout', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
      { name, data: Buffer.from('pwned') },
    ]);
    const target = path.join(root, 'inner', 'target');
    await mkdir(target, { recursive: true });
    const error = await rejection(importBundle({ settings: settingsFor(target), source: evil }));
    expect(error.code).toBe('UNSAFE_PATH');
    expect((await readdir(root)).sort()).toEqual(['evil.tar', 'inner']);
    expect(await readdir(path.join(root, 'inner'))).toEqual(['target']);
  });

  it('a manifest whose ref annotation would leave refs/ is refused (UNSAFE_PATH) before any layer is placed', async () => {
    await populate();
    const bundle = path.join(root, 'bundle.tar');
    const exported = await exportBundle({ settings: settingsFor(sourceCache), repos: [ALL[2]!], target: bundle });
    const entries = await readTar(bundle);
    const oldHex = exported.snapshots[0]!.manifestDigest.slice(7);
    const manifestEntry = entries.find((e) => e.name === `blobs/sha256/${oldHex}`)!;
    const manifest = JSON.parse(manifestEntry.data.toString('utf8'));
    manifest.annotations['io.mlcache.hf.ref'] = '../../../escape';
    manifestEntry.data = Buffer.from(JSON.stringify(manifest));
    const newHex = createHash('sha256').update(manifestEntry.data).digest('hex');
    manifestEntry.name = `blobs/sha256/${newHex}`;
    const indexEntry = entries.find((e) => e.name === 'index.json')!;
    indexEntry.data = Buffer.from(indexEntry.data.toString('utf8').replace(oldHex, newHex).replace(/"size": \d+/, `"size": ${manifestEntry.data.length}`));
    const hostile = path.join(root, 'hostile.tar');
    await writeTar(hostile, entries);
    const target = path.join(root, 'target');
    const error = await rejection(importBundle({ settings: settingsFor(target), source: hostile }));
    expect(error.code).toBe('UNSAFE_PATH');
    expect((await readdir(target)).filter((n) => !n.startsWith('.locks'))).toEqual([]);
    expect(await readdir(root)).not.toContain('escape');
  });

  it('a symlink entry is refused (BUNDLE_INVALID)', async () => {
    const evil = path.join(root, 'link.tar');
    await writeTar(evil, [{ name: 'oci-layout', data: Buffer.alloc(0), type: 'symlink', linkname: '/etc/passwd' }]);
    const error = await rejection(importBundle({ settings: settingsFor(path.join(root, 'target')), source: evil }));
    expect(error.code).toBe('BUNDLE_INVALID');
  });

  it('a layout without oci-layout, a tar cut short, and a file that is no tar are BUNDLE_INVALID', async () => {
    await populate();
    const bundle = path.join(root, 'bundle.tar');
    await exportBundle({ settings: settingsFor(sourceCache), repos: [ALL[2]!], target: bundle });
    const entries = await readTar(bundle);

    const noLayout = path.join(root, 'no-layout.tar');
    await writeTar(noLayout, entries.filter((e) => e.name !== 'oci-layout'));
    const target = path.join(root, 'target');
    const e1 = await rejection(importBundle({ settings: settingsFor(target), source: noLayout }));
    expect(e1.code).toBe('BUNDLE_INVALID');
    expect(e1.message).toContain('no oci-layout');

    const bytes = await (await import('node:fs/promises')).readFile(bundle);
    const cut = path.join(root, 'cut.tar');
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const e2 = await rejection(importBundle({ settings: settingsFor(target), source: cut }));
    expect(e2.code).toBe('BUNDLE_INVALID');

    const junk = path.join(root, 'junk.tar');
    await writeFile(junk, Buffer.alloc(4096, 7));
    const e3 = await rejection(importBundle({ settings: settingsFor(target), source: junk }));
    expect(e3.code).toBe('BUNDLE_INVALID');

    // Nothing half-done: no ref, no staging folder.
    expect((await readdir(target)).filter((n) => n.startsWith('.mlcache'))).toEqual([]);
    const scan = await scanCacheDir(target);
    expect(scan.warnings).toEqual([]);
    expect(scan.repos.flatMap((r) => r.revisions.flatMap((rev) => rev.refs))).toEqual([]);
  });

  it('too little free space for the layers is INSUFFICIENT_SPACE before any layer is written', async () => {
    await populate();
    const bundle = path.join(root, 'bundle.tar');
    await exportBundle({ settings: settingsFor(sourceCache), repos: [ALL[0]!], target: bundle });
    const target = path.join(root, 'target');
    const error = await rejection(importBundle({ settings: settingsFor(target), source: bundle, freeSpace: () => Promise.resolve(1_000_000) }));
    expect(error.code).toBe('INSUFFICIENT_SPACE');
    expect(error.message).toContain('nothing was imported');
    expect((await readdir(target)).filter((n) => n.startsWith('models--') || n.startsWith('.mlcache'))).toEqual([]);
    // --skip-space-check goes ahead.
    const forced = await importBundle({ settings: settingsFor(target), source: bundle, skipSpaceCheck: true, freeSpace: () => Promise.resolve(1_000_000) });
    expect(forced.snapshots).toHaveLength(1);
  });

  it('export refuses a snapshot the cache does not hold (SNAPSHOT_NOT_CACHED)', async () => {
    const error = await rejection(exportBundle({ settings: settingsFor(sourceCache), repos: [{ repoId: MODEL }], target: path.join(root, 'x.tar') }));
    expect(error.code).toBe('SNAPSHOT_NOT_CACHED');
    expect(await readdir(root)).toEqual([]);
  });
});
