/**
 * The snapshot pipeline at size: planSnapshot + executeSnapshot against the Hub emulator with
 * thousands of tiny files. The engine is the real one, wrapped to count what it is handed: the
 * feeding is a fixed window (a Promise.all over the plan would hand over every file at once), an
 * abort stops the feeding, blobs shared by paths far apart are fetched once, and failures are
 * counted and reported (the bounded list itself: test/unit/snapshot/failure-log.test.ts).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { download } from '../../src/commands/download.js';
import { createRuntime } from '../../src/runtime/hub-runtime.js';
import { loadSettings } from '../../src/config/settings.js';
import type { TransferEngine, TransferItem, TransferResult } from '../../src/download/types.js';
import type { FixtureFile } from '../../src/emulator/index.js';
import { isMlcacheError } from '../../src/errors.js';
import { FEED_WINDOW, executeSnapshot, planSnapshot } from '../../src/snapshot/index.js';
import { repoPaths } from '../../src/cache/index.js';
import { useEmulator } from '../helpers/emulator.js';

const MANY = 1200;
const manyFiles = (): FixtureFile[] => Array.from({ length: MANY }, (_, i) => ({ path: `d${i % 7}/f${String(i).padStart(5, '0')}.txt`, content: `file ${i}\n` }));
/** 600 paths, 300 blobs: path i and path i+300 hold the same bytes (FEED_WINDOW apart and more). */
const pairedFiles = (): FixtureFile[] => Array.from({ length: 600 }, (_, i) => ({ path: `p${String(i).padStart(4, '0')}.txt`, content: `pair ${i % 300}\n` }));
const FAILING = 40;
const failingFiles = (): FixtureFile[] => Array.from({ length: FAILING }, (_, i) => ({ path: `x${String(i).padStart(5, '0')}.txt`, content: `x ${i}\n` }));

const hub = useEmulator(() => ({
  pageSize: 500,
  repos: [
    { id: 'acme/many', type: 'dataset', revisions: [{ refs: ['main'], files: manyFiles() }] },
    { id: 'acme/paired', revisions: [{ refs: ['main'], files: pairedFiles() }] },
    { id: 'acme/failing', revisions: [{ refs: ['main'], files: failingFiles() }] },
  ],
}));

let root: string;
let cacheDir: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-window-'));
  cacheDir = path.join(root, 'hub');
  hub().resetStats();
  hub().setFaults({});
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const settings = () => loadSettings({ env: { HOME: root }, cwd: root, cacheDir, endpoint: hub().url });

/** The real engine, counting the items handed to it and the most it held at once. */
function counting(engine: TransferEngine, onHandedOver?: (handed: number) => void) {
  const stats = { handed: 0, inFlight: 0, maxInFlight: 0 };
  const wrapped: TransferEngine = {
    get totals() {
      return engine.totals;
    },
    close: () => engine.close(),
    async download(item: TransferItem): Promise<TransferResult> {
      stats.handed++;
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      onHandedOver?.(stats.handed);
      try {
        return await engine.download(item);
      } finally {
        stats.inFlight--;
      }
    },
  };
  return { engine: wrapped, stats };
}

