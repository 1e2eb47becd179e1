/**
 * `status` and `prune` count what is really on disk, not the apparent size of a preallocated
 * (ftruncate'd, sparse) partial download. Real sparse files in a real temp dir, the real CLI:
 *  - an mlcache partial: 134 MB long, 1 MiB written at offset 0, a journal claiming [0, 1 MiB):
 *    "downloaded so far" is 1 MiB (the journal), the space it takes is its allocated bytes;
 *  - a huggingface_hub-style `<etag>.incomplete` (no journal), 50 MB long with 256 KiB written:
 *    downloaded = allocated bytes;
 *  - `prune` frees (and says it frees) the allocated bytes, never 134 MB.
 */
import { mkdir, mkdtemp, open, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writeJournalFile } from '../../src/download/journal.js';
import { formatBytes } from '../../src/util/bytes.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';

const MiB = 1024 * 1024;
const APPARENT = 134_000_000;
const PY_APPARENT = 50_000_000;
const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const NONCE = '0123abcd';
const REPO_DIR = 'models--acme--sparse';

let dir: string;
let cache: string;
let blobs: string;
beforeAll(() => ensureBuilt());
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-true-sizes-'));
  cache = path.join(dir, 'hub');
  blobs = path.join(cache, REPO_DIR, 'blobs');
  for (const sub of ['blobs', 'snapshots', 'refs']) await mkdir(path.join(cache, REPO_DIR, sub), { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A sparse file `apparent` bytes long with `written` bytes of data at offset 0; returns its allocated bytes. */
async function sparse(file: string, apparent: number, written: number): Promise<number> {
  const handle = await open(file, 'w');
  try {
    await handle.truncate(apparent);
    await handle.write(Buffer.alloc(written, 7), 0, written, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  const st = await stat(file);
  return st.blocks * 512;
}

async function makePartials(): Promise<{ mlcache: number; journal: number; python: number }> {
  const partial = path.join(blobs, `${SHA_A}.${NONCE}.incomplete`);
  const mlcache = await sparse(partial, APPARENT, MiB);
  const journalFile = path.join(blobs, `${SHA_A}.${NONCE}.mlcache-journal`);
  await writeJournalFile(journalFile, { version: 1, size: APPARENT, digest: { algorithm: 'sha256', hex: SHA_A }, chunkSize: 8 * MiB, completed: [[0, MiB]] });
  const python = await sparse(path.join(blobs, `${SHA_B}.incomplete`), PY_APPARENT, 256 * 1024);
  const journal = (await stat(journalFile)).blocks * 512;
  // Stale (an hour old), so prune judges them leftovers of a dead run.
  const old = new Date(Date.now() - 3_600_000);
  for (const name of [`${SHA_A}.${NONCE}.incomplete`, `${SHA_A}.${NONCE}.mlcache-journal`, `${SHA_B}.incomplete`]) await utimes(path.join(blobs, name), old, old);
  return { mlcache, journal, python };
}

const env = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, NO_COLOR: '1' });

describe('true sizes of sparse partial downloads', () => {
  it('the test files really are sparse on this filesystem', async () => {
    const { mlcache, python } = await makePartials();
    // Without this, the assertions below could not tell allocated from apparent sizes.
    expect(mlcache).toBeGreaterThanOrEqual(MiB);
    expect(mlcache).toBeLessThan(8 * MiB);
    expect(python).toBeLessThan(8 * MiB);
  });

  it('status: downloaded so far = the journal (mlcache) or the allocated bytes (no journal); partial total = allocated', async () => {
    const sizes = await makePartials();
    const json = await runCli(['status', '--all-repos', '--json', '--cache-dir', cache], { env: env() });
    expect(json.exitCode, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as {
      repos: Array<{ folder: string; partials: Array<{ name: string; bytesDone: number; bytesTotal?: number; bytesAllocated: number; source: string }> }>;
      totals: { hubCache: { partialBytes: number } };
    };
    const repo = report.repos.find((r) => r.folder === REPO_DIR)!;
    const byName = new Map(repo.partials.map((p) => [p.name, p]));
    expect(byName.get(`${SHA_A}.${NONCE}.incomplete`)).toMatchObject({ bytesDone: MiB, bytesTotal: APPARENT, bytesAllocated: sizes.mlcache, source: 'journal' });
    expect(byName.get(`${SHA_B}.incomplete`)).toMatchObject({ bytesDone: sizes.python, bytesAllocated: sizes.python, source: 'allocated' });
    expect(byName.get(`${SHA_B}.incomplete`)?.bytesTotal).toBeUndefined();
    expect(report.totals.hubCache.partialBytes).toBe(sizes.mlcache + sizes.journal + sizes.python);
    expect(report.totals.hubCache.partialBytes).toBeLessThan(16 * MiB);

    const human = await runCli(['status', '--all-repos', '--cache-dir', cache], { env: env() });
    expect(human.exitCode, human.stderr).toBe(0);
    expect(human.stdout).toContain(`downloading ${SHA_A}.${NONCE}.incomplete: ${formatBytes(MiB)} of ${formatBytes(APPARENT)} (0%)`);
    expect(human.stdout).toContain(`downloading ${SHA_B}.incomplete: ${formatBytes(sizes.python)} so far`);
    expect(human.stdout).toContain(`, ${formatBytes(sizes.mlcache + sizes.journal + sizes.python)} partial`);
    expect(human.stdout).not.toContain('134 MB so far');
    expect(human.stdout).not.toContain(formatBytes(APPARENT + PY_APPARENT));
  }, 60_000);

  it('prune: frees and reports the allocated bytes, not the apparent 134 MB', async () => {
    const sizes = await makePartials();
    const dry = await runCli(['prune', '--dry-run', '--json', '--cache-dir', cache], { env: env() });
    expect(dry.exitCode, dry.stderr).toBe(0);
    const plan = (JSON.parse(dry.stdout) as { plan: { partials: Array<{ path: string; bytes: number }>; bytes: { partials: number } } }).plan;
    const bytesOf = (name: string) => plan.partials.find((p) => path.basename(p.path) === name)?.bytes;
    expect(bytesOf(`${SHA_A}.${NONCE}.incomplete`)).toBe(sizes.mlcache);
    expect(bytesOf(`${SHA_A}.${NONCE}.mlcache-journal`)).toBe(sizes.journal);
    expect(bytesOf(`${SHA_B}.incomplete`)).toBe(sizes.python);
    const total = sizes.mlcache + sizes.journal + sizes.python;
    expect(plan.bytes.partials).toBe(total);

    const real = await runCli(['prune', '--cache-dir', cache], { env: env() });
    expect(real.exitCode, real.stderr).toBe(0);
    expect(real.stdout).toContain(`removed ${path.join(blobs, `${SHA_A}.${NONCE}.incomplete`)} (${formatBytes(sizes.mlcache)})`);
    expect(real.stdout).toMatch(new RegExp(`^Freed ${formatBytes(total).replace('.', '\\.')}\\.$`, 'm'));
    expect(real.stdout).not.toContain('134 MB');
    await expect(stat(path.join(blobs, `${SHA_A}.${NONCE}.incomplete`))).rejects.toThrow();
  }, 60_000);

  it('a partial whose journal is unreadable counts its allocated bytes as downloaded', async () => {
    const allocated = await sparse(path.join(blobs, `${SHA_A}.${NONCE}.incomplete`), APPARENT, 2 * MiB);
    await writeFile(path.join(blobs, `${SHA_A}.${NONCE}.mlcache-journal`), '{not json');
    const json = await runCli(['status', '--all-repos', '--json', '--cache-dir', cache], { env: env() });
    const report = JSON.parse(json.stdout) as { repos: Array<{ partials: Array<{ bytesDone: number; source: string }> }> };
    expect(report.repos[0]!.partials).toEqual([expect.objectContaining({ bytesDone: allocated, source: 'allocated' })]);
    expect(allocated).toBeLessThan(APPARENT / 10);
  });
});
