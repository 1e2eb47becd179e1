/**
 * `mlcache download` interrupted while it links and while it feeds thousands of files:
 *
 * - SIGKILL at seeded-random moments of runs that link (and, with HF_HUB_DISABLE_SYMLINKS, copy)
 *   300 small files: after every kill, nothing under snapshots/ or refs/ has a temp-like name or
 *   is anything but a file of the repo, and @huggingface/hub's scanCacheDir counts exactly the
 *   repo's files in any revision a ref points at. One last run succeeds and leaves no temp at all.
 * - SIGINT once the first file of a 20,000-file listing lands: exit 130 within 2 s, no ref, and a
 *   second run fetches only what the first did not (the emulator's request log).
 */
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { scanCacheDir } from '@huggingface/hub';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FixtureFile } from '../../src/emulator/index.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { createRng } from '../../src/emulator/faults.js';
import { useEmulator } from '../helpers/emulator.js';

const LINK_REPO = 'acme/many-links';
/** 280 files at the top of the snapshot (@huggingface/hub's scanner reads one level) and 20 below. */
const LINK_FILES: FixtureFile[] = [
  ...Array.from({ length: 280 }, (_, i) => ({ path: `f${String(i).padStart(3, '0')}.txt`, content: `top ${i}\n` })),
  ...Array.from({ length: 20 }, (_, i) => ({ path: `sub/dir${i % 3}/g${i}.json`, content: `{"n":${i}}\n` })),
];
const BIG_REPO = 'acme/twenty-thousand';
const BIG_COUNT = 20_000;
const BIG_FILES: FixtureFile[] = Array.from({ length: BIG_COUNT }, (_, i) => ({ path: `d${String(i % 20).padStart(2, '0')}/x${String(i).padStart(5, '0')}.txt`, content: `row ${i}\n` }));

const hub = useEmulator(() => ({
  pageSize: 1000,
  repos: [
    { id: LINK_REPO, revisions: [{ refs: ['main'], files: LINK_FILES }] },
    { id: BIG_REPO, type: 'dataset', revisions: [{ refs: ['main'], files: BIG_FILES }] },
  ],
}));

let root: string;
let cacheDir: string;
beforeAll(() => {
  ensureBuilt();
});
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-interrupt-'));
  cacheDir = path.join(root, 'hub');
  hub().resetStats();
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});


const env = (extra: Record<string, string> = {}) => ({ HOME: root, PATH: process.env.PATH ?? '', NO_COLOR: '1', ...extra });

/** Every file (not folder) under `dir`, relative with `/`. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => !e.isDirectory()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
}

const TEMP_LIKE = /\.tmp$|\.incomplete$|mlcache|\.[0-9a-f]{8}\.[a-z]+$/;

/** Run `download`, SIGKILL it at the n-th file-done event or after `ms`, whichever comes first. */
async function downloadAndKill(atFileDone: number, ms: number, extraEnv: Record<string, string>) {
  const child = runCli(['download', LINK_REPO, '--endpoint', hub().url, '--cache-dir', cacheDir, '--json'], { env: env(extraEnv), cwd: root });
  let done = 0;
  const kill = () => child.kill('SIGKILL');
  const timer = setTimeout(kill, ms);
  child.stdout?.on('data', (chunk: Buffer) => {
    done += chunk.toString('utf8').split('"type":"file-done"').length - 1;
    if (done >= atFileDone) kill();
  });
  const result = await child;
  clearTimeout(timer);
  return result;
}

