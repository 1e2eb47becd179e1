/**
 * The engine's parts, each on its own: the retry decision (pure), the byte ledger, the stall
 * timer, the batched writer and the journal writer (real files in a temp dir).
 */
import { mkdtemp, open, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBatchedWriter } from '../../../src/download/batched-writer.js';
import { createByteLedger } from '../../../src/download/byte-ledger.js';
import { openJournalWriter } from '../../../src/download/journal-writer.js';
import { parseJournal } from '../../../src/download/journal.js';
import { decideRetry, type RetryBudgetState } from '../../../src/download/retry-decision.js';
import { createStallTimer } from '../../../src/download/stall-timer.js';

const policy = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000, maxElapsedMs: 10_000 };
const fresh = (over: Partial<RetryBudgetState> = {}): RetryBudgetState => ({ attempts: 0, since: 0, refreshedGeneration: undefined, ...over });

describe('decideRetry', () => {
  it('transient failures back off until the attempts run out', () => {
    expect(decideRetry({ kind: 'transient', generation: 1 }, fresh(), policy, 0, () => 1)).toEqual({ action: 'retry', attempt: 1, delayMs: 100 });
    expect(decideRetry({ kind: 'transient', generation: 1 }, fresh({ attempts: 2 }), policy, 0, () => 1)).toEqual({ action: 'retry', attempt: 3, delayMs: 400 });
    expect(decideRetry({ kind: 'transient', generation: 1 }, fresh({ attempts: 3 }), policy, 0)).toMatchObject({ action: 'fail' });
  });

  it('…or the time budget: a wait that would end past it fails now, whatever the server asked', () => {
    expect(decideRetry({ kind: 'transient', generation: 1 }, fresh(), policy, 9_950, () => 1)).toMatchObject({ action: 'fail', why: expect.stringMatching(/10 s/) });
    expect(decideRetry({ kind: 'transient', generation: 1, retryAfterSeconds: 60 }, fresh(), policy, 0)).toMatchObject({ action: 'fail' });
    expect(decideRetry({ kind: 'transient', generation: 1, retryAfterSeconds: 2 }, fresh(), policy, 0)).toEqual({ action: 'retry', attempt: 1, delayMs: 2000 });
  });

  it('a lie, an expiry or a redirect gets one fresh URL; the same failure on that URL is final', () => {
    for (const kind of ['lie', 'expired', 'redirect'] as const) {
      expect(decideRetry({ kind, generation: 1 }, fresh(), policy, 0)).toEqual({ action: 'refresh', why: kind });
      // Another range already refreshed (generation 2): an attempt on the old URL may still refresh-join.
      expect(decideRetry({ kind, generation: 1 }, fresh({ refreshedGeneration: 2 }), policy, 0)).toEqual({ action: 'refresh', why: kind });
      expect(decideRetry({ kind, generation: 2 }, fresh({ refreshedGeneration: 2 }), policy, 0)).toMatchObject({ action: 'fail' });
    }
    expect(decideRetry({ kind: 'fatal', generation: 1 }, fresh(), policy, 0)).toMatchObject({ action: 'fail' });
  });
});

describe('byte ledger', () => {
  it('keeps totals equal to the sum of the files, through rewinds, lost passes and files delivered by others', () => {
    const ledger = createByteLedger();
    const a = ledger.item();
    const b = ledger.item();
    ledger.queued(100);
    ledger.queued(50);
    ledger.resumed(a, 30);
    ledger.written(a, 40);
    ledger.lost(a, 40); // a 200 restarted the range
    ledger.written(a, 70);
    ledger.received(a, 110);
    ledger.written(b, 20);
    ledger.lost(b, 999); // never below zero
    ledger.fileDone(a, 100);
    ledger.fileDone(b, 50); // delivered by another process: the rest counts as done
    expect(ledger.totals).toMatchObject({ filesQueued: 2, filesDone: 2, bytesTotal: 150, bytesDone: 150, bytesTransferred: 110 });
    expect([a.done, a.resumed, b.done]).toEqual([100, 30, 50]);
  });
});

describe('stall timer', () => {
  it('fires after the timeout of silence, not while paused, and not after stop', async () => {
    let fired = 0;
    const t = createStallTimer(60, () => fired++);
    t.activity();
    await new Promise((r) => setTimeout(r, 30));
    t.activity(); // data arrived: the clock starts over
    await new Promise((r) => setTimeout(r, 40));
    expect(fired).toBe(0);
    t.pause();
    await new Promise((r) => setTimeout(r, 100));
    expect(fired).toBe(0);
    t.activity();
    await new Promise((r) => setTimeout(r, 120));
    expect(fired).toBe(1);
    const stopped = createStallTimer(20, () => fired++);
    stopped.activity();
    stopped.stop();
    await new Promise((r) => setTimeout(r, 60));
    expect(fired).toBe(1);
  });
});

describe('files', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('batched writer: coalesces chunks into positional writes and reports each batch once it is on disk', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-parts-'));
    const file = await open(path.join(dir, 'p'), 'w+');
    const written: Array<[number, number]> = [];
    const w = createBatchedWriter({ file, position: 100, batchBytes: 8, maxAgeMs: 60_000, onWritten: (o, _b, n) => written.push([o, n]), onWriteError: () => undefined, onDrained: () => undefined });
    for (const c of ['abc', 'def', 'ghi', 'jk']) w.push(Buffer.from(c));
    expect(w.end).toBe(111);
    await w.drain();
    await file.close();
    expect(written).toEqual([[100, 9], [109, 2]]);
    expect((await readFile(path.join(dir, 'p'))).subarray(100).toString()).toBe('abcdefghijk');
  });

  it('journal writer: header first, a record per batch, compaction, and a rewrite after a failed append', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-parts-'));
    const file = path.join(dir, 'x.abcdef12.mlcache-journal');
    const meta = { size: 10_000_000, digest: { algorithm: 'sha256' as const, hex: 'ab'.repeat(32) }, chunkSize: 1000 };
    const w = await openJournalWriter({ path: file, journal: meta });
    expect(await parseJournal(await readFile(file, 'utf8'))).toMatchObject({ ok: true, journal: { completed: [] } });
    for (let i = 0; i < 5000; i++) w.record(i * 10, i * 10 + 10);
    await w.flush();
    const text = await readFile(file, 'utf8');
    // 5,000 records went in; compaction kept the file short and true.
    expect(text.split('\n').length).toBeLessThan(1000);
    expect(await parseJournal(text)).toMatchObject({ ok: true, journal: { completed: [[0, 50_000]] } });
    expect(await w.saveOnFailure([[0, 50_000]])).toBeUndefined();
    await w.close();
    await expect(openJournalWriter({ path: file, journal: meta })).rejects.toMatchObject({ code: 'EEXIST' });
    // A claimed journal is rewritten compactly and appended to.
    const resumed = await openJournalWriter({ path: file, journal: meta, resumed: [[0, 50_000]] });
    resumed.record(60_000, 70_000);
    await resumed.close();
    expect(await parseJournal(await readFile(file, 'utf8'))).toMatchObject({ ok: true, journal: { completed: [[0, 50_000], [60_000, 70_000]] } });
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
