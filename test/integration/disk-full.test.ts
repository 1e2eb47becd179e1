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
import { parseJournal } from '../../src/download/journal.js';
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
    {
      id: 'acme/shards',
      revisions: [{ refs: ['main'], files: [1, 2, 3, 4].map((i) => ({ path: `shard-${i}.safetensors`, generated: { size: 4 * MiB, seed: 10 + i } })) }],
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
      run first mlcache download --skip-space-check ${REPO}
      snap after-failure
      run still-full mlcache download --skip-space-check ${REPO}
      rm "$MNT/filler"
      marker resume
      run second mlcache download --skip-space-check ${REPO}
      snap after-resume
      `,
    );

    const first = await step(run, 'first');
    expectCleanFailure(first, 9, /No space left to write /, /Free some disk space, then run the same command again/);
    expect(first.stdout).toBe('');

    const model = await digestOf('model.safetensors');
    const failedCache = path.join(run.out, 'after-failure', 'hub');
    const blobs = await expectOnlyVerifiedBlobs(path.join(failedCache, REPO_DIR, 'blobs'));
    expect(blobs.final).not.toContain(model.sha256);
    // The model is kept as a partial + journal (nonce names), for the next run.
    expect(blobs.other).toEqual([expect.stringMatching(new RegExp(`^${model.sha256}\\.[0-9a-f]{8}\\.incomplete$`)), expect.stringMatching(/\.mlcache-journal$/)]);
    const parsed = await parseJournal(await readFile(path.join(failedCache, REPO_DIR, 'blobs', blobs.other[1]!), 'utf8'));
    if (!parsed.ok) throw new Error(`unreadable journal: ${parsed.reason}`);
    const journal = parsed.journal;
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

    // Running again before freeing space fails the same way and keeps the partial and journal.
    expectCleanFailure(await step(run, 'still-full'), 9, /No space left/, /Free .*space.*run the same command again/);

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

describe('a disk that is already full', () => {
  const HINT = /Free disk space .*then run the same command again/;

  it('fresh cache: DISK_FULL before a byte is downloaded, and a cache that scans cleanly', async () => {
    const run = await scenario('4m', 'fill\nrun full mlcache download --skip-space-check acme/big\nsnap after');
    expectCleanFailure(await step(run, 'full'), 9, /^error: No space left to write .*trees\/[0-9a-f]{40}\.json\.$/, HINT);
    expect(hub().stats.bytesServed).toBe(0);
    const cache = path.join(run.out, 'after', 'hub');
    expect((await expectOnlyVerifiedBlobs(path.join(cache, REPO_DIR, 'blobs'))).final).toEqual([]);
    await expectScanClean(cache);
  });

  // Every blob is in the cache; only the snapshot pointers and the ref are left to write.
  const rebuildLinks = (fillCommand: string) => `
    run complete mlcache download --skip-space-check ${REPO}
    rm -r "$MNT/hub/${REPO_DIR}/refs/main" "$MNT/hub/${REPO_DIR}/snapshots/"*
    ${fillCommand}
    marker full
    run full mlcache download --skip-space-check ${REPO}
    snap after
  `;

  async function expectLinksRefused(run: TmpfsRun, message: RegExp): Promise<void> {
    expect((await step(run, 'complete')).exit).toBe(0);
    expectCleanFailure(await step(run, 'full'), 9, message, HINT);
    expect(requestsAfter('full').reduce((n, r) => n + (r.url.startsWith('/api/') ? 0 : r.bytesSent), 0)).toBe(0);
    const cache = path.join(run.out, 'after', 'hub');
    const blobs = await expectOnlyVerifiedBlobs(path.join(cache, REPO_DIR, 'blobs'));
    expect(blobs.final).toHaveLength(ALL_FILES.length);
    expect(blobs.other).toEqual([]);
    expect(existsSync(path.join(cache, REPO_DIR, 'refs', 'main'))).toBe(false);
    await expectScanClean(cache);
  }

  it('no bytes left for the ref: DISK_FULL naming the ref', async () => {
    const run = await scenario('16m', rebuildLinks('fill'));
    await expectLinksRefused(run, /No space left to write .*refs\/main\.$/);
  });

  const fillInodes = 'i=0; while touch "$MNT/inode-$i" 2>/dev/null; do i=$((i+1)); done';

  it('no inodes left for the snapshot folder and pointers: DISK_FULL', async () => {
    const run = await scenario('16m', rebuildLinks(`fill; ${fillInodes}`), 'nr_inodes=64');
    await expectLinksRefused(run, /No space left to create /);
  });

  it('one inode left on a fresh cache: DISK_FULL, not a misleading ENOENT, and no repo folder without snapshots/', async () => {
    // The last inode goes to the repo folder, snapshots/ cannot be made. Node's recursive mkdir
    // reports that ENOSPC as ENOENT (nodejs/node#42808).
    const run = await scenario(
      '16m',
      `mkdir "$MNT/hub"; touch "$MNT/hub/CACHEDIR.TAG"; ${fillInodes}; rm "$MNT/inode-0"\nrun full mlcache download --skip-space-check ${REPO}\nsnap after`,
      'nr_inodes=64',
    );
    expectCleanFailure(await step(run, 'full'), 9, /^error: No space left to create .*\/snapshots\.$/, HINT);
    expect(await readdir(path.join(run.out, 'after', 'hub'))).toEqual(['CACHEDIR.TAG']);
    await expectScanClean(path.join(run.out, 'after', 'hub'));
  });
});

describe('cache-models preflight on a small disk', () => {
  it('refuses before any byte is downloaded, from the real free space of the tmpfs', async () => {
    const run = await scenario('16m', `marker start\nrun plan mlcache cache-models --model ${REPO} --yes\nsnap after`);
    const result = await step(run, 'plan');
    expect(result.exit, result.stderr).toBe(9);
    const mnt = path.join(path.dirname(run.out), 'mnt');
    // 12.6 MB needed + margin (5% + 1 GiB) against the 16 MiB the tmpfs really has free.
    expect(result.stderr).toMatch(/^error: Not enough disk space; nothing was downloaded\.$/m);
    expect(result.stderr).toContain(`16.8 MB free on ${mnt}`);
    expect(result.stderr).toMatch(/^hint: Free some space, .*acme\/big/m);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(requestsAfter('start').reduce((n, r) => n + (r.url.startsWith('/api/') ? 0 : r.bytesSent), 0)).toBe(0);
    expect(await readFile(path.join(run.out, 'after.list'), 'utf8')).toBe('');
  });
});

describe('several files failing on one full disk', () => {
  it('is one sentence naming the files, with DISK_FULL deciding the exit code', async () => {
    // Four 4 MiB shards on a 6 MiB disk at the same pace: all four run out of space.
    hub().setFaults({ perConnectionBytesPerSec: 8_000_000 });
    const run = await scenario('6m', `run full mlcache download --skip-space-check acme/shards --connections 4`);
    const result = await step(run, 'full');
    expectCleanFailure(result, 9, /^error: \d files of acme\/shards failed: No space left to write .*\(shard-\d\.safetensors(, shard-\d\.safetensors)+\)\.$/, /Free some disk space/);
  });
});

describe('bootstrap on a full disk', () => {
  it('fails with DISK_FULL and leaves config/hardware_cache.json as it was (or absent), with no temp file', async () => {
    const run = await scenario(
      '4m',
      `
      run first mlcache bootstrap --root "$MNT/project" --skip-cache
      cp "$MNT/project/config/hardware_cache.json" "$OUT/before.json"
      fill
      run again mlcache bootstrap --root "$MNT/project" --skip-cache
      run fresh mlcache bootstrap --root "$MNT/other" --skip-cache
      snap after
      `,
    );
    expect((await step(run, 'first')).exit).toBe(0);
    const before = await readFile(path.join(run.out, 'before.json'), 'utf8');
    expectCleanFailure(await step(run, 'again'), 9, /No space left to write .*hardware_cache\.json\.$/, /Free disk space/);
    expectCleanFailure(await step(run, 'fresh'), 9, /No space left to write .*hardware_cache\.json\.$/, /Free disk space/);
    const after = path.join(run.out, 'after');
    expect(await readFile(path.join(after, 'project', 'config', 'hardware_cache.json'), 'utf8')).toBe(before);
    expect(await readdir(path.join(after, 'project', 'config'))).toEqual(['hardware_cache.json']);
    expect(existsSync(path.join(after, 'other', 'config', 'hardware_cache.json'))).toBe(false);
  });
});