describe('no debris where readers look', () => {
  it('SIGKILL while linking or copying 300 files: snapshots/ and refs/ never hold a temp, scanners count the repo exactly; the next run cleans up', async () => {
    const repoDir = path.join(cacheDir, 'models--acme--many-links');
    const commit = hub().commitOf(LINK_REPO, 'main');
    const repoPaths = new Set(LINK_FILES.map((f) => f.path));
    const random = createRng(20261206);
    for (let run = 0; run < 8; run++) {
      // Odd runs copy (HF_HUB_DISABLE_SYMLINKS): every pointer is written again through a temp.
      const extra: Record<string, string> = run % 2 === 1 ? { HF_HUB_DISABLE_SYMLINKS: '1' } : {};
      // The n-th delivered file, or (a run with nothing to fetch, or one slow to start) a moment
      // well into it: start-up and planning take a second or two, linking 300 files a few more.
      await downloadAndKill(1 + Math.floor(random() * 299), Math.round(1500 + random() * 2500), extra);

      for (const name of await filesUnder(path.join(repoDir, 'snapshots'))) {
        expect(name, `after kill ${run}`).not.toMatch(TEMP_LIKE);
        const [rev, ...rest] = name.split('/');
        expect(rev).toBe(commit);
        expect(repoPaths.has(rest.join('/')), `${name} is a file of the repo`).toBe(true);
      }
      const refs = await filesUnder(path.join(repoDir, 'refs'));
      expect(refs.filter((r) => r !== 'main'), `after kill ${run}`).toEqual([]);
      if (refs.includes('main')) {
        // A ref is written last: its revision is complete.
        expect(await readFile(path.join(repoDir, 'refs', 'main'), 'utf8')).toBe(commit);
        expect(await filesUnder(path.join(repoDir, 'snapshots', commit))).toHaveLength(LINK_FILES.length);
        const scan = await scanCacheDir(cacheDir);
        expect(scan.warnings).toEqual([]);
        const revision = scan.repos.find((r) => r.id.name === LINK_REPO)?.revisions.find((r) => r.commitOid === commit);
        expect(revision?.files.length).toBe(280);
      }
      expect(await filesUnder(path.join(repoDir, 'trees')).then((t) => t.filter((n) => n !== `${commit}.json`))).toEqual([]);
    }

    const last = await runCli(['download', LINK_REPO, '--endpoint', hub().url, '--cache-dir', cacheDir], { env: env(), cwd: root });
    expect(last.exitCode, last.stderr).toBe(0);
    // Every temp a killed run left in .mlcache-tmp/ is gone, and so is the folder.
    await expect(lstat(path.join(repoDir, '.mlcache-tmp'))).rejects.toMatchObject({ code: 'ENOENT' });
    for (const folder of ['snapshots', 'refs', 'trees']) {
      for (const name of await filesUnder(path.join(repoDir, folder))) expect(name).not.toMatch(TEMP_LIKE);
    }
    expect(await filesUnder(path.join(repoDir, 'snapshots', commit))).toHaveLength(LINK_FILES.length);
    expect(await readFile(path.join(repoDir, 'snapshots', commit, 'sub/dir1/g4.json'), 'utf8')).toBe('{"n":4}\n');
    const scan = await scanCacheDir(cacheDir);
    expect(scan.warnings).toEqual([]);
    expect(scan.repos.find((r) => r.id.name === LINK_REPO)?.revisions.map((r) => [r.commitOid, r.files.length, r.refs])).toEqual([[commit, 280, ['main']]]);
  }, 180_000);
});

describe(`Ctrl-C on a ${BIG_COUNT}-file listing`, () => {
  it('exits 130 within 2 s of SIGINT once files land, writes no ref, and the next run fetches only what is missing', async () => {
    const repoDir = path.join(cacheDir, 'datasets--acme--twenty-thousand');
    const child = runCli(['download', BIG_REPO, '--repo-type', 'dataset', '--endpoint', hub().url, '--cache-dir', cacheDir, '--json'], { env: env(), cwd: root });
    let signalledAt: number | undefined;
    const fallback = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (signalledAt === undefined && chunk.toString('utf8').includes('"type":"file-done"')) {
        signalledAt = Date.now();
        child.kill('SIGINT');
      }
    });
    const first = await child;
    const exitedAt = Date.now();
    clearTimeout(fallback);
    expect(signalledAt, 'a file landed').toBeDefined();
    expect(first.exitCode, first.stderr).toBe(130);
    expect(exitedAt - signalledAt!).toBeLessThan(2000);
    expect(first.stderr).toMatch(/Run the same command again/);
    expect(await filesUnder(path.join(repoDir, 'refs'))).toEqual([]);

    // What the first run left: whole blobs only count.
    const blobs = new Set((await readdir(path.join(repoDir, 'blobs'))).filter((n) => /^[0-9a-f]{40}$/.test(n)));
    expect(blobs.size).toBeGreaterThan(0);
    expect(blobs.size).toBeLessThan(BIG_COUNT);
    const inFolder = BIG_FILES.filter((f) => f.path.startsWith('d00/'));
    const digests = await Promise.all(inFolder.map((f) => hub().digestOf(BIG_REPO, f.path, 'main', 'dataset')));
    const missing = new Set(digests.filter((d) => !blobs.has(d.etag)).map((d) => d.path));
    expect(missing.size).toBeLessThan(inFolder.length);

    // The second run (one folder of it, a thousand files: the whole listing is planned again)
    // completes and asks for exactly the files the first one did not finish.
    hub().resetStats();
    const second = await runCli(['download', BIG_REPO, '--repo-type', 'dataset', '--endpoint', hub().url, '--cache-dir', cacheDir, '--include', 'd00/*'], { env: env(), cwd: root });
    expect(second.exitCode, second.stderr).toBe(0);
    const fetched = hub()
      .stats.requests.filter((r) => r.url.includes('/resolve/'))
      .map((r) => decodeURIComponent((r.url.split('/resolve/')[1] ?? '').split('?')[0]!.split('/').slice(1).join('/')));
    expect(new Set(fetched)).toEqual(missing);
    expect(fetched).toHaveLength(missing.size);
    expect(await filesUnder(path.join(repoDir, 'snapshots'))).toHaveLength(inFolder.length);
  }, 180_000);
});
