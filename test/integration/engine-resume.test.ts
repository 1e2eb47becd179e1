import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseJournal } from '../../src/download/journal.js';
import { MlcacheError } from '../../src/errors.js';
import { createTransferEngine, type TransferEngineOptions, type TransferItem } from '../../src/download/index.js';
import { useEmulator } from '../helpers/emulator.js';
import { acquireExclusiveLock } from '../helpers/exclusive-lock.js';
import { collectEvents, itemFor, tempDir, testAgent } from '../helpers/transfer-items.js';

const REPO = 'org/engine-resume';
const MB = 1024 * 1024;
const FILE = 'weights.safetensors';
const SIZE = 8 * MB + 5;
const CHUNK = MB;

const emulator = useEmulator({
  repos: [{ id: REPO, revisions: [{ refs: ['main'], files: [{ path: FILE, generated: { size: SIZE } }, { path: 'small.txt', content: 'hello\n' }] }] }],
});

function engineFor(extra: Partial<TransferEngineOptions> = {}) {
  const ev = collectEvents();
  const engine = createTransferEngine({
    dispatcher: testAgent(),
    chunkThreshold: MB,
    chunkSize: CHUNK,
    connections: 4,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    onEvent: ev.onEvent,
    ...extra,
  });
  return { engine, ev };
}

async function item(destination: string, extra: { lockPath?: string } = {}): Promise<TransferItem> {
  return itemFor(emulator(), { repo: REPO, file: FILE, destination, dispatcher: testAgent(), ...extra });
}

const partialsIn = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.incomplete') || n.endsWith('.mlcache-journal')).sort();

