import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressRenderer } from '../../../src/cli/ui/progress.js';
import { createRateMeter, etaSeconds, plainProgressLine, truncateLabel } from '../../../src/cli/ui/progress-format.js';
import type { TransferEvent, TransferTotals } from '../../../src/download/types.js';

function sink(tty = false) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  }) as Writable & { isTTY?: boolean; columns?: number; cursorTo?: unknown; clearLine?: unknown; moveCursor?: unknown; clearScreenDown?: unknown };
  if (tty) {
    stream.isTTY = true;
    stream.columns = 100;
    stream.cursorTo = (_x: number, _y?: number, cb?: () => void) => cb?.();
    stream.clearLine = (_d: number, cb?: () => void) => cb?.();
    stream.moveCursor = (_x: number, _y: number, cb?: () => void) => cb?.();
    stream.clearScreenDown = (cb?: () => void) => cb?.();
  }
  return { stream, text: () => chunks.join('') };
}

const totals = (over: Partial<TransferTotals> = {}): TransferTotals => ({
  filesQueued: 10, filesDone: 3, filesFailed: 0, bytesTotal: 3_000_000_000, bytesDone: 1_200_000_000, bytesTransferred: 1_200_000_000, retries: 0, ...over,
});

const events: TransferEvent[] = [
  { type: 'file-queued', id: 'a', label: 'org/m: model.safetensors', size: 100, group: 'org/m' },
  { type: 'file-started', id: 'a', label: 'org/m: model.safetensors', size: 100, resumedBytes: 0, chunks: 1 },
  { type: 'retry', id: 'a', label: 'org/m: model.safetensors', attempt: 1, delayMs: 500, reason: 'HTTP 503', range: { start: 0, end: 100 } },
  { type: 'file-progress', id: 'a', bytesDone: 50, size: 100 },
  { type: 'warning', id: 'a', message: 'token hf_abcdefghijklmnop leaked?' },
  { type: 'file-failed', id: 'a', label: 'org/m: model.safetensors', code: 'SERVER_ERROR', message: 'HTTP 503 from https://cdn/x?X-Amz-Signature=secret123.' },
  { type: 'totals', totals: totals(), bytesPerSecond: 1000, elapsedMs: 1000 },
];

describe('progress renderer', () => {
  it('json: one redacted object per event per line', () => {
    const out = sink();
    const r = createProgressRenderer({ mode: 'json', stream: out.stream });
    for (const e of events) r.onEvent(e);
    r.finish();
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(events.length);
    const parsed = lines.map((l) => JSON.parse(l) as { type: string; time: string });
    expect(parsed.map((p) => p.type)).toEqual(events.map((e) => e.type));
    expect(parsed[6]).toMatchObject({ totals: { filesDone: 3 }, bytesPerSecond: 1000 });
    expect(out.text()).not.toContain('hf_abcdefghijklmnop');
    expect(out.text()).not.toContain('secret123');
  });

  it('plain: failures, warnings and each file\'s first retry per reason always, every retry with verbose, a progress line per interval', () => {
    const quiet = sink();
    const r1 = createProgressRenderer({ mode: 'plain', stream: quiet.stream, plainIntervalMs: 0 });
    const again = { ...events[2]!, attempt: 2, delayMs: 1000 } as TransferEvent;
    const other = { ...events[2]!, attempt: 3, delayMs: 0, reason: 'body longer than announced: resolving the URL again for one fresh attempt' } as TransferEvent;
    for (const e of [...events.slice(0, 3), again, other, ...events.slice(3)]) r1.onEvent(e);
    r1.finish();
    expect(quiet.text()).toMatch(/failed: org\/m: model.safetensors: HTTP 503/);
    expect(quiet.text()).toMatch(/warning: token hf_\*\*\*/);
    expect(quiet.text().match(/^retry .*HTTP 503$/gm)).toEqual(['retry 1 in 0.5s: org/m: model.safetensors: HTTP 503']);
    expect(quiet.text()).toMatch(/^retry 3 now: org\/m: model.safetensors: body longer than announced: resolving the URL again/m);
    expect(quiet.text()).not.toContain('secret123');
    expect(quiet.text()).toMatch(/\[ 40%\] 1\.20 GB \/ 3\.00 GB/);

    const verbose = sink();
    const r2 = createProgressRenderer({ mode: 'plain', stream: verbose.stream, verbose: true, plainIntervalMs: 60_000 });
    for (const e of events) r2.onEvent(e);
    expect(verbose.text()).toMatch(/retry 1 in 0\.5s: org\/m: model.safetensors: HTTP 503/);
    expect(verbose.text()).not.toMatch(/ETA/); // interval not reached
  });

  it('quiet prints nothing', () => {
    const out = sink();
    const r = createProgressRenderer({ mode: 'quiet', stream: out.stream });
    for (const e of events) r.onEvent(e);
    r.finish();
    expect(out.text()).toBe('');
  });

  it('tty: renders bars and logs failures above them without throwing', () => {
    const out = sink(true);
    const r = createProgressRenderer({ mode: 'tty', stream: out.stream, maxFileBars: 2 });
    for (let i = 0; i < 5; i++) {
      r.onEvent({ type: 'file-queued', id: `f${i}`, label: `org/m: f${i}.bin`, size: 10 });
      r.onEvent({ type: 'file-started', id: `f${i}`, label: `org/m: f${i}.bin`, size: 10, resumedBytes: 0, chunks: 1 });
    }
    for (const e of events) r.onEvent(e);
    r.onEvent({ type: 'file-done', id: 'f0', label: 'org/m: f0.bin', size: 10, bytesTransferred: 10, durationMs: 5 });
    r.finish();
    expect(out.text()).toMatch(/failed: org\/m: model.safetensors/);
    expect(out.text()).not.toContain('secret123');
  });
});

describe('progress formatting', () => {
  it('plain line, ETA and label truncation', () => {
    expect(plainProgressLine(totals({ filesFailed: 1 }), 85_000_000)).toBe('[ 40%] 1.20 GB / 3.00 GB  85.0 MB/s  ETA 0m 21s  files 3/10 (1 failed)');
    expect(etaSeconds({ bytesTotal: 100, bytesDone: 40 }, 0)).toBeUndefined();
    expect(etaSeconds({ bytesTotal: 100, bytesDone: 100 }, 0)).toBe(0);
    expect(truncateLabel('org/model: a/very/long/path/model.safetensors', 20)).toBe('…h/model.safetensors');
  });

  it('the rate meter follows a steady rate and smooths a spike', () => {
    const m = createRateMeter(1000);
    m.sample(0, 0);
    for (let t = 1; t <= 10; t++) m.sample(t * 1_000_000, t * 1000);
    expect(m.rate).toBeCloseTo(1_000_000, -3);
    m.sample(10_000_000 + 10_000_000, 11_000);
    expect(m.rate).toBeGreaterThan(1_000_000);
    expect(m.rate).toBeLessThan(10_000_000);
  });
});
