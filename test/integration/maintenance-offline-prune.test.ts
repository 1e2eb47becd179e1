/** offline-check (no network, provably), prune (exact set freed), rm (shared blobs kept), doctor. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CatalogSchema } from '../../src/catalog/index.js';
import { doctor } from '../../src/commands/doctor.js';
import { download } from '../../src/commands/download.js';
import { offlineCheck } from '../../src/commands/offline-check.js';
import { prune } from '../../src/commands/prune.js';
import { rm } from '../../src/commands/rm.js';
import { loadSettings } from '../../src/config/settings.js';
import { EMULATOR_TOKEN, useEmulator } from '../helpers/emulator.js';
import { closedPort } from '../helpers/net.js';

const REPO = 'acme/tiny';
const hub = useEmulator(() => ({
  repos: [
    {
      id: REPO,
      revisions: [
        { refs: ['main'], files: [{ path: 'config.json', content: '{"v":2}\n' }, { path: 'model.bin', generated: { size: 100_000, seed: 1 } }, { path: 'README.md', content: 'hi' }] },
        { refs: ['v1'], files: [{ path: 'config.json', content: '{"v":1}\n' }, { path: 'model.bin', generated: { size: 100_000, seed: 1 } }, { path: 'old.bin', generated: { size: 50_000, seed: 2 } }] },
      ],
    },
  ],
}));

let root: string;
let cacheDir: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'mlcache-maint-'));
  cacheDir = path.join(root, 'hub');
  hub().resetStats();
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const settings = (endpoint = hub().url, env: Record<string, string> = {}) =>
  loadSettings({ env: { HOME: root, ...env }, cwd: root, cacheDir, endpoint, torchHome: path.join(root, 'torch') });
const catalog = CatalogSchema.parse({
  groups: { tiny: { entries: [{ repo: REPO, purpose: 'test', include: ['*.json', '*.bin'] }] } },
});
const repoDir = () => path.join(cacheDir, 'models--acme--tiny');

describe('offline-check', () => {
  it('fails on a snapshot missing one file, passes after it is downloaded again, and never uses the network', async () => {
    await download({ settings: settings(), repoId: REPO, include: ['*.json', '*.bin'] });
    const commit = hub().commitOf(REPO, 'main');
    await fs.rm(path.join(repoDir(), 'snapshots', commit, 'model.bin'));

    hub().resetStats();
    const dead = await closedPort();
    const failed = await offlineCheck({ settings: settings(dead), groups: ['tiny'], catalog });
    expect(hub().stats.requests).toEqual([]);
    expect(failed.ok).toBe(false);
    expect(failed.entries[0]).toMatchObject({
      name: REPO,
      commit,
      treeCache: true,
      missingFiles: ['model.bin'],
      problems: [`1 selected file(s) missing from snapshots/${commit.slice(0, 12)}: model.bin`],
    });

    // The emulator is up this time, and still sees nothing.
    const again = await offlineCheck({ settings: settings(), groups: ['tiny'], catalog });
    expect(again.ok).toBe(false);
    expect(hub().stats.requests).toEqual([]);

    await download({ settings: settings(), repoId: REPO, include: ['*.json', '*.bin'] });
    hub().resetStats();
    const passed = await offlineCheck({ settings: settings(dead), groups: ['tiny'], catalog });
    expect(hub().stats.requests).toEqual([]);
    expect(passed.ok).toBe(true);
    expect(passed.entries[0]!.files.map((f) => f.path)).toEqual(['config.json', 'model.bin']);
  });

  it('resolves refs raw like huggingface_hub: a trailing newline fails, a dangling pointer is a missing file', async () => {
    await download({ settings: settings(), repoId: REPO, include: ['*.json', '*.bin'] });
    const commit = hub().commitOf(REPO, 'main');
    await fs.writeFile(path.join(repoDir(), 'refs', 'main'), `${commit}\n`);
    const nl = await offlineCheck({ settings: settings(), groups: ['tiny'], catalog });
    expect(nl.entries[0]!.problems[0]).toMatch(/^refs\/main ends with a newline/);
    await fs.writeFile(path.join(repoDir(), 'refs', 'main'), commit);
    const model = await hub().digestOf(REPO, 'model.bin');
    await fs.rm(path.join(repoDir(), 'blobs', model.etag));
    const dangling = await offlineCheck({ settings: settings(), models: [`${REPO}@main`], catalog });
    expect(dangling.entries[0]!.missingFiles).toEqual(['model.bin']);
  });
});

describe('prune and rm', () => {
  it('prune frees exactly the stale partials, orphan blobs and (with --yes) unreferenced revisions', async () => {
    await download({ settings: settings(), repoId: REPO });
    await download({ settings: settings(), repoId: REPO, revision: 'v1' });
    const blobs = path.join(repoDir(), 'blobs');
    const old = new Date(Date.now() - 3_600_000);
    const write = async (name: string, data: string, aged: boolean) => {
      const p = path.join(blobs, name);
      await fs.writeFile(p, data);
      if (aged) await fs.utimes(p, old, old);
      return p;
    };
    const orphanData = 'orphan!';
    const orphan = await write(createHash('sha256').update(orphanData).digest('hex'), orphanData, true);
    const fresh = await write(createHash('sha256').update('fresh').digest('hex'), 'fresh', false);
    const stalePartial = await write(`${'a'.repeat(64)}.0000aaaa.incomplete`, 'x'.repeat(40), true);
    const staleJournal = await write(`${'a'.repeat(64)}.0000aaaa.mlcache-journal`, '{}', true);
    const livePartial = await write(`${'b'.repeat(64)}.0000bbbb.incomplete`, 'y'.repeat(30), true);
    const deadRecent = await write(`${'c'.repeat(64)}.0000cccc.incomplete`, 'z'.repeat(20), false);
    const locks = path.join(cacheDir, '.locks', 'models--acme--tiny');
    await fs.mkdir(locks, { recursive: true });
    const lock = (pid: number) => JSON.stringify({ pid, host: os.hostname(), startedAt: new Date().toISOString(), nonce: 'n1' });
    await fs.writeFile(path.join(locks, `${'b'.repeat(64)}.lock`), lock(process.pid));
    const exited = spawnSync(process.execPath, ['-e', '0']).pid;
    await fs.writeFile(path.join(locks, `${'c'.repeat(64)}.lock`), lock(exited));
    // v1 becomes unreferenced: its old.bin and config blobs go with it, model.bin is shared.
    await fs.rm(path.join(repoDir(), 'refs', 'v1'));
    const v1 = hub().commitOf(REPO, 'v1');
    const oldBin = await hub().digestOf(REPO, 'old.bin', 'v1');
    const v1Config = await hub().digestOf(REPO, 'config.json', 'v1');

    // Partials count the space they take on disk (st_blocks × 512), not their apparent sizes (40, 2, 20).
    const allocated = async (p: string) => (await fs.stat(p)).blocks * 512;
    const partialBytes = (await allocated(stalePartial)) + (await allocated(staleJournal)) + (await allocated(deadRecent));
    const dry = await prune({ settings: settings(), dryRun: true, catalog });
    expect(dry.removed).toEqual([]);
    expect(dry.plan.bytes.total).toBe(partialBytes + 7 + 50_000 + 8);

    const nonTty = await prune({ settings: settings(), catalog });
    expect(nonTty.revisionsIncluded).toBe(false);
    expect(nonTty.revisionsLeftReason).toBe('not on a terminal and --yes not given');
    expect(nonTty.removed.sort()).toEqual([stalePartial, staleJournal, deadRecent, orphan].sort());
    expect(nonTty.bytesFreed).toBe(partialBytes + 7);
    expect(nonTty.plan.kept.map((k) => k.path).sort()).toEqual([livePartial, fresh].sort());
    await fs.access(livePartial);
    await fs.access(fresh);

    const asked: string[] = [];
    const declined = await prune({ settings: settings(), catalog, confirm: (q) => (asked.push(q), Promise.resolve(false)) });
    expect(asked).toEqual([`Remove 1 revision no ref points to (${50_000 + 8} bytes)?`]);
    expect(declined.removed).toEqual([]);

    const yes = await prune({ settings: settings(), catalog, yes: true });
    expect(yes.removed.sort()).toEqual(
      [path.join(repoDir(), 'snapshots', v1), path.join(repoDir(), 'trees', `${v1}.json`), path.join(blobs, oldBin.etag), path.join(blobs, v1Config.etag)].sort(),
    );
    expect(yes.bytesFreed).toBe(50_000 + 8);
    const model = await hub().digestOf(REPO, 'model.bin');
    await fs.access(path.join(blobs, model.etag));
  });

  it('rm REPO@REV keeps blobs another revision uses; rm REPO removes everything', async () => {
    await download({ settings: settings(), repoId: REPO });
    await download({ settings: settings(), repoId: REPO, revision: 'v1' });
    const v1 = hub().commitOf(REPO, 'v1');
    const model = await hub().digestOf(REPO, 'model.bin');
    const oldBin = await hub().digestOf(REPO, 'old.bin', 'v1');
    await expect(rm({ settings: settings(), spec: `${REPO}@v1` })).rejects.toMatchObject({ code: 'USAGE' });
    const result = await rm({ settings: settings(), spec: `${REPO}@v1`, yes: true });
    expect(result.commit).toBe(v1);
    expect(result.bytesFreed).toBe(50_000 + 8);
    expect(result.plan.keptBlobs).toBe(1);
    await expect(fs.access(path.join(repoDir(), 'blobs', oldBin.etag))).rejects.toThrow();
    await fs.access(path.join(repoDir(), 'blobs', model.etag));
    await expect(fs.access(path.join(repoDir(), 'refs', 'v1'))).rejects.toThrow();
    await fs.access(path.join(repoDir(), 'refs', 'main'));

    const all = await rm({ settings: settings(), spec: REPO, yes: true });
    expect(all.removed[0]).toBe(repoDir());
    await expect(fs.access(repoDir())).rejects.toThrow();
    await expect(rm({ settings: settings(), spec: REPO, yes: true })).rejects.toMatchObject({ code: 'CACHE_NOT_FOUND' });
  });
});

describe('doctor', () => {
  it('ok against a reachable endpoint with a valid token; fails on a closed port, warns without a token', async () => {
    await fs.mkdir(cacheDir, { recursive: true });
    const good = await doctor({ settings: settings(hub().url, { HF_TOKEN: EMULATOR_TOKEN }) });
    expect(good.checks.find((c) => c.id === 'endpoint')?.status).toBe('ok');
    expect(good.checks.find((c) => c.id === 'token')).toMatchObject({ status: 'ok' });
    expect(good.checks.find((c) => c.id === 'symlinks')?.status).toBe('ok');
    expect(good.ok).toBe(true);

    const bad = await doctor({ settings: settings(await closedPort()), timeoutMs: 2000 });
    expect(bad.checks.find((c) => c.id === 'endpoint')?.status).toBe('fail');
    expect(bad.checks.find((c) => c.id === 'token')?.status).toBe('warn');
    expect(bad.ok).toBe(false);

    const invalid = await doctor({ settings: settings(hub().url, { HF_TOKEN: 'hf_wrong' }) });
    expect(invalid.checks.find((c) => c.id === 'token')?.status).toBe('fail');
  });
});