describe('transfer engine: resume, journals and concurrent processes', () => {
  beforeEach(() => {
    emulator().resetStats();
    emulator().setFaults({ perConnectionBytesPerSec: MB });
  });

  it('abort keeps partial + journal; the next engine re-transfers less than two chunks', async () => {
    const dir = await tempDir();
    const destination = path.join(dir, FILE);
    const controller = new AbortController();
    const first = engineFor({ signal: controller.signal });
    const pending = first.engine.download(await item(destination));
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const last = first.ev.of('file-progress').at(-1);
        if (last && last.bytesDone >= 0.4 * SIZE) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    const abortedAt = Date.now();
    controller.abort();
    const error = (await pending.catch((e: unknown) => e)) as MlcacheError;
    expect(Date.now() - abortedAt).toBeLessThan(1000);
    expect(error).toBeInstanceOf(MlcacheError);
    expect(error.code).toBe('INTERRUPTED');
    expect(error.hint).toMatch(/resume/);
    const leftovers = await partialsIn(dir);
    expect(leftovers).toHaveLength(2);
    expect(leftovers.every((n) => /\.[0-9a-f]{8}\.(incomplete|mlcache-journal)$/.test(n))).toBe(true);
    expect(leftovers.some((n) => n === `${FILE}.incomplete`)).toBe(false);
    const servedFirst = emulator().stats.bytesServed;

    emulator().resetStats();
    const second = engineFor();
    const result = await second.engine.download(await item(destination));
    expect(result.bytesResumed).toBeGreaterThan(0.3 * SIZE);
    expect(servedFirst + emulator().stats.bytesServed - SIZE).toBeLessThan(2 * CHUNK);
    expect((await readFile(destination)).equals(await emulator().contentOf(REPO, FILE))).toBe(true);
    expect(await partialsIn(dir)).toEqual([]);
    expect(second.ev.of('file-started')[0]!.resumedBytes).toBe(result.bytesResumed);
  });

  it('a later download in the same run resumes the partial an earlier failed attempt kept', async () => {
    const dir = await tempDir();
    const destination = path.join(dir, FILE);
    // The engine lists a destination folder once per run; the failed attempt below writes its
    // journal after that listing, and the second download must still find it.
    emulator().setFaults({ perConnectionBytesPerSec: MB, rules: [{ match: { origin: 'cdn' }, action: { kind: 'drop', afterBytes: MB / 2 }, times: 1 }] });
    const { engine } = engineFor({ retry: { maxRetries: 0, baseDelayMs: 5, maxDelayMs: 20 } });
    const first = await engine.download(await item(destination)).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(MlcacheError);
    expect(await partialsIn(dir)).toHaveLength(2);
    emulator().setFaults({ perConnectionBytesPerSec: MB });
    const second = await engine.download(await item(destination));
    expect(second.bytesResumed).toBeGreaterThan(0);
    expect((await readFile(destination)).equals(await emulator().contentOf(REPO, FILE))).toBe(true);
    expect(await partialsIn(dir)).toEqual([]);
    await engine.close();
  });

  it('a file fetched in one request is not preallocated, its journal never claims past its end, and it resumes', async () => {
    const dir = await tempDir();
    const destination = path.join(dir, FILE);
    const controller = new AbortController();
    emulator().setFaults({ perConnectionBytesPerSec: 4 * MB });
    const first = engineFor({ signal: controller.signal, chunkThreshold: 64 * MB });
    const pending = first.engine.download(await item(destination)).catch((e: unknown) => e);
    for (;;) {
      await new Promise((r) => setTimeout(r, 20));
      const last = first.ev.of('file-progress').at(-1);
      if (last && last.bytesDone >= 0.4 * SIZE) break;
    }
    controller.abort();
    expect(await pending).toMatchObject({ code: 'INTERRUPTED' });
    expect(first.ev.of('file-started')[0]!.chunks).toBe(1);
    const partial = (await partialsIn(dir)).find((n) => n.endsWith('.incomplete'))!;
    const partialSize = (await stat(path.join(dir, partial))).size;
    const parsed = await parseJournal(await readFile(path.join(dir, partial.replace(/incomplete$/, 'mlcache-journal')), 'utf8'));
    if (!parsed.ok) throw new Error(parsed.reason);
    // Filled in order from 0: exactly what is recorded is on disk, nothing sparse past it.
    expect(parsed.journal.completed).toEqual([[0, partialSize]]);
    expect(partialSize).toBeGreaterThan(0.3 * SIZE);
    expect(partialSize).toBeLessThan(SIZE);
    const servedFirst = emulator().stats.bytesServed;

    emulator().resetStats();
    const second = engineFor({ chunkThreshold: 64 * MB });
    const result = await second.engine.download(await item(destination));
    expect(result.bytesResumed).toBeGreaterThan(0.3 * SIZE);
    expect(second.ev.of('warning')).toEqual([]);
    expect(servedFirst + emulator().stats.bytesServed - SIZE).toBeLessThan(2 * CHUNK);
    expect((await readFile(destination)).equals(await emulator().contentOf(REPO, FILE))).toBe(true);
  });

  it('resumes from the state a killed process leaves (journal + partial copied mid-flight)', async () => {
    const dir = await tempDir();
    const snapshotDir = path.join(dir, 'snap');
    await mkdir(snapshotDir);
    const destination = path.join(dir, FILE);
    const controller = new AbortController();
    const first = engineFor({ signal: controller.signal });
    const pending = first.engine.download(await item(destination)).catch(() => undefined);
    let servedAtCopy = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 20));
      const last = first.ev.of('file-progress').at(-1);
      if (last && last.bytesDone >= 0.5 * SIZE) break;
    }
    // What kill -9 leaves: the journal as last renamed, then the data file (which holds at least
    // what the journal records, since data is synced before each journal write).
    const names = await partialsIn(dir);
    const journal = names.find((n) => n.endsWith('.mlcache-journal'))!;
    const partial = names.find((n) => n.endsWith('.incomplete'))!;
    servedAtCopy = emulator().stats.bytesServed;
    await copyFile(path.join(dir, journal), path.join(snapshotDir, journal));
    await copyFile(path.join(dir, partial), path.join(snapshotDir, partial));
    controller.abort();
    await pending;
    for (const n of await partialsIn(dir)) await rm(path.join(dir, n));
    await copyFile(path.join(snapshotDir, journal), path.join(dir, journal));
    await copyFile(path.join(snapshotDir, partial), path.join(dir, partial));

    emulator().resetStats();
    const second = engineFor();
    const result = await second.engine.download(await item(destination));
    expect(result.bytesResumed).toBeGreaterThan(0);
    expect(servedAtCopy + emulator().stats.bytesServed - SIZE).toBeLessThan(2 * CHUNK);
    expect((await readFile(destination)).equals(await emulator().contentOf(REPO, FILE))).toBe(true);
  });

  it('discards a corrupt journal, or one for another digest, with a warning and starts over', async () => {
    emulator().setFaults({});
    const dir = await tempDir();
    const destination = path.join(dir, FILE);
    await writeFile(`${destination}.0badc0de.mlcache-journal`, '{"format":"mlcache-journal", truncated');
    await writeFile(`${destination}.0badc0de.incomplete`, Buffer.alloc(SIZE, 7));
    const other = { format: 'mlcache-journal', version: 1, size: SIZE, digest: { algorithm: 'sha256', hex: 'a'.repeat(64) }, chunkSize: CHUNK, completed: [[0, SIZE]] };
    await writeFile(`${destination}.12345678.mlcache-journal`, JSON.stringify(other));
    await writeFile(`${destination}.12345678.incomplete`, Buffer.alloc(SIZE, 9));
    const { engine, ev } = engineFor();
    const result = await engine.download(await item(destination));
    expect(result.bytesResumed).toBe(0);
    expect(ev.of('warning')).toHaveLength(2);
    expect(ev.of('warning').map((w) => w.message).join('\n')).toMatch(/not valid JSON[\s\S]*different sha256|different sha256[\s\S]*not valid JSON/);
    expect((await readFile(destination)).equals(await emulator().contentOf(REPO, FILE))).toBe(true);
    expect(await partialsIn(dir)).toEqual([]);
  });

  it('a journal whose recorded bytes are wrong on disk is caught by the hash and re-fetched once', async () => {
    emulator().setFaults({});
    const dir = await tempDir();
    const destination = path.join(dir, FILE);
    const it1 = await item(destination);
    const lying = { format: 'mlcache-journal', version: 1, size: SIZE, digest: it1.digest, chunkSize: CHUNK, completed: [[0, 3 * MB]] };
    await writeFile(`${destination}.abcdef01.mlcache-journal`, JSON.stringify(lying));
    await writeFile(`${destination}.abcdef01.incomplete`, Buffer.alloc(SIZE, 1));
    const { engine, ev } = engineFor();
    const result = await engine.download(it1);
    expect(result.bytesResumed).toBe(3 * MB);
    expect(ev.of('warning')[0]!.message).toMatch(/sha256 check/);
    expect((await readFile(destination)).equals(await emulator().contentOf(REPO, FILE))).toBe(true);
  });

  it('two engines on one destination with a lock: one downloads, the other waits and finds it delivered', async () => {
    emulator().setFaults({ perConnectionBytesPerSec: 4 * MB });
    const dir = await tempDir();
    const destination = path.join(dir, FILE);
    const lockPath = path.join(dir, '.locks', 'x.lock');
    const a = engineFor({ acquireLock: acquireExclusiveLock });
    const b = engineFor({ acquireLock: acquireExclusiveLock });
    const [ra, rb] = await Promise.all([a.engine.download(await item(destination, { lockPath })), b.engine.download(await item(destination, { lockPath }))]);
    expect([ra.deliveredByOther, rb.deliveredByOther].sort()).toEqual([false, true]);
    expect(a.ev.of('waiting-for-lock').length + b.ev.of('waiting-for-lock').length).toBe(1);
    expect(emulator().stats.bytesServed).toBe(SIZE);
    expect((await readFile(destination)).equals(await emulator().contentOf(REPO, FILE))).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['.locks', FILE]);
  });

  it('a stale lock left by a dead process does not block', async () => {
    emulator().setFaults({});
    const dir = await tempDir();
    const destination = path.join(dir, FILE);
    const lockPath = path.join(dir, '.locks', 'x.lock');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await mkdir(path.dirname(lockPath), { recursive: true });
    await writeFile(lockPath, String(dead));
    const { engine } = engineFor({ acquireLock: acquireExclusiveLock });
    const result = await engine.download(await item(destination, { lockPath }));
    expect(result.deliveredByOther).toBe(false);
    expect((await readFile(destination)).equals(await emulator().contentOf(REPO, FILE))).toBe(true);
  });

  it('without a lock, two engines still end with one correct file (unique temp names + rename)', async () => {
    emulator().setFaults({ perConnectionBytesPerSec: 8 * MB });
    const dir = await tempDir();
    const destination = path.join(dir, FILE);
    const a = engineFor();
    const b = engineFor();
    await Promise.all([a.engine.download(await item(destination)), b.engine.download(await item(destination))]);
    expect((await readFile(destination)).equals(await emulator().contentOf(REPO, FILE))).toBe(true);
    expect(await partialsIn(dir)).toEqual([]);
  });

  it('an existing destination is delivered without a request', async () => {
    const dir = await tempDir();
    const destination = path.join(dir, FILE);
    await writeFile(destination, 'already here');
    const { engine } = engineFor();
    const result = await engine.download(await item(destination));
    expect(result.deliveredByOther).toBe(true);
    expect(emulator().stats.requests.filter((r) => r.origin === 'cdn')).toHaveLength(0);
  });
});
