/**
 * What a person sees DURING a run, read from a terminal screen (test/helpers/screen.ts) the TTY
 * renderer draws on: after every event and redraw, a file is on screen at most once, a finished or
 * failed file's bar is gone at once (no frozen bar beside the others), a file that starts again keeps
 * its one bar, several lines logged in one frame leave no tail of an old bar, and when the run ends — finished or stopped by Ctrl-C — no bar is left on screen and the
 * last line is the true final state.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProgressRenderer, finalLine } from '../../../src/cli/ui/progress.js';
import type { TransferEvent, TransferTotals } from '../../../src/download/types.js';
import { createScreen } from '../../helpers/screen.js';

const SIZE = 1_000_000;
const FILES = 11;
const label = (i: number) => `org/m: model-${String(i + 1).padStart(5, '0')}-of-000${FILES}.safetensors`;
const totals = (filesDone: number, filesFailed: number, bytesDone: number): TransferTotals => ({
  filesQueued: FILES, filesDone, filesFailed, bytesTotal: FILES * SIZE, bytesDone, bytesTransferred: bytesDone, retries: 1,
});

/** A run of 3 files at a time, finishing out of order, with a retry, a fresh pass of file 0 and a failure of file 5. */
function events(stopAt?: number): TransferEvent[] {
  const out: TransferEvent[] = [];
  for (let i = 0; i < FILES; i++) out.push({ type: 'file-queued', id: `f${i}`, label: label(i), size: SIZE });
  let done = 0;
  let failed = 0;
  let bytes = 0;
  for (let start = 0; start < FILES; start += 3) {
    const batch = [start, start + 1, start + 2].filter((i) => i < FILES);
    for (const i of batch) out.push({ type: 'file-started', id: `f${i}`, label: label(i), size: SIZE, resumedBytes: 0, chunks: 1 });
    for (const i of batch) out.push({ type: 'file-progress', id: `f${i}`, bytesDone: SIZE / 2, size: SIZE });
    if (start === 0) {
      out.push({ type: 'retry', id: 'f0', label: label(0), attempt: 1, delayMs: 100, reason: 'connection reset', range: { start: 0, end: SIZE } });
      out.push({ type: 'file-started', id: 'f0', label: label(0), size: SIZE, resumedBytes: 0, chunks: 1 });
    }
    out.push({ type: 'totals', totals: totals(done, failed, bytes + (batch.length * SIZE) / 2), bytesPerSecond: 1, elapsedMs: 1 });
    // Several lines logged in one frame (a flaky CDN drops every connection at once).
    for (const i of batch) out.push({ type: 'retry', id: `f${i}`, label: label(i), attempt: 1, delayMs: 300, reason: `UND_ERR_SOCKET ${start}`, range: { start: 0, end: SIZE } });
    // Finish in reverse order: the last started file ends first.
    for (const i of [...batch].reverse()) {
      if (stopAt !== undefined && i === stopAt) {
        // Ctrl-C: the files in flight end as interrupted, said once by the command, not per file.
        for (const j of batch.filter((k) => k <= i)) out.push({ type: 'file-failed', id: `f${j}`, label: label(j), code: 'INTERRUPTED', message: 'Interrupted.' });
        return out;
      }
      if (i === 5) {
        out.push({ type: 'file-failed', id: `f${i}`, label: label(i), code: 'SERVER_ERROR', message: 'HTTP 503 five times.' });
        failed++;
      } else {
        out.push({ type: 'file-progress', id: `f${i}`, bytesDone: SIZE, size: SIZE });
        out.push({ type: 'file-done', id: `f${i}`, label: label(i), size: SIZE, bytesTransferred: SIZE, durationMs: 5 });
        done++;
        bytes += SIZE;
      }
    }
  }
  out.push({ type: 'totals', totals: totals(done, failed, bytes), bytesPerSecond: 1, elapsedMs: 1 });
  return out;
}

/** Lines drawn as bars (cli-progress' shades preset), not the lines logged above them. */
const barLines = (lines: string[]) => lines.filter((l) => /[█░]/.test(l));

describe('the TTY renderer on a screen, mid-run', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  for (const stopAt of [undefined, 7] as const) {
    it(stopAt === undefined ? 'a whole run: every frame shows each active file once, finished files leave at once' : 'Ctrl-C mid-run: no bar is left behind, the last line is what was done', () => {
      const screen = createScreen();
      const r = createProgressRenderer({ mode: 'tty', stream: screen.stream });
      const finished = new Set<string>();
      const active = new Set<string>();
      let frames = 0;
      let last: TransferTotals | undefined;
      for (const e of events(stopAt)) {
        r.onEvent(e);
        if (e.type === 'file-started') active.add(e.label);
        if (e.type === 'file-done' || e.type === 'file-failed') {
          finished.add(e.label);
          active.delete(e.label);
        }
        if (e.type === 'totals') last = e.totals;
        if (e.type !== 'retry') vi.advanceTimersByTime(200); // more than one redraw at 8 fps (retries pile up in one frame)
        frames++;
        const bars = barLines(screen.lines());
        for (let i = 0; i < FILES; i++) {
          const shown = bars.filter((l) => l.includes(label(i))).length;
          expect(shown, `frame ${frames}: ${label(i)} drawn ${shown} times\n${screen.lines().join('\n')}`).toBeLessThanOrEqual(1);
          if (finished.has(label(i))) expect(shown, `frame ${frames}: finished ${label(i)} still drawn\n${screen.lines().join('\n')}`).toBe(0);
          if (active.has(label(i))) expect(shown, `frame ${frames}: active ${label(i)} not drawn`).toBe(1);
        }
      }
      r.finish();
      vi.advanceTimersByTime(1000);
      const lines = screen.lines();
      expect(barLines(lines), lines.join('\n')).toEqual([]);
      // Every line on the final screen is one whole line that was said: no tail of an old bar
      // after a logged line, no interrupted file reported as failed.
      for (const l of lines) expect(l, lines.join('\n')).toMatch(/^(retry 1 in 0\.[0-9]s: org\/m: model-\d{5}-of-00011\.safetensors: (connection reset|UND_ERR_SOCKET \d+)|failed: .*: HTTP 503 five times\.|\[ *\d+%\] .* files \d+\/11( \(1 failed\))?)$/);
      expect(lines.filter((l) => l.includes('Interrupted'))).toEqual([]);
      expect(lines.at(-1)).toBe(finalLine(last!));
      // The failure was said once, above, and stays on screen.
      if (stopAt === undefined) {
        expect(lines.filter((l) => l.includes(`failed: ${label(5)}`))).toHaveLength(1);
        expect(lines.at(-1)).toBe('[ 90%] 10.0 MB / 11.0 MB  files 10/11 (1 failed)');
      } else expect(lines.at(-1)).toMatch(/files 5\/11 \(1 failed\)$/);
    });
  }
});
