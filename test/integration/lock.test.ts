/**
 * mlcache.lock end to end against the Hub emulator: `lock` (deterministic bytes, no requests when
 * satisfied, --upgrade), `cache-models --frozen` (zero API requests, a moved ref changes nothing,
 * catalog edits and wrong hashes fail), `--locked`, `cache-key` and `outdated`.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cacheKeyFor } from '../../src/commands/cache-key.js';
import { cacheModels, planCacheModels, type CacheModelsOptions } from '../../src/commands/cache-models/index.js';
import { lock, type LockOptions } from '../../src/commands/lock/index.js';
import { outdated } from '../../src/commands/outdated.js';
import { offlineCheck } from '../../src/commands/offline-check.js';
import { verify } from '../../src/commands/verify.js';
import { loadSettings } from '../../src/config/settings.js';
import { EXIT_CODES } from '../../src/errors.js';
import { LockfileSchema, lockfileJsonSchema, type Lockfile } from '../../src/lock/index.js';
import { EMULATOR_TOKEN, useEmulator } from '../helpers/emulator.js';
import { mlcacheRejectionFrom } from '../helpers/errors.js';

const ARTIFACT = Buffer.from('alignment checkpoint '.repeat(1500));
const ARTIFACT_SHA = createHash('sha256').update(ARTIFACT).digest('hex');
const LINUX = { os: 'linux', arch: 'x64' };
const GiB = 1024 ** 3;

const hub = useEmulator({
  repos: [
    {
      id: 'org/asr',
      revisions: [
        { refs: ['main'], files: [{ path: 'config.json', content: '{"v":1}' }, { path: 'model.bin', generated: { size: 40_000, seed: 1 } }, { path: 'README.md', content: '# asr\n' }] },
        {
          refs: ['next'],
          files: [
            { path: 'config.json', content: '{"v":2}' },
            { path: 'model.bin', generated: { size: 60_000, seed: 2 } },
            { path: 'vocab.json', content: '["a","b"]' },
            { path: 'README.md', content: '# asr v2\n' },
          ],
        },
      ],
    },
    {
      id: 'org/translate',
      revisions: [{ refs: ['main', 'v1.0'], files: [{ path: 'config.json', content: '{"t":1}' }, { path: 'model.safetensors', generated: { size: 50_000, seed: 3 } }, { path: 'tokenizer.json', content: '{}' }] }],
    },
    {
      id: 'org/gated',
      gated: 'manual',
      revisions: [{ refs: ['main'], files: [{ path: 'config.json', content: '{"g":1}' }, { path: 'weights.bin', generated: { size: 8_000, seed: 5 } }] }],
    },
    {
      id: 'org/mlx-only',
      revisions: [{ refs: ['main'], files: [{ path: 'weights.npz', generated: { size: 10_000, seed: 4 } }] }],
    },
  ],
});

let artifactServer: Server;
let artifactUrl: string;

beforeAll(async () => {
  artifactServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': ARTIFACT.length });
    res.end(ARTIFACT);
  });
  await new Promise<void>((resolve) => artifactServer.listen(0, '127.0.0.1', resolve));
  artifactUrl = `http://127.0.0.1:${(artifactServer.address() as AddressInfo).port}/align.pth`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => artifactServer.close(() => resolve()));
});

function projectCatalog(edit: (c: ReturnType<typeof baseCatalog>) => void = () => undefined) {
  const c = baseCatalog();
  edit(c);
  return c;
}

function baseCatalog() {
  return {
    version: 1,
    groups: {
      asr: {
        entries: [
          { repo: 'org/asr', purpose: 'speech', include: ['config.json', 'model.bin', 'vocab.*'] } as Record<string, unknown>,
          { name: 'align', url: artifactUrl, sha256: ARTIFACT_SHA, size: ARTIFACT.length, destination: 'hub/checkpoints/align.pth', purpose: 'alignment' },
        ],
      },
      translate: { entries: [{ repo: 'org/translate', purpose: 'translation', exclude: ['tokenizer.json'] } as Record<string, unknown>] },
      mlx: { platform: { os: ['darwin'], arch: ['arm64'] }, entries: [{ repo: 'org/mlx-only', purpose: 'mlx' }] },
    },
  };
}

let tmp: string;
let project: string;
let shipped: string;
let lockPath: string;

async function writeCatalog(catalog: unknown): Promise<void> {
  await writeFile(path.join(project, 'config', 'models.json'), JSON.stringify(catalog, null, 2));
}

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcache-lock-'));
  project = path.join(tmp, 'project');
  await mkdir(path.join(project, 'config'), { recursive: true });
  shipped = path.join(tmp, 'shipped.json');
  await writeFile(shipped, JSON.stringify({ version: 1, groups: {} }));
  await writeCatalog(baseCatalog());
  lockPath = path.join(project, 'config', 'mlcache.lock');
  hub().resetStats();
  hub().setFaults({});
});

afterEach(async () => {
  hub().moveRef('org/asr', 'main', firstAsrCommit);
  await rm(tmp, { recursive: true, force: true });
});

let firstAsrCommit = '';
beforeAll(() => {
  firstAsrCommit = hub().commitOf('org/asr', 'main');
});

function settings() {
  return loadSettings({
    env: { HOME: tmp, HF_HUB_CACHE: path.join(tmp, 'hub'), TORCH_HOME: path.join(tmp, 'torch'), HF_ENDPOINT: hub().url, HF_TOKEN: EMULATOR_TOKEN },
    cwd: project,
  });
}

function lockOptions(extra: Partial<LockOptions> = {}): LockOptions {
  return { settings: settings(), shippedCatalogPath: shipped, platform: LINUX, ...extra };
}

function modelsOptions(extra: Partial<CacheModelsOptions> = {}): CacheModelsOptions {
  return { settings: settings(), shippedCatalogPath: shipped, platform: LINUX, freeSpace: () => Promise.resolve(100 * GiB), connections: 4, ...extra };
}

const apiRequests = () => hub().stats.requests.filter((r) => r.url.startsWith('/api/'));

async function readLock(): Promise<Lockfile> {
  return LockfileSchema.parse(JSON.parse(await readFile(lockPath, 'utf8')));
}

describe('mlcache lock', () => {
  it('writes the selection resolved to commits and files, with identical bytes the second time and no request', async () => {
    const first = await lock(lockOptions());
    expect(first.lockfile).toBe(lockPath);
    expect(first.written).toBe(true);
    const bytes = await readFile(lockPath, 'utf8');
    const parsed = await readLock();
    expect(parsed.platform).toEqual(LINUX);
    expect(parsed.selection).toEqual({ all: true, groups: [], models: [], force: false });
    // mlx is darwin-only: not locked for linux.
    expect(parsed.entries.map((e) => `${e.group}/${e.name}`)).toEqual(['asr/align', 'asr/org/asr', 'translate/org/translate']);
    const asr = parsed.entries.find((e) => e.name === 'org/asr');
    expect(asr).toMatchObject({ kind: 'hub', repo: 'org/asr', type: 'model', revision: 'main', commit: hub().commitOf('org/asr', 'main') });
    if (asr?.kind !== 'hub') throw new Error('hub entry expected');
    expect(asr.files.map((f) => f.path)).toEqual(['config.json', 'model.bin']);
    const model = await hub().digestOf('org/asr', 'model.bin');
    expect(asr.files[1]).toEqual({ path: 'model.bin', size: 40_000, blobId: expect.stringMatching(/^[0-9a-f]{40}$/) as unknown, lfs: { sha256: model.sha256, size: 40_000 } });
    const config = await hub().digestOf('org/asr', 'config.json');
    expect(asr.files[0]).toEqual({ path: 'config.json', size: config.size, blobId: config.gitSha1 });
    expect(parsed.entries.find((e) => e.name === 'align')).toEqual({ group: 'asr', name: 'align', kind: 'url', url: artifactUrl, sha256: ARTIFACT_SHA, size: ARTIFACT.length, destination: 'hub/checkpoints/align.pth' });
    expect(bytes.endsWith('}\n')).toBe(true);

    hub().resetStats();
    const mtime = (await stat(lockPath)).mtimeMs;
    const second = await lock(lockOptions());
    expect(second.written).toBe(false);
    expect(second.changes).toEqual([]);
    expect(await readFile(lockPath, 'utf8')).toBe(bytes);
    expect((await stat(lockPath)).mtimeMs).toBe(mtime);
    expect(hub().stats.requestCount).toBe(0);

    // A fresh lock from scratch (another machine) gives the same bytes.
    await rm(lockPath);
    await lock(lockOptions());
    expect(await readFile(lockPath, 'utf8')).toBe(bytes);
  });

  it('keeps a satisfied entry at its commit when its ref moved; --upgrade moves it and reports the change', async () => {
    await lock(lockOptions());
    const before = await readLock();
    hub().moveRef('org/asr', 'main', 'next');
    const again = await lock(lockOptions());
    expect(again.written).toBe(false);
    const upgraded = await lock(lockOptions({ upgrade: true, upgradeEntries: ['asr/org/asr'] }));
    expect(upgraded.written).toBe(true);
    expect(upgraded.changes).toEqual([
      {
        entry: 'asr/org/asr',
        kind: 'upgraded',
        commitBefore: firstAsrCommit,
        commitAfter: hub().commitOf('org/asr', 'next'),
        files: { added: ['vocab.json'], removed: [], changed: ['config.json', 'model.bin'], bytesBefore: 40_007, bytesAfter: 60_016 },
      },
    ]);
    const after = await readLock();
    expect(after.entries.find((e) => e.name === 'org/translate')).toEqual(before.entries.find((e) => e.name === 'org/translate'));
    const unknown = await mlcacheRejectionFrom(lock(lockOptions({ upgrade: true, upgradeEntries: ['nope'] })));
    expect(unknown.code).toBe('USAGE');
  });

  it('follows a catalog edit: the changed entry is resolved again, the others keep their commits', async () => {
    await lock(lockOptions());
    hub().moveRef('org/translate', 'main', 'v1.0'); // same commit: nothing to see
    hub().moveRef('org/asr', 'main', 'next');
    await writeCatalog(projectCatalog((c) => (c.groups.asr.entries[0]!.include = ['config.json'])));
    const result = await lock(lockOptions());
    expect(result.changes.map((c) => [c.entry, c.kind])).toEqual([['asr/org/asr', 'updated']]);
    const asr = (await readLock()).entries.find((e) => e.name === 'org/asr');
    expect(asr).toMatchObject({ include: ['config.json'], commit: hub().commitOf('org/asr', 'next') });
  });

  it('locks for another platform (--platform) and records it', async () => {
    await lock(lockOptions({ platform: { os: 'darwin', arch: 'arm64' } }));
    const parsed = await readLock();
    expect(parsed.platform).toEqual({ os: 'darwin', arch: 'arm64' });
    expect(parsed.entries.map((e) => e.group)).toContain('mlx');
  });

  it('the committed JSON Schema is what the zod schema generates (run `npm run schemas`)', async () => {
    const committed = JSON.parse(await readFile(new URL('../../docs/schemas/mlcache-lock.schema.json', import.meta.url), 'utf8')) as unknown;
    expect(committed).toEqual(lockfileJsonSchema());
  });
});

describe('cache-models --frozen', () => {
  it('fetches the locked commit with zero API requests, even after main moved, and writes refs/main to it', async () => {
    await lock(lockOptions());
    const lockBytes = await readFile(lockPath, 'utf8');
    hub().moveRef('org/asr', 'main', 'next');
    hub().resetStats();
    const plan = await planCacheModels(modelsOptions({ frozen: true })); // --dry-run
    expect(plan.entries.filter((e) => e.skipped === undefined).map((e) => [e.name, e.commit, e.bytesNeeded])).toEqual([
      ['org/asr', firstAsrCommit, 40_007],
      ['align', undefined, ARTIFACT.length],
      ['org/translate', hub().commitOf('org/translate', 'main'), (await hub().digestOf('org/translate', 'model.safetensors')).size + 7],
    ]);
    expect(hub().stats.requestCount).toBe(0);
    const result = await cacheModels(modelsOptions({ frozen: true }));
    expect(result.ok).toBe(true);
    expect(apiRequests()).toEqual([]);
    expect(hub().stats.requestCount).toBeGreaterThan(0); // files were fetched by commit
    const repoDir = path.join(tmp, 'hub', 'models--org--asr');
    expect((await readFile(path.join(repoDir, 'refs', 'main'), 'utf8')).trim()).toBe(firstAsrCommit);
    const config = await readFile(path.join(repoDir, 'snapshots', firstAsrCommit, 'config.json'), 'utf8');
    expect(config).toBe('{"v":1}');
    expect(existsSync(path.join(repoDir, 'snapshots', firstAsrCommit, 'vocab.json'))).toBe(false);
    expect(await readFile(path.join(tmp, 'torch', 'hub', 'checkpoints', 'align.pth'))).toEqual(ARTIFACT);
    // trees/<commit>.json lists a whole commit; the lock only has the selected files, so none is written.
    expect(existsSync(path.join(repoDir, 'trees', `${firstAsrCommit}.json`))).toBe(false);
    expect(await readFile(lockPath, 'utf8')).toBe(lockBytes);

    // Warm: nothing at all is requested.
    hub().resetStats();
    const warm = await cacheModels(modelsOptions({ frozen: true }));
    expect(warm.allCached).toBe(true);
    expect(hub().stats.requestCount).toBe(0);
    const offline = await offlineCheck({ settings: settings(), frozen: true, platform: LINUX, lockfile: undefined });
    expect(offline.ok).toBe(true);
  });

  it('a catalog edit fails --frozen and --locked with LOCK_MISMATCH (exit 3) and a hint naming `mlcache lock`, downloading nothing', async () => {
    await lock(lockOptions());
    const edits: Array<[string, (c: ReturnType<typeof baseCatalog>) => void, string]> = [
      ['changed', (c) => (c.groups.translate.entries[0]!.revision = 'v1.0'), 'translate/org/translate: revision changed'],
      ['added', (c) => c.groups.translate.entries.push({ repo: 'org/mlx-only', purpose: 'x' }), 'translate/org/mlx-only: in the catalog, not in the lock'],
      ['removed', (c) => (c.groups.asr.entries = c.groups.asr.entries.slice(1)), 'asr/org/asr: in the lock, no longer selected'],
    ];
    for (const [, edit, line] of edits) {
      await writeCatalog(projectCatalog(edit));
      for (const mode of [{ frozen: true }, { locked: true }]) {
        hub().resetStats();
        const error = await mlcacheRejectionFrom(cacheModels(modelsOptions(mode)));
        expect(error.code).toBe('LOCK_MISMATCH');
        expect(EXIT_CODES[error.code]).toBe(3);
        expect(error.message).toContain(line);
        expect(error.hint).toContain('mlcache lock');
        expect(hub().stats.requestCount).toBe(0);
      }
    }
    expect(existsSync(path.join(tmp, 'hub', 'models--org--asr'))).toBe(false);
    const missing = await mlcacheRejectionFrom(cacheModels(modelsOptions({ frozen: true, lockfile: path.join(tmp, 'none.lock') })));
    expect(missing.code).toBe('LOCK_NOT_FOUND');
  });

  it('a locked hash the server does not match fails with INTEGRITY and leaves the cache valid', async () => {
    await lock(lockOptions({ groups: ['translate'] }));
    const data = await readLock();
    const entry = data.entries[0]!;
    if (entry.kind !== 'hub') throw new Error('hub entry expected');
    const model = entry.files.find((f) => f.path === 'model.safetensors')!;
    const forged = 'ab'.repeat(32);
    model.lfs = { sha256: forged, size: model.size };
    await writeFile(lockPath, JSON.stringify(data, null, 2));
    hub().resetStats();
    const result = await cacheModels(modelsOptions({ frozen: true }));
    expect(result.ok).toBe(false);
    expect(result.entries[0]?.error?.code).toBe('INTEGRITY');
    expect(apiRequests()).toEqual([]);
    const repoDir = path.join(tmp, 'hub', 'models--org--translate');
    expect(existsSync(path.join(repoDir, 'blobs', forged))).toBe(false);
    expect(existsSync(path.join(repoDir, 'refs', 'main'))).toBe(false);
    const check = await verify({ settings: settings() });
    expect(check.intact).toBe(true);
  });

  it('--locked lists the locked commit and refuses a lock whose hashes the Hub contradicts', async () => {
    await lock(lockOptions({ groups: ['translate'] }));
    hub().resetStats();
    const ok = await cacheModels(modelsOptions({ locked: true }));
    expect(ok.ok).toBe(true);
    const commit = hub().commitOf('org/translate', 'main');
    expect(apiRequests().map((r) => r.url.split('?')[0])).toEqual([`/api/models/org/translate/tree/${commit}`]);

    const data = await readLock();
    const entry = data.entries[0]!;
    if (entry.kind !== 'hub') throw new Error('hub entry expected');
    entry.files[0]!.blobId = '0'.repeat(40);
    await writeFile(lockPath, JSON.stringify(data));
    const bad = await cacheModels(modelsOptions({ locked: true }));
    expect(bad.entries[0]?.error?.code).toBe('LOCK_MISMATCH');
  });

  it('a selection outside the lock fails; a subset of the lock is fetched alone', async () => {
    await lock(lockOptions({ groups: ['translate'] }));
    const outside = await mlcacheRejectionFrom(cacheModels(modelsOptions({ frozen: true, groups: ['asr'] })));
    expect(outside.code).toBe('LOCK_MISMATCH');
    expect(outside.message).toContain('asr/org/asr: selected by this run but not in the lock');
    const subset = await cacheModels(modelsOptions({ frozen: true, groups: ['translate'] }));
    expect(subset.entries.map((e) => `${e.group}/${e.name}`)).toEqual(['translate/org/translate']);
  });
});

describe('cache-key', () => {
  it('changes exactly when the lock, the selection or the platform change', async () => {
    await lock(lockOptions());
    const key = async (extra: Partial<Parameters<typeof cacheKeyFor>[0]> = {}) => (await cacheKeyFor({ settings: settings(), platform: LINUX, ...extra })).key;
    const base = await key();
    expect(base).toMatch(/^mlcache-linux-x64-[0-9a-f]{16}$/);
    expect(await key()).toBe(base);
    // Reformatting the file changes nothing; the same selection spelled out as flags neither.
    await writeFile(lockPath, JSON.stringify(JSON.parse(await readFile(lockPath, 'utf8'))));
    expect(await key()).toBe(base);
    expect(await key({ all: true })).toBe(base);
    expect(await key({ groups: ['translate'] })).not.toBe(base);
    expect(await key({ groups: ['translate', 'asr'] })).toBe(await key({ groups: ['asr', 'translate'] }));
    expect(await key({ platform: { os: 'linux', arch: 'arm64' } })).toMatch(/^mlcache-linux-arm64-/);
    expect((await key({ platform: { os: 'linux', arch: 'arm64' } })).slice(-16)).not.toBe(base.slice(-16));
    hub().moveRef('org/asr', 'main', 'next');
    await lock(lockOptions({ upgrade: true }));
    expect(await key()).not.toBe(base);

    const { paths } = await cacheKeyFor({ settings: settings() });
    expect(paths).toEqual([path.join(tmp, 'hub'), path.join(tmp, 'torch')]);
  });
});

describe('outdated', () => {
  it('reports a moved ref with the size of the change, one revision call per repo and no listing', async () => {
    await lock(lockOptions());
    hub().resetStats();
    expect((await outdated({ settings: settings() })).outdated).toEqual([]);
    hub().moveRef('org/asr', 'main', 'next');
    hub().resetStats();
    const result = await outdated({ settings: settings() });
    expect(result.checked).toBe(2);
    expect(result.outdated).toEqual([
      {
        entry: 'asr/org/asr',
        repo: 'org/asr',
        revision: 'main',
        lockedCommit: firstAsrCommit,
        currentCommit: hub().commitOf('org/asr', 'next'),
        files: { added: ['vocab.json'], removed: [], changed: ['config.json', 'model.bin'], bytesBefore: 40_007, bytesAfter: 60_016 },
      },
    ]);
    const urls = hub().stats.requests.map((r) => r.url.split('?')[0]).sort();
    expect(urls).toEqual(['/api/models/org/asr/revision/main', '/api/models/org/translate/revision/main']);
  });
});

describe('offline-check --frozen', () => {
  it('checks the locked commit: a ref moved locally or a missing file fails', async () => {
    await lock(lockOptions({ groups: ['translate'] }));
    await cacheModels(modelsOptions({ frozen: true }));
    expect((await offlineCheck({ settings: settings(), frozen: true, platform: LINUX })).ok).toBe(true);
    const repoDir = path.join(tmp, 'hub', 'models--org--translate');
    const commit = hub().commitOf('org/translate', 'main');
    const link = path.join(repoDir, 'snapshots', commit, 'config.json');
    expect(await readlink(link)).toContain('blobs');
    await rm(link);
    const result = await offlineCheck({ settings: settings(), frozen: true, platform: LINUX });
    expect(result.ok).toBe(false);
    expect(result.entries[0]?.missingFiles).toEqual(['config.json']);
  });
});

describe('verify --frozen', () => {
  it('checks the locked files at the locked commit and the URL artifact against the locked sha256', async () => {
    await lock(lockOptions());
    await cacheModels(modelsOptions({ frozen: true }));
    const clean = await verify({ settings: settings(), frozen: true });
    expect(clean.intact).toBe(true);
    expect(clean.repos.sort()).toEqual(['org/asr', 'org/translate']);
    await rm(path.join(tmp, 'hub', 'models--org--asr', 'snapshots', firstAsrCommit, 'model.bin'));
    const artifact = path.join(tmp, 'torch', 'hub', 'checkpoints', 'align.pth');
    const bytes = await readFile(artifact);
    bytes[0] = bytes[0]! ^ 0xff;
    await writeFile(artifact, bytes);
    const damaged = await verify({ settings: settings(), frozen: true });
    expect(damaged.intact).toBe(false);
    // (The blob whose only link went is also reported, as an orphan: info, not damage.)
    expect(damaged.findings.filter((f) => f.severity === 'damage').map((f) => [f.kind, f.file]).sort()).toEqual([
      ['artifact-mismatch', 'hub/checkpoints/align.pth'],
      ['snapshot-incomplete', 'model.bin'],
    ]);
  });
});

describe('gated repos and failures', () => {
  function gatedCatalog() {
    return { version: 1, groups: { gated: { entries: [{ repo: 'org/gated', gated: true, purpose: 'gated' }] } } };
  }

  it('a gated entry locked and cached with a token is served by --frozen without one, with no request', async () => {
    await writeCatalog(gatedCatalog());
    await lock(lockOptions());
    await cacheModels(modelsOptions({ frozen: true }));
    const noToken = loadSettings({ env: { HOME: tmp, HF_HUB_CACHE: path.join(tmp, 'hub'), TORCH_HOME: path.join(tmp, 'torch'), HF_ENDPOINT: hub().url }, cwd: project });
    hub().resetStats();
    const result = await cacheModels({ ...modelsOptions({ frozen: true }), settings: noToken, yes: true });
    expect(result.ok).toBe(true);
    expect(result.allCached).toBe(true);
    expect(hub().stats.requestCount).toBe(0);
    // Not cached and no token: the entry fails as gated, as it does without the lock.
    await rm(path.join(tmp, 'hub'), { recursive: true });
    const cold = await cacheModels({ ...modelsOptions({ frozen: true }), settings: noToken, yes: true });
    expect(cold.entries[0]?.error?.code).toBe('GATED_REPO');
  });

  it('an entry that cannot be resolved leaves no lock behind', async () => {
    await writeCatalog(projectCatalog((c) => c.groups.translate.entries.push({ repo: 'org/missing', purpose: 'x' })));
    const error = await mlcacheRejectionFrom(lock(lockOptions()));
    expect(error.code).toBe('REPO_NOT_FOUND');
    expect(error.message).toContain('translate/org/missing');
    expect(existsSync(lockPath)).toBe(false);
  });
});
