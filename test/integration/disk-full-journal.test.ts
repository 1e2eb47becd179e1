/**
 * When the disk fills mid-file, the bytes already in the partial are kept for the next run even
 * though the journal cannot get a new temp file: the journal exists from the partial's creation and
 * gets a record per batch that landed; when an append fails too, it is rewritten in place within
 * its own blocks. Each scenario is one script in a private tmpfs (test/helpers/private-tmpfs.ts).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseJournal } from '../../src/download/journal.js';
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

/** The partial + journal in a snapshot of the disk: every range the journal claims holds the model's bytes. */
async function expectJournalTruthful(snapshot: string): Promise<void> {
  const blobs = path.join(snapshot, 'hub', 'models--acme--big', 'blobs');
  const names = await readdir(blobs);
  const journalName = names.find((n) => n.endsWith('.mlcache-journal'));
  expect(journalName, `a journal in ${names.join(', ')}`).toBeDefined();
  const partial = await readFile(path.join(blobs, journalName!.replace(/\.mlcache-journal$/, '.incomplete')));
  const parsed = await parseJournal(await readFile(path.join(blobs, journalName!), 'utf8'));
  if (!parsed.ok) throw new Error(`unreadable journal: ${parsed.reason}`);
  const journal = parsed.journal;
  const truth = await hub().contentOf('acme/big', 'model.safetensors');
  expect(journal.completed.length).toBeGreaterThan(0);
  for (const [start, end] of journal.completed) expect(partial.subarray(start, end).equals(truth.subarray(start, end)), `bytes ${start}-${end}`).toBe(true);
}

/**
 * A 16 MiB disk with 13 MiB taken: the first download of the 12 MiB model fills it (exit 9), the
 * same again while it is still full, the filler goes, the third completes. Returns the first run's stderr and the content bytes served
 * to the second.
 */
async function fillThenResume(perConnectionBytesPerSec?: number): Promise<{ firstStderr: string; served: number }> {
  hub().setFaults(perConnectionBytesPerSec ? { perConnectionBytesPerSec } : {});
  hub().resetStats();
  run = await runInTmpfs({
    size: '16m',
    // Three CLI runs; generous for a loaded 2-core CI machine (nothing here waits on a timer).
    timeoutMs: 50_000,
    env: { HF_ENDPOINT: hub().url, MARKER_URL: `${hub().url}/marker` },
    script: `export HF_HUB_CACHE="$MNT/hub" HOME="$OUT"
      head -c 13m /dev/zero >"$MNT/filler"
      run first mlcache download --skip-space-check acme/big
      snap first
      run again mlcache download --skip-space-check acme/big
      snap again
      rm "$MNT/filler"
      marker resume
      run second mlcache download --skip-space-check acme/big`,
  });
  hub().setFaults({});
  expect(run.exitCode).toBe(0);
  expect((await readFile(path.join(run.out, 'first.exit'), 'utf8')).trim()).toBe('9');
  expect((await readFile(path.join(run.out, 'again.exit'), 'utf8')).trim()).toBe('9');
  expect((await readFile(path.join(run.out, 'second.exit'), 'utf8')).trim()).toBe('0');
  // Each failed run (the second one writes into pages the first left allocated, then fills up
  // again) leaves a journal that claims only bytes that are really there.
  await expectJournalTruthful(path.join(run.out, 'first'));
  await expectJournalTruthful(path.join(run.out, 'again'));
  const requests = hub().stats.requests;
  const after = requests.slice(requests.findIndex((r) => r.url === '/marker/resume') + 1);
  const content = after.filter((r) => r.bytesSent > 0 && !r.url.startsWith('/api/'));
  // One ranged request: a journal claiming wrong bytes would fail the hash and fetch it all again.
  expect(content.map((r) => r.headers.range)).toEqual([expect.stringMatching(/^bytes=[1-9]\d*-/)]);
  const served = content.reduce((n, r) => n + r.bytesSent, 0);
  return { firstStderr: await readFile(path.join(run.out, 'first.stderr'), 'utf8'), served };
}

// The 3 MiB left free are filled by the partial (less a few pages of small cache files); one
// write batch of slack for the bytes of the write that failed.
const MOST_SERVED_ON_RESUME = SIZE - (3 * MiB - 64 * 1024) + MiB;

describe('resume after a full disk', () => {
  it('filling at full speed: keeps what landed and does not fetch it again', async () => {
    const { served } = await fillThenResume();
    expect(served).toBeLessThanOrEqual(MOST_SERVED_ON_RESUME);
  }, 60_000);

  it('filling slowly: many records appended before the disk fills, and resumes from the last byte on disk', async () => {
    // 4 MB/s: hundreds of records are appended before the disk fills at ~3 MiB.
    const { firstStderr, served } = await fillThenResume(4_000_000);
    expect(firstStderr).not.toMatch(/Could not save the resume journal/);
    expect(served).toBeLessThanOrEqual(MOST_SERVED_ON_RESUME);
  }, 60_000);
});
