/**
 * A really full disk (ENOSPC), with the real CLI and the Hub emulator: a small tmpfs mounted in a
 * private namespace (test/helpers/private-tmpfs.ts) holds HF_HUB_CACHE. What a user meets:
 *  - a download bigger than the disk ends with DISK_FULL (exit 9), one sentence and a hint, no
 *    stack trace, and a cache @huggingface/hub reads without warnings with no half-written blob
 *    under a final name; after space is freed the same command resumes from the journaled bytes;
 *  - a disk that is already full (bytes, or inodes) when only the tree cache, snapshot pointers
 *    and refs are left to write: still DISK_FULL, never an internal error;
 *  - cache-models' per-volume preflight refuses up front from the real statfs of the tmpfs;
 *  - bootstrap on a full disk leaves config/hardware_cache.json as it was.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { scanCacheDir } from '@huggingface/hub';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../src/emulator/index.js';
import { ensureBuilt } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';
import { assertUnshareWorks, cleanupTmpfsRun, runInTmpfs, type TmpfsRun } from '../helpers/private-tmpfs.js';

const MiB = 1024 * 1024;
const REPO = 'acme/big';
const REPO_DIR = 'models--acme--big';
const MODEL_SIZE = 12 * MiB;
const SMALL_SIZE = 300_000;
const MARKER = '/mlcache-test-marker';

const hub = useEmulator(() => ({
  repos: [
    {
      id: REPO,
      revisions: [
        {
          refs: ['main'],
          files: [
            { path: 'config.json', content: '{"hidden_size": 8}\n' },
            { path: 'tokenizer.json', content: '{"vocab": {"a": 1}}\n'.repeat(200) },
            { path: 'small.safetensors', generated: { size: SMALL_SIZE, seed: 1 } },
            { path: 'model.safetensors', generated: { size: MODEL_SIZE, seed: 2 } },
          ],
        },
      ],
    },
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

/** The scenario's script in a fresh tmpfs, with HF_HUB_CACHE on it; the run is cleaned up after the test. */
async function scenario(size: string, script: string, mountOptions?: string): Promise<TmpfsRun> {
  const run = await runInTmpfs({
    size,
    ...(mountOptions ? { mountOptions } : {}),
    script: `export HF_HUB_CACHE="$MNT/hub" HOME="$OUT/home"\nmkdir -p "$HOME"\n${script}`,
    env: { HF_ENDPOINT: hub().url, MARKER_URL: `${hub().url}${MARKER}` },
  });
  onCleanup.push(() => cleanupTmpfsRun(run));
  if (run.exitCode !== 0) throw new Error(`the scenario script failed (${run.exitCode}): ${run.stderr}`);
  return run;
}
const onCleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const clean of onCleanup.splice(0)) await clean();
});

interface Step {
  exit: number;
  stdout: string;
  stderr: string;
}
async function step(run: TmpfsRun, name: string): Promise<Step> {
  const read = (ext: string) => readFile(path.join(run.out, `${name}.${ext}`), 'utf8');
  return { exit: Number((await read('exit')).trim()), stdout: (await read('stdout')).trim(), stderr: await read('stderr') };
}

/** One readable failure: `error: <one sentence>` and `hint: <what to do>`, no stack, no internal error. */
function expectCleanFailure(result: Step, exit: number, message: RegExp, hint: RegExp): void {
  expect(result.exit, result.stderr).toBe(exit);
  const lines = result.stderr.split('\n');
  const errors = lines.filter((l) => l.startsWith('error: '));
  expect(errors, result.stderr).toHaveLength(1);
  expect(errors[0]).toMatch(message);
  expect(errors[0]).toMatch(/\.$/);
  const hints = lines.filter((l) => l.startsWith('hint: '));
  expect(hints, result.stderr).toHaveLength(1);
  expect(hints[0]).toMatch(hint);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toMatch(/internal error|bug in mlcache/i);
}

const digestOf = (file: string) => hub().digestOf(REPO, file, 'main');
const ALL_FILES = ['config.json', 'tokenizer.json', 'small.safetensors', 'model.safetensors'];

/** Every blob under a final name hashes to that name (sha256 for LFS, git blob sha1 otherwise). */
async function expectOnlyVerifiedBlobs(blobsDir: string): Promise<{ final: string[]; other: string[] }> {
  const names = await readdir(blobsDir);
  const final = names.filter((n) => /^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(n));
  for (const name of final) {
    const bytes = await readFile(path.join(blobsDir, name));
    const actual =
      name.length === 64
        ? createHash('sha256').update(bytes).digest('hex')
        : createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    expect(actual, `blob ${name}`).toBe(name);
  }
  return { final: final.sort(), other: names.filter((n) => !final.includes(n)).sort() };
}

