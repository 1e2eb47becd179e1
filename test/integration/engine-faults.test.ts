import { access, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { HubHttpError, IntegrityError } from '../../src/errors.js';
import { createTransferEngine, type TransferEngineOptions } from '../../src/download/index.js';
import type { FaultRule } from '../../src/emulator/index.js';
import { useEmulator } from '../helpers/emulator.js';
import { collectEvents, itemFor, tempDir, testAgent } from '../helpers/transfer-items.js';

const REPO = 'org/engine-faults';
const MB = 1024 * 1024;
const BIG = 'big.safetensors';
const SMALL = 'small.bin';
const BIG_SIZE = 2 * MB + 17;

function setup(rules: FaultRule[], extra: Partial<TransferEngineOptions> = {}) {
  return async (file = BIG, resolves?: string[], expiresAt?: (url: string) => number | undefined) => {
    const hub = emulator();
    hub.setFaults({ rules });
    const dir = await tempDir();
    const dispatcher = testAgent();
    const ev = collectEvents();
    const engine = createTransferEngine({
      dispatcher,
      chunkThreshold: MB,
      chunkSize: 512 * 1024,
      connections: 4,
      retry: { baseDelayMs: 5, maxDelayMs: 20, maxRetries: 4 },
      onEvent: ev.onEvent,
      ...extra,
    });
    const destination = path.join(dir, file);
    const item = await itemFor(hub, { repo: REPO, file, destination, dispatcher, resolves, expiresAt });
    return { hub, dir, engine, ev, item, destination, expected: await hub.contentOf(REPO, file) };
  };
}

const emulator = useEmulator({
  repos: [
    {
      id: REPO,
      revisions: [{ refs: ['main'], files: [{ path: BIG, generated: { size: BIG_SIZE } }, { path: SMALL, generated: { size: 300_000 } }] }],
    },
  ],
});

const cdnGets = () => emulator().stats.requests.filter((r) => r.origin === 'cdn' && r.method === 'GET');

describe('transfer engine: server faults', () => {
  beforeEach(() => {
    emulator().resetStats();
    emulator().setFaults({});
  });

  it('retries a range answered with 200 (Range ignored) and never writes it at the wrong offset', async () => {
    const t = await setup([{ match: { origin: 'cdn' }, action: { kind: 'ignore-range' }, times: 2 }])();
    await t.engine.download(t.item);
    expect((await readFile(t.destination)).equals(t.expected)).toBe(true);
    expect(t.ev.of('retry').map((e) => e.reason)).toEqual([expect.stringContaining('200'), expect.stringContaining('200')]);
  });

  it('accepts a 200 with the whole file for a file fetched in one request', async () => {
    const t = await setup([{ match: { origin: 'cdn' }, action: { kind: 'ignore-range' } }])(SMALL);
    const result = await t.engine.download(t.item);
    expect((await readFile(t.destination)).equals(t.expected)).toBe(true);
    expect(result.retries).toBe(0);
    expect(cdnGets()).toHaveLength(1);
  });

  it('retries a wrong Content-Range', async () => {
    const t = await setup([{ match: { origin: 'cdn' }, action: { kind: 'wrong-content-range', shift: 1000 }, times: 1 }])();
    await t.engine.download(t.item);
    expect((await readFile(t.destination)).equals(t.expected)).toBe(true);
    expect(t.ev.of('retry')).toHaveLength(1);
    expect(t.ev.of('retry')[0]!.reason).toMatch(/Content-Range/);
  });

  it('continues a short body from the bytes already written', async () => {
    const t = await setup([{ match: { origin: 'cdn' }, action: { kind: 'short-body', missing: 1000 }, times: 1 }])();
    const result = await t.engine.download(t.item);
    expect((await readFile(t.destination)).equals(t.expected)).toBe(true);
    expect(t.ev.of('retry')[0]!.reason).toMatch(/short body|Content-Length/);
    // Only the missing tail of that range is fetched again (plus nothing else).
    expect(result.bytesTransferred).toBeLessThan(BIG_SIZE + 512 * 1024);
  });

  it('resumes a dropped connection where it stopped', async () => {
    const t = await setup([{ match: { origin: 'cdn' }, action: { kind: 'drop', afterBytes: 200_000 }, times: 2 }])();
    await t.engine.download(t.item);
    expect((await readFile(t.destination)).equals(t.expected)).toBe(true);
    expect(t.ev.of('retry')).toHaveLength(2);
    // The resumed requests start past the byte where the drop happened, not at the range start.
    const ranges = cdnGets().map((r) => String(r.headers.range));
    const starts = ranges.map((r) => Number(/bytes=(\d+)-/.exec(r)![1]));
    expect(starts.some((s) => s % (512 * 1024) !== 0)).toBe(true);
    expect(emulator().stats.bytesServed).toBeLessThan(BIG_SIZE + 2 * 200_000 + 1);
  });

  it('catches a corrupted byte: re-fetches once, then fails with IntegrityError and leaves nothing', async () => {
    const t = await setup([{ match: { origin: 'cdn' }, action: { kind: 'corrupt', offset: 1_500_000 } }])();
    const error = await t.engine.download(t.item).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).expected).toBe(t.item.digest.hex);
    expect((error as IntegrityError).actual).not.toBe(t.item.digest.hex);
    expect(await readdir(t.dir)).toEqual([]);
    expect(emulator().stats.bytesServed).toBe(2 * BIG_SIZE);
    expect(t.ev.of('file-failed')[0]).toMatchObject({ code: 'INTEGRITY' });
  });

  it('recovers from a single corrupted response with one full re-fetch', async () => {
    const t = await setup([{ match: { origin: 'cdn' }, action: { kind: 'corrupt', offset: 10 }, times: 1 }])(SMALL);
    await t.engine.download(t.item);
    expect((await readFile(t.destination)).equals(t.expected)).toBe(true);
    expect(t.ev.of('warning')[0]!.message).toMatch(/sha256 check/);
  });

  it('waits the Retry-After of a 429', async () => {
    const t = await setup([{ match: { origin: 'cdn' }, action: { kind: 'rate-limit', retryAfter: 0 }, times: 1 }])(SMALL);
    const started = Date.now();
    await t.engine.download(t.item);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    // Retry-After: 0 → wait 1 s, as huggingface_hub does (n + 1), not the 5 ms backoff.
    expect(t.ev.of('retry')[0]).toMatchObject({ delayMs: 1000, reason: 'HTTP 429' });
    expect((await readFile(t.destination)).equals(t.expected)).toBe(true);
  });

  it('aborts a stalled connection and retries the range', async () => {
    const t = await setup([{ match: { origin: 'cdn' }, action: { kind: 'stall', afterBytes: 100_000, ms: 5_000 }, times: 1 }], { stallTimeoutMs: 300 })(SMALL);
    const started = Date.now();
    await t.engine.download(t.item);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(t.ev.of('retry')[0]!.reason).toMatch(/stalled/);
    expect((await readFile(t.destination)).equals(t.expected)).toBe(true);
  });

  it('resolves the URL again after a 403 from the CDN', async () => {
    const resolves: string[] = [];
    const t = await setup([{ match: { origin: 'cdn' }, action: { kind: 'status', status: 403 }, times: 1 }])(BIG, resolves);
    await t.engine.download(t.item);
    expect(resolves).toEqual(['initial', 'expired']);
    expect((await readFile(t.destination)).equals(t.expected)).toBe(true);
  });

  it('resolves an expired URL before using it (e.g. when resuming hours later)', async () => {
    const resolves: string[] = [];
    let first = true;
    const expiresAt = () => {
      const value = first ? Date.now() - 1000 : Date.now() + 3_600_000;
      first = false;
      return value;
    };
    const t = await setup([])(BIG, resolves, expiresAt);
    await t.engine.download(t.item);
    expect(resolves).toEqual(['initial', 'expired']);
    expect(cdnGets().every((r) => r.status === 206)).toBe(true);
  });

  it('does not retry a 404, and a failed item does not stop the others', async () => {
    const hub = emulator();
    hub.setFaults({ rules: [{ match: { origin: 'cdn', path: 'zzz-no-match' }, action: { kind: 'status', status: 404 } }] });
    // Aim the 404 at the big file's CDN path only: both files are on the CDN and race for the first GET.
    const bigSha = (await hub.digestOf(REPO, BIG)).sha256;
    const t = await setup([{ match: { origin: 'cdn', method: 'GET', path: bigSha }, action: { kind: 'status', status: 404 }, times: 1 }], {
      connections: 1,
    })();
    const other = await itemFor(hub, { repo: REPO, file: SMALL, destination: path.join(t.dir, SMALL), dispatcher: testAgent() });
    const [big, small] = await Promise.allSettled([t.engine.download(t.item), t.engine.download(other)]);
    expect(big.status).toBe('rejected');
    const error = (big as PromiseRejectedResult).reason as HubHttpError;
    expect(error).toBeInstanceOf(HubHttpError);
    expect(error.status).toBe(404);
    expect(t.ev.of('retry')).toHaveLength(0);
    expect(small.status).toBe('fulfilled');
    await expect(access(t.destination)).rejects.toThrow();
  });

  it('fails with a typed error after a 403 that a fresh URL does not fix', async () => {
    const resolves: string[] = [];
    const t = await setup([{ match: { origin: 'cdn' }, action: { kind: 'status', status: 403 } }])(SMALL, resolves);
    const error = (await t.engine.download(t.item).catch((e: unknown) => e)) as HubHttpError;
    expect(error).toBeInstanceOf(HubHttpError);
    expect(error.status).toBe(403);
    expect(resolves).toEqual(['initial', 'expired']);
  });

  it('respects maxRate across connections', async () => {
    const t = await setup([], { maxRate: 2 * MB })();
    const started = Date.now();
    await t.engine.download(t.item);
    const seconds = (Date.now() - started) / 1000;
    // 2 MiB at 2 MiB/s with a 0.5 MiB burst: at least ~0.7 s.
    expect(seconds).toBeGreaterThan(0.6);
    expect((await readFile(t.destination)).equals(t.expected)).toBe(true);
  });
});
