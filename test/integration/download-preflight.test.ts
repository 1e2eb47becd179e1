/**
 * `download`'s disk preflight, on a real small filesystem (a 60 MB tmpfs in a private mount
 * namespace, test/helpers/private-tmpfs.ts) with the real CLI and the Hub emulator: a 66 MB repo
 * is refused with INSUFFICIENT_SPACE (exit 9) before a single byte of file content is requested,
 * saying what it needs and what is free. Bytes already journaled in a resumable partial are not
 * counted twice. cache-models shares the check; --skip-space-check is the escape hatch of both.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { download } from '../../src/commands/download.js';
import { loadSettings } from '../../src/config/settings.js';
import { writeJournalFile } from '../../src/download/journal.js';
import { ensureBuilt } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';
import { assertUnshareWorks, cleanupTmpfsRun, runInTmpfs, type TmpfsRun } from '../helpers/private-tmpfs.js';

const MB = 1_000_000;
const MiB = 1024 * 1024;

const hub = useEmulator(() => ({
  repos: [
    {
      id: 'acme/big66',
      revisions: [
        {
          refs: ['main'],
          files: [
            { path: 'config.json', content: '{"hidden_size": 8}\n' },
            { path: 'model-1.safetensors', generated: { size: 33 * MB, seed: 1 } },
            { path: 'model-2.safetensors', generated: { size: 33 * MB, seed: 2 } },
          ],
        },
      ],
    },
    { id: 'acme/small', revisions: [{ refs: ['main'], files: [{ path: 'weights.bin', generated: { size: 2 * MB, seed: 3 } }] }] },
    { id: 'acme/local6', revisions: [{ refs: ['main'], files: [{ path: 'model.safetensors', generated: { size: 6 * MB, seed: 4 } }] }] },
  ],
}));

beforeAll(() => {
  assertUnshareWorks();
  ensureBuilt();
});
beforeEach(() => {
  hub().setFaults({});
  hub().resetStats();
});
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0)) await clean();
});

async function scenario(size: string, script: string): Promise<TmpfsRun> {
  const run = await runInTmpfs({
    size,
    script: `export HF_HUB_CACHE="$MNT/hub" HOME="$OUT/home"\nmkdir -p "$HOME"\n${script}`,
    env: { HF_ENDPOINT: hub().url },
    timeoutMs: 50_000, // a few CLI runs; generous for a loaded CI machine
  });
  cleanups.push(() => cleanupTmpfsRun(run));
  if (run.exitCode !== 0) throw new Error(`the scenario script failed (${run.exitCode}): ${run.stderr}`);
  return run;
}

async function step(run: TmpfsRun, name: string): Promise<{ exit: number; stdout: string; stderr: string }> {
  const read = (ext: string) => readFile(path.join(run.out, `${name}.${ext}`), 'utf8');
  return { exit: Number((await read('exit')).trim()), stdout: await read('stdout'), stderr: await read('stderr') };
}

describe('download preflight on a 60 MB filesystem', () => {
  it('refuses a 66 MB repo with exit 9 before any content byte, naming what it needs and what is free', async () => {
    const run = await scenario('60m', 'run big mlcache download acme/big66\nrun dry mlcache download acme/big66 --dry-run\nsnap after');
    const mnt = path.join(path.dirname(run.out), 'mnt');
    const big = await step(run, 'big');
    expect(big.exit, big.stderr).toBe(9);
    const errors = big.stderr.split('\n').filter((l) => l.startsWith('error: '));
    expect(errors).toHaveLength(1);
    // 66.0 MB of content (+ the config), with margin; what statfs says is free on the tmpfs (60 MiB).
    expect(errors[0]).toMatch(
      new RegExp(`^error: Not enough disk space for acme/big66: it needs 66\\.0 MB \\(\\d+\\.\\d MB with margin\\), but 62\\.9 MB is free on ${mnt}; nothing was downloaded\\.$`),
    );
    expect(big.stderr).toMatch(/^hint: Free some space or point --cache-dir at a larger disk; .*--skip-space-check downloads anyway\.$/m);
    expect(big.stderr).not.toMatch(/^\s+at /m);
    expect(big.stdout).toBe('');
    // Not one byte of file content was requested; only the API (revision, tree) was asked.
    expect(hub().stats.bytesServed).toBe(0);
    expect(hub().stats.requests.filter((r) => !r.url.startsWith('/api/'))).toEqual([]);
    // Nothing was written to the disk.
    expect(await readFile(path.join(run.out, 'after.list'), 'utf8')).toBe('');

    // --dry-run shows the same comparison and never refuses.
    const dry = await step(run, 'dry');
    expect(dry.exit, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`^Disk: \\d+\\.\\d MB needed with margin, 62\\.9 MB free on ${mnt} — NOT ENOUGH\\.$`, 'm'));
  }, 60_000);

  it('a repo that fits is downloaded; once cached, nothing is needed and cache-models passes its check too', async () => {
    const run = await scenario('60m', 'run small mlcache download acme/small --quiet\nrun models mlcache cache-models --model acme/small --yes');
    const small = await step(run, 'small');
    expect(small.exit, small.stderr).toBe(0);
    expect(hub().stats.bytesServed).toBe(2 * MB);
    // Already cached: nothing needed, so cache-models' 1 GiB margin does not apply.
    expect((await step(run, 'models')).exit).toBe(0);
    expect(hub().stats.bytesServed).toBe(2 * MB);
  }, 60_000);

  it('cache-models refuses a small repo on a small disk (its margin is 1 GiB) unless --skip-space-check', async () => {
    const run = await scenario('60m', 'run models mlcache cache-models --model acme/small --yes\nrun forced mlcache cache-models --model acme/small --yes --skip-space-check');
    const refused = await step(run, 'models');
    expect(refused.exit, refused.stderr).toBe(9);
    expect(refused.stderr).toMatch(/^error: Not enough disk space; nothing was downloaded\.$/m);
    expect(refused.stderr).toMatch(/2\.00 MB to download \(\+ margin = 1\.08 GB\), 62\.9 MB free on /);
    const forced = await step(run, 'forced');
    expect(forced.exit, forced.stderr).toBe(0);
    expect(hub().stats.bytesServed).toBe(2 * MB);
  }, 60_000);
});

describe('download --local-dir preflight: the copies into DIR count on DIR\'s filesystem', () => {
  it('a DIR on a small filesystem is refused before any content byte; the same DIR beside the cache is fine', async () => {
    // The cache on the big temp filesystem, DIR on the 8 MiB tmpfs: the 6 MB file must be copied there.
    const run = await scenario(
      '8m',
      `export HF_HUB_CACHE="$OUT/hub"\nrun far mlcache download acme/local6 --local-dir "$MNT/local"\nrun near mlcache download acme/local6 --local-dir "$OUT/local"\nsnap after`,
    );
    const far = await step(run, 'far');
    expect(far.exit, far.stderr).toBe(9);
    const mnt = path.join(path.dirname(run.out), 'mnt');
    expect(far.stderr).toMatch(new RegExp(`^error: Not enough disk space for acme/local6: it needs 6\\.00 MB in ${mnt}/local \\(10\\.3 MB with margin\\), but 8\\.39 MB is free on ${mnt}; nothing was downloaded\\.$`, 'm'));
    expect(far.stderr).toMatch(/^hint: .*--local-dir/m);
    expect(await readFile(path.join(run.out, 'after.list'), 'utf8')).toBe('');
    const near = await step(run, 'near');
    expect(near.exit, near.stderr).toBe(0);
    // Only the second run fetched the file.
    expect(hub().stats.bytesServed).toBe(6 * MB);
    expect((await readFile(path.join(run.out, 'local', 'model.safetensors'))).length).toBe(6 * MB);
  }, 60_000);
});

describe('download preflight (library)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-preflight-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('subtracts bytes journaled in a resumable partial, and refuses with the numbers in details', async () => {
    const settings = loadSettings({ env: { HOME: dir, HF_HUB_CACHE: path.join(dir, 'hub'), HF_ENDPOINT: hub().url }, cwd: dir });
    const digest = await hub().digestOf('acme/big66', 'model-1.safetensors', 'main');
    const blobs = path.join(dir, 'hub', 'models--acme--big66', 'blobs');
    await mkdir(blobs, { recursive: true });
    await writeJournalFile(path.join(blobs, `${digest.sha256}.89abcdef.mlcache-journal`), {
      version: 1,
      size: 33 * MB,
      digest: { algorithm: 'sha256', hex: digest.sha256 },
      chunkSize: 8 * MiB,
      completed: [[0, 10 * MB], [20 * MB, 25 * MB]],
    });
    const free = 60 * MB;
    const dry = await download({ settings, repoId: 'acme/big66', dryRun: true, freeSpace: () => Promise.resolve(free) });
    expect(dry.space).toMatchObject({ bytesResumable: 15 * MB, bytesNeeded: dry.bytesNeeded - 15 * MB, bytesFree: free, fits: true });

    const refusal = await download({ settings, repoId: 'acme/big66', freeSpace: () => Promise.resolve(20 * MB) }).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; details: { space: { bytesNeeded: number; bytesFree: number } } },
    );
    expect(refusal?.code).toBe('INSUFFICIENT_SPACE');
    expect(refusal?.message).toMatch(/it needs 51\.0 MB \(55\.7 MB with margin\) \(15\.0 MB more are already in resumable partial files\), but 20\.0 MB is free/);
    expect(refusal?.details.space).toMatchObject({ bytesNeeded: 66 * MB + 19 - 15 * MB, bytesFree: 20 * MB });
    expect(hub().stats.bytesServed).toBe(0);
  });
});
