/**
 * When the disk fills mid-file, the bytes already in the partial are kept for the next run even
 * though the journal cannot get a new temp file: with no journal yet the partial shrinks to its
 * contiguous prefix and records that; with one, the journal is rewritten in place. Each scenario is
 * one script in a private tmpfs (test/helpers/private-tmpfs.ts).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';
import { assertUnshareWorks, cleanupTmpfsRun, runInTmpfs, type TmpfsRun } from '../helpers/private-tmpfs.js';

const MiB = 1024 * 1024;
const SIZE = 12 * MiB;
const hub = useEmulator(() => ({
  repos: [{ id: 'acme/big', revisions: [{ refs: ['main'], files: [{ path: 'model.safetensors', generated: { size: SIZE, seed: 2 } }] }] }],
}));
beforeAll(() => {
  assertUnshareWorks();
  ensureBuilt();
});
let run: TmpfsRun | undefined;
afterEach(async () => {
  if (run) await cleanupTmpfsRun(run);
});

describe('resume after a full disk', () => {
  it('does not fetch again the bytes that were on disk when the disk filled up', async () => {
    hub().setFaults({});
    hub().resetStats();
    run = await runInTmpfs({
      size: '16m',
      env: { HF_ENDPOINT: hub().url, MARKER_URL: `${hub().url}/marker` },
      script: `export HF_HUB_CACHE="$MNT/hub" HOME="$OUT"
        head -c 13m /dev/zero >"$MNT/filler"
        run first mlcache download acme/big
        snap failed
        rm "$MNT/filler"
        marker resume
        run second mlcache download acme/big`,
    });
    expect(run.exitCode).toBe(0);
    expect((await readFile(path.join(run.out, 'first.exit'), 'utf8')).trim()).toBe('9');
    expect((await readFile(path.join(run.out, 'second.exit'), 'utf8')).trim()).toBe('0');
    // The 3 MiB left free were filled by the partial (less a few pages of small cache files).
    const onDisk = 3 * MiB - 64 * 1024;
    const requests = hub().stats.requests;
    const after = requests.slice(requests.findIndex((r) => r.url === '/marker/resume') + 1);
    const served = after.filter((r) => !r.url.startsWith('/api/')).reduce((n, r) => n + r.bytesSent, 0);
    // One write batch (1 MiB) of slack for the bytes of the write that failed.
    expect(served).toBeLessThanOrEqual(SIZE - onDisk + MiB);
  });

  it('with a journal already written, rewrites it in place and resumes from the last byte on disk', async () => {
    // 4 MB/s: the 250 ms journal timer writes a journal long before the disk fills at ~3 MiB.
    hub().setFaults({ perConnectionBytesPerSec: 4_000_000 });
    hub().resetStats();
    run = await runInTmpfs({
      size: '16m',
      env: { HF_ENDPOINT: hub().url, MARKER_URL: `${hub().url}/marker` },
      script: `export HF_HUB_CACHE="$MNT/hub" HOME="$OUT"
        head -c 13m /dev/zero >"$MNT/filler"
        run first mlcache download acme/big
        rm "$MNT/filler"
        marker resume
        run second mlcache download acme/big`,
    });
    hub().setFaults({});
    expect(run.exitCode).toBe(0);
    expect((await readFile(path.join(run.out, 'first.exit'), 'utf8')).trim()).toBe('9');
    expect((await readFile(path.join(run.out, 'second.exit'), 'utf8')).trim()).toBe('0');
    expect(await readFile(path.join(run.out, 'first.stderr'), 'utf8')).not.toMatch(/Could not save the resume journal/);
    const requests = hub().stats.requests;
    const after = requests.slice(requests.findIndex((r) => r.url === '/marker/resume') + 1);
    const served = after.filter((r) => !r.url.startsWith('/api/')).reduce((n, r) => n + r.bytesSent, 0);
    expect(served).toBeLessThanOrEqual(SIZE - (3 * MiB - 64 * 1024) + MiB);
  });
});