describe('executeSnapshot feeds the engine through a fixed window', () => {
  it(`${MANY} files: at most FEED_WINDOW items handed over at once, every file linked, the same counters`, async () => {
    const runtime = await createRuntime({ settings: settings() });
    try {
      const repo = { id: 'acme/many', type: 'dataset' as const };
      const plan = await planSnapshot({ hub: runtime.hub, cacheDir }, { repo });
      expect(plan.files).toHaveLength(MANY);
      expect(plan.files.every((f) => !f.cached && !f.linked)).toBe(true);
      const { engine, stats } = counting(runtime.engine);
      const result = await executeSnapshot({ hub: runtime.hub, engine, cacheDir }, plan);
      expect(result.failureCount).toBe(0);
      expect(result.filesProcessed).toBe(MANY);
      expect(result.filesFetched).toBe(MANY);
      expect(result.bytesFetched).toBe(plan.bytesTotal);
      expect(stats.handed).toBe(MANY);
      expect(stats.maxInFlight).toBeLessThanOrEqual(FEED_WINDOW);
      expect(stats.maxInFlight).toBeGreaterThan(1);
      const linked = (await Promise.all(Array.from({ length: 7 }, (_, d) => readdir(path.join(plan.snapshotDir, `d${d}`))))).flat();
      expect(linked).toHaveLength(MANY);

      // Planned again: everything cached and linked, from folder listings.
      const again = await planSnapshot({ hub: runtime.hub, cacheDir }, { repo });
      expect(again.treeSource).toBe('cache');
      expect(again.files.every((f) => f.cached && f.linked)).toBe(true);
      expect(again.bytesNeeded).toBe(0);
      const second = await executeSnapshot({ hub: runtime.hub, engine, cacheDir }, again);
      expect(second).toMatchObject({ filesFetched: 0, bytesFetched: 0, bytesCached: plan.bytesTotal, failureCount: 0 });
      expect(stats.handed).toBe(MANY);
      // Nothing of the writers' temps is left in the repo folder.
      expect((await readdir(repoPaths(cacheDir, repo).repoDir)).sort()).toEqual(['blobs', 'refs', 'snapshots', 'trees']);
    } finally {
      await runtime.close();
    }
  });

  it('an abort stops the feeding at once: no more items, no ref, and a later run completes the snapshot', async () => {
    const controller = new AbortController();
    const runtime = await createRuntime({ settings: settings(), signal: controller.signal });
    const repo = { id: 'acme/many', type: 'dataset' as const };
    let handedAtAbort = 0;
    try {
      const plan = await planSnapshot({ hub: runtime.hub, cacheDir }, { repo });
      const { engine, stats } = counting(runtime.engine, (handed) => {
        if (handed === 500) {
          handedAtAbort = handed;
          controller.abort();
        }
      });
      const result = await executeSnapshot({ hub: runtime.hub, engine, cacheDir, signal: controller.signal }, plan);
      expect(handedAtAbort).toBe(500);
      // Only the files already pulled into the window were handled; nothing after the abort.
      expect(stats.handed).toBe(500);
      expect(result.filesProcessed).toBeLessThanOrEqual(500 + FEED_WINDOW);
      expect(result.filesProcessed).toBeLessThan(MANY);
      await expect(readdir(path.join(repoPaths(cacheDir, repo).refsDir))).resolves.toEqual([]);
    } finally {
      await runtime.close();
    }
    const done = await download({ settings: settings(), repoId: 'acme/many', repoType: 'dataset' });
    expect(done.filesFetched).toBeGreaterThan(0);
    expect(done.filesFetched).toBeLessThan(MANY);
    await expect(readdir(path.join(repoPaths(cacheDir, repo).refsDir))).resolves.toEqual(['main']);
  });

  it('planning stops at its next checkpoint once its signal is aborted', async () => {
    const runtime = await createRuntime({ settings: settings() });
    try {
      const controller = new AbortController();
      const reason = new Error('stop planning');
      controller.abort(reason);
      await expect(planSnapshot({ hub: runtime.hub, cacheDir, signal: controller.signal }, { repo: { id: 'acme/many', type: 'dataset' } })).rejects.toBe(reason);
    } finally {
      await runtime.close();
    }
  });

  it('a blob shared by paths 300 apart is fetched once, and counted once', async () => {
    const runtime = await createRuntime({ settings: settings() });
    try {
      const plan = await planSnapshot({ hub: runtime.hub, cacheDir }, { repo: { id: 'acme/paired', type: 'model' } });
      const { engine, stats } = counting(runtime.engine);
      const result = await executeSnapshot({ hub: runtime.hub, engine, cacheDir }, plan);
      expect(result.failureCount).toBe(0);
      expect(stats.handed).toBe(300);
      expect(result.filesFetched).toBe(300);
      expect(result.bytesFetched).toBe(plan.bytesNeeded);
      expect(hub().stats.requests.filter((r) => r.url.includes('/resolve/'))).toHaveLength(300);
      expect(await readdir(plan.snapshotDir)).toHaveLength(600);
    } finally {
      await runtime.close();
    }
  });

  it('every failure is counted and reported, and download says how many failed', async () => {
    // A refusal of one file at a time (EntryNotFound); a refusal of the whole repo stops the run (below).
    hub().setFaults({ rules: [{ match: { path: '/resolve/' }, action: { kind: 'status', status: 404, errorCode: 'EntryNotFound' } }] });
    const runtime = await createRuntime({ settings: settings() });
    try {
      const plan = await planSnapshot({ hub: runtime.hub, cacheDir }, { repo: { id: 'acme/failing', type: 'model' } });
      const result = await executeSnapshot({ hub: runtime.hub, engine: runtime.engine, cacheDir }, plan);
      expect(result.failureCount).toBe(FAILING);
      expect(result.failures.map((f) => f.path)).toEqual(plan.files.map((f) => f.path));
      expect(new Set(result.failures.map((f) => f.code)).size).toBe(1);
      await expect(readdir(repoPaths(cacheDir, { id: 'acme/failing', type: 'model' }).refsDir)).resolves.toEqual([]);
    } finally {
      await runtime.close();
    }
    const error = await download({ settings: settings(), repoId: 'acme/failing' }).catch((e: unknown) => e);
    expect(isMlcacheError(error)).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`^${FAILING} files of acme/failing failed`));
    expect((error as Error).message).toContain(`and ${FAILING - 5} more`);
  });

  it('a refusal of the whole repo (gated) stops the feeding: the files not yet asked for cost no request, and it is one error', async () => {
    hub().setFaults({ rules: [{ match: { path: '/resolve/' }, action: { kind: 'status', status: 401, errorCode: 'GatedRepo', errorMessage: 'Access to model acme/failing is restricted.' } }] });
    const runtime = await createRuntime({ settings: settings(), connections: 2 });
    try {
      const plan = await planSnapshot({ hub: runtime.hub, cacheDir }, { repo: { id: 'acme/failing', type: 'model' } });
      const before = hub().stats.requests.length;
      const result = await executeSnapshot({ hub: runtime.hub, engine: runtime.engine, cacheDir }, plan);
      const asked = hub().stats.requests.slice(before).filter((r) => r.url.includes('/resolve/')).length;
      expect(result.failures.every((f) => f.code === 'GATED_REPO')).toBe(true);
      // Only what was in flight (2 connections: a few items) reached the Hub; each regular file's
      // refusal is asked once more for its X-Error-Code.
      expect(asked).toBeLessThanOrEqual(12);
      await expect(readdir(repoPaths(cacheDir, { id: 'acme/failing', type: 'model' }).refsDir)).resolves.toEqual([]);
    } finally {
      await runtime.close();
    }
    const error = await download({ settings: settings(), repoId: 'acme/failing' }).catch((e: unknown) => e);
    expect(isMlcacheError(error) && error.code).toBe('GATED_REPO');
    expect((error as Error).message).not.toMatch(/files of acme\/failing failed/);
  });
});
