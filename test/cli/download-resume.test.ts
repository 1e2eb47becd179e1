/**
 * Resume across processes, with the real binary: a download killed with SIGKILL mid-file, and one
 * stopped with Ctrl-C (SIGINT), both continue on the next run and re-transfer less than two ranges.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseJournal } from '../../src/download/journal.js';
import { runCli } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';

const MiB = 1024 * 1024;
const SIZE = 96 * MiB; // six 16 MiB ranges at the engine's defaults
const CHUNK = 16 * MiB;

const hub = useEmulator(() => ({
  repos: [{ id: 'acme/big', revisions: [{ refs: ['main'], files: [{ path: 'model.safetensors', generated: { size: SIZE, seed: 42 } }] }] }],
}));

let root: string;
let cacheDir: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-resume-'));
  cacheDir = path.join(root, 'hub');
  hub().setFaults({});
  hub().resetStats();
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function start(args: string[] = []) {
  return runCli(['download', 'acme/big', '--endpoint', hub().url, '--cache-dir', cacheDir, '--connections', '4', ...args], {
    env: { HOME: root, PATH: process.env.PATH ?? '', NO_COLOR: '1' },
  });
}

const blobsDir = () => path.join(cacheDir, 'models--acme--big', 'blobs');

/** Bytes the journal records as complete (0 while there is none). */
async function journaledBytes(): Promise<number> {
  const names = await readdir(blobsDir()).catch(() => [] as string[]);
  const journal = names.find((n) => n.endsWith('.mlcache-journal'));
  if (!journal) return 0;
  const parsed = await parseJournal(await readFile(path.join(blobsDir(), journal), 'utf8').catch(() => ''));
  return parsed.ok ? parsed.journal.completed.reduce((sum, [s, e]) => sum + (e - s), 0) : 0; // 0: caught mid-rename
}

async function waitForProgress(minBytes: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await journaledBytes()) < minBytes) {
    if (Date.now() > deadline) throw new Error(`no journal progress to ${minBytes} bytes within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function expectCompleteBlob(): Promise<void> {
  const digest = await hub().digestOf('acme/big', 'model.safetensors', 'main');
  const names = await readdir(blobsDir());
  expect(names).toEqual([digest.sha256]);
}

describe('resume across runs of the CLI', () => {
  it('after SIGKILL mid-file, the next run re-transfers less than two ranges beyond what was missing', async () => {
    // ~24 MB/s in all: slow enough to kill mid-file, fast enough for a test.
    hub().setFaults({ perConnectionBytesPerSec: 6_000_000 });
    const child = start();
    await waitForProgress(SIZE * 0.3);
    child.kill('SIGKILL');
    const killed = await child;
    expect(killed.signal).toBe('SIGKILL');
    const done = await journaledBytes();
    expect(done).toBeGreaterThan(SIZE * 0.25);
    expect(done).toBeLessThan(SIZE);

    hub().setFaults({});
    hub().resetStats();
    const second = await start();
    expect(second.exitCode).toBe(0);
    const served = hub().stats.bytesServed;
    expect(served).toBeGreaterThanOrEqual(SIZE - done);
    expect(served).toBeLessThan(SIZE - done + 2 * CHUNK);
    await expectCompleteBlob();
  }, 60_000);

  it('Ctrl-C stops within a second, exits 130, says how to resume, and the next run resumes', async () => {
    hub().setFaults({ perConnectionBytesPerSec: 6_000_000 });
    const child = start();
    await waitForProgress(SIZE * 0.2);
    const sentAt = Date.now();
    child.kill('SIGINT');
    const stopped = await child;
    expect(Date.now() - sentAt).toBeLessThan(1_500);
    expect(stopped.exitCode).toBe(130);
    expect(stopped.stderr).toMatch(/again to resume/i);
    const done = await journaledBytes();
    expect(done).toBeGreaterThan(0);

    hub().setFaults({});
    hub().resetStats();
    const second = await start();
    expect(second.exitCode).toBe(0);
    expect(hub().stats.bytesServed).toBeLessThan(SIZE - done + 2 * CHUNK);
    await expectCompleteBlob();
  }, 60_000);

  it('two processes on one cache end with one correct cache and the blob served once', async () => {
    hub().setFaults({ perConnectionBytesPerSec: 20_000_000 });
    const [a, b] = await Promise.all([start(['--quiet']), start(['--quiet'])]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    expect(a.stdout).toBe(b.stdout);
    await expectCompleteBlob();
    // The second process waited for the first one's lock instead of downloading too.
    expect(hub().stats.bytesServed).toBeLessThan(SIZE + 2 * CHUNK);
    const pointer = path.join(a.stdout, 'model.safetensors');
    expect((await readFile(pointer)).length).toBe(SIZE);
  }, 60_000);

  it('Ctrl-C while still planning (the Hub has not answered) exits 130 with the resume hint, not an internal error', async () => {
    // A server that accepts connections and never answers: the CLI is stuck resolving the revision.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const child = runCli(['download', 'acme/big', '--endpoint', `http://127.0.0.1:${port}`, '--cache-dir', cacheDir], {
        env: { HOME: root, PATH: process.env.PATH ?? '', NO_COLOR: '1' },
      });
      await new Promise((r) => setTimeout(r, 800));
      child.kill('SIGINT');
      const stopped = await child;
      expect(stopped.exitCode).toBe(130);
      expect(stopped.stderr).toMatch(/^error: Interrupted/m);
      expect(stopped.stderr).toMatch(/again to resume/);
      expect(stopped.stderr).not.toContain('internal error');
    } finally {
      silent.close();
    }
  });
});