async function expectScanClean(hubCache: string): Promise<Awaited<ReturnType<typeof scanCacheDir>>> {
  const scan = await scanCacheDir(hubCache);
  expect(scan.warnings.map((w) => w.message)).toEqual([]);
  return scan;
}

/** The emulator's requests after the marker request `name` (the script's `marker name`). */
function requestsAfter(name: string): RecordedRequest[] {
  const requests = hub().stats.requests;
  const at = requests.findIndex((r) => r.url === `${MARKER}/${name}`);
  expect(at, `marker ${name} in the request log`).toBeGreaterThanOrEqual(0);
  return requests.slice(at + 1);
}

describe('a download bigger than the disk', () => {
  it('fails with DISK_FULL, leaves a valid cache, and resumes from the journal once space is freed', async () => {
    // 16 MiB disk, 7 MiB taken by someone else: the 12 MiB model cannot fit. 16 MB/s per
    // connection, so the model takes ~0.5 s to fill the disk and its journal is written meanwhile.
    hub().setFaults({ perConnectionBytesPerSec: 16_000_000 });
    const run = await scenario(
      '16m',
      `
      head -c 7m /dev/zero >"$MNT/filler"
      run first mlcache download ${REPO}
      snap after-failure
      rm "$MNT/filler"
      marker resume
      run second mlcache download ${REPO}
      snap after-resume
      `,
    );

    const first = await step(run, 'first');
    expectCleanFailure(first, 9, /No space left on the device/, /Free some disk space, then run the same command again/);
    expect(first.stdout).toBe('');

    const model = await digestOf('model.safetensors');
    const failedCache = path.join(run.out, 'after-failure', 'hub');
    const blobs = await expectOnlyVerifiedBlobs(path.join(failedCache, REPO_DIR, 'blobs'));
    expect(blobs.final).not.toContain(model.sha256);
    // The model is kept as a partial + journal (nonce names), for the next run.
    expect(blobs.other).toEqual([expect.stringMatching(new RegExp(`^${model.sha256}\\.[0-9a-f]{8}\\.incomplete$`)), expect.stringMatching(/\.mlcache-journal$/)]);
    const journal = JSON.parse(await readFile(path.join(failedCache, REPO_DIR, 'blobs', blobs.other[1]!), 'utf8')) as { completed: Array<[number, number]> };
    expect(journal.completed[0]![0]).toBe(0);
    const journaled = journal.completed.reduce((n, [s, e]) => n + e - s, 0);
    expect(journaled).toBeGreaterThan(0);
    expect(journaled).toBeLessThan(MODEL_SIZE);
    // No ref to a half-built snapshot; what the snapshot holds points at complete blobs.
    expect(existsSync(path.join(failedCache, REPO_DIR, 'refs', 'main'))).toBe(false);
    const failedScan = await expectScanClean(failedCache);
    for (const revision of failedScan.repos.flatMap((r) => [...r.revisions])) {
      for (const file of revision.files) expect(blobs.final).toContain(path.basename(file.blob.path));
    }

    const second = await step(run, 'second');
    expect(second.exit, second.stderr).toBe(0);
    const commit = hub().commitOf(REPO, 'main');
    expect(second.stdout).toBe(path.join(path.dirname(run.out), 'mnt', 'hub', REPO_DIR, 'snapshots', commit));

    // Resumed: the journaled bytes are not fetched again, finished files not at all.
    const after = requestsAfter('resume');
    const content = after.filter((r) => r.bytesSent > 0 && !r.url.startsWith('/api/'));
    expect(content.map((r) => r.headers.range)).toEqual([`bytes=${journaled}-${MODEL_SIZE - 1}`]);
    expect(content[0]!.bytesSent).toBe(MODEL_SIZE - journaled);

    const doneCache = path.join(run.out, 'after-resume', 'hub');
    const done = await expectOnlyVerifiedBlobs(path.join(doneCache, REPO_DIR, 'blobs'));
    expect(done.other).toEqual([]);
    expect(done.final).toEqual((await Promise.all(ALL_FILES.map(digestOf))).map((d) => d.etag).sort());
    const scan = await expectScanClean(doneCache);
    const revision = [...scan.repos[0]!.revisions][0]!;
    expect(revision.refs).toEqual(['main']);
    expect(revision.files.map((f) => f.path.split('/').pop()).sort()).toEqual([...ALL_FILES].sort());
  });
});
