/**
 * The last thing a person sees is the true final state: recorded event streams (a clean run with
 * a retry and a fresh pass of one file, a run with a failure, a run stopped by Ctrl-C) end, in the
 * TTY and the plain renderer alike, on one line made from the last totals — never on a stale frame.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressRenderer, finalLine } from '../../../src/cli/ui/progress.js';
import type { TransferEvent, TransferTotals } from '../../../src/download/types.js';

function sink(tty: boolean) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  }) as Writable & Record<string, unknown>;
  if (tty) {
    Object.assign(stream, {
      isTTY: true,
      columns: 100,
      cursorTo: (_x: number, _y?: number, cb?: () => void) => cb?.(),
      clearLine: (_d: number, cb?: () => void) => cb?.(),
      moveCursor: (_x: number, _y: number, cb?: () => void) => cb?.(),
      clearScreenDown: (cb?: () => void) => cb?.(),
    });
  }
  // Terminal control sequences (cursor, line wrap) are not text a person reads.
  // eslint-disable-next-line no-control-regex
  const text = () => chunks.join('').replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  return { stream, lines: () => text().split('\n').filter((l) => l.trim() !== '') };
}

const SIZE = 1_000_000;
const totals = (filesDone: number, filesFailed = 0, bytesDone = filesDone * SIZE): TransferTotals => ({
  filesQueued: 11, filesDone, filesFailed, bytesTotal: 11 * SIZE, bytesDone, bytesTransferred: bytesDone, retries: 1,
});
const label = (i: number) => `org/m: model-${String(i).padStart(5, '0')}-of-00011.safetensors`;

function run(stopAfter: number | undefined, failOne: boolean): TransferEvent[] {
  const events: TransferEvent[] = [];
  for (let i = 0; i < 11; i++) events.push({ type: 'file-queued', id: `f${i}`, label: label(i), size: SIZE });
  let done = 0;
  let failed = 0;
  for (let i = 0; i < 11; i++) {
    if (stopAfter !== undefined && i === stopAfter) {
      // Ctrl-C mid-file: progress, then nothing more for this file.
      events.push({ type: 'file-started', id: `f${i}`, label: label(i), size: SIZE, resumedBytes: 0, chunks: 1 });
      events.push({ type: 'file-progress', id: `f${i}`, bytesDone: SIZE / 2, size: SIZE });
      events.push({ type: 'totals', totals: totals(done, failed, done * SIZE + SIZE / 2), bytesPerSecond: 1, elapsedMs: 1 });
      return events;
    }
    events.push({ type: 'file-started', id: `f${i}`, label: label(i), size: SIZE, resumedBytes: 0, chunks: 1 });
    events.push({ type: 'file-progress', id: `f${i}`, bytesDone: SIZE * 0.09, size: SIZE });
    if (i === 0) {
      events.push({ type: 'retry', id: 'f0', label: label(0), attempt: 1, delayMs: 100, reason: 'connection reset', range: { start: 0, end: SIZE } });
      // A fresh pass after a failed hash: the same file starts again.
      events.push({ type: 'file-started', id: 'f0', label: label(0), size: SIZE, resumedBytes: 0, chunks: 1 });
    }
    if (failOne && i === 5) {
      events.push({ type: 'file-failed', id: `f${i}`, label: label(i), code: 'SERVER_ERROR', message: 'HTTP 503 five times.' });
      failed++;
    } else {
      events.push({ type: 'file-progress', id: `f${i}`, bytesDone: SIZE, size: SIZE });
      events.push({ type: 'file-done', id: `f${i}`, label: label(i), size: SIZE, bytesTransferred: SIZE, durationMs: 5 });
      done++;
    }
    // Totals are throttled: the last one before the end can be stale ("99% … files 10/11")…
    if (i === 9) events.push({ type: 'totals', totals: totals(done, failed), bytesPerSecond: 1, elapsedMs: 1 });
  }
  // …and the engine's stop emits the true one.
  events.push({ type: 'totals', totals: totals(done, failed, done * SIZE), bytesPerSecond: 1, elapsedMs: 1 });
  return events;
}

describe('the final frame', () => {
  for (const mode of ['tty', 'plain'] as const) {
    it(`${mode}: a complete run (with a retry and a fresh pass) ends on files 11/11`, () => {
      const out = sink(mode === 'tty');
      const r = createProgressRenderer({ mode, stream: out.stream, plainIntervalMs: 60_000 });
      for (const e of run(undefined, false)) r.onEvent(e);
      r.finish();
      r.finish(); // idempotent: one final line
      expect(out.lines().at(-1)).toBe('[100%] 11.0 MB / 11.0 MB  files 11/11');
      expect(out.lines().filter((l) => l.includes('files 11/11'))).toHaveLength(1);
      expect(finalLine(totals(11))).toBe('[100%] 11.0 MB / 11.0 MB  files 11/11');
    });

    it(`${mode}: a failure is said above, and the last line counts it`, () => {
      const out = sink(mode === 'tty');
      const r = createProgressRenderer({ mode, stream: out.stream, plainIntervalMs: 60_000 });
      for (const e of run(undefined, true)) r.onEvent(e);
      r.finish();
      expect(out.lines().some((l) => l.includes(`failed: ${label(5)}: HTTP 503 five times.`))).toBe(true);
      expect(out.lines().at(-1)).toBe('[ 90%] 10.0 MB / 11.0 MB  files 10/11 (1 failed)');
    });

    it(`${mode}: Ctrl-C mid-file ends on what was really done`, () => {
      const out = sink(mode === 'tty');
      const r = createProgressRenderer({ mode, stream: out.stream, plainIntervalMs: 60_000 });
      for (const e of run(4, false)) r.onEvent(e);
      r.finish();
      expect(out.lines().at(-1)).toBe('[ 40%] 4.50 MB / 11.0 MB  files 4/11');
    });
  }
});
