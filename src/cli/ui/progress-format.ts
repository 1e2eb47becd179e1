/**
 * Pure pieces of the progress display: a smoothed transfer rate, the ETA, and the lines the
 * plain (non-TTY) renderer prints. Kept apart from cli-progress so they can be table-tested.
 */
import { formatBytes, formatDuration } from '../../util/bytes.js';
import type { TransferTotals } from '../../download/types.js';

/** Exponentially smoothed bytes/s from cumulative byte counts (like a download manager's rate). */
export function createRateMeter(halfLifeMs = 3000): { sample(bytes: number, atMs: number): number; readonly rate: number } {
  let lastBytes: number | undefined;
  let lastAt = 0;
  let rate = 0;
  return {
    sample(bytes, atMs) {
      if (lastBytes === undefined) {
        lastBytes = bytes;
        lastAt = atMs;
        return rate;
      }
      const dt = atMs - lastAt;
      if (dt <= 0) return rate;
      const instant = ((bytes - lastBytes) / dt) * 1000;
      const weight = 1 - 0.5 ** (dt / halfLifeMs);
      rate = rate === 0 ? instant : rate + (instant - rate) * weight;
      lastBytes = bytes;
      lastAt = atMs;
      return rate;
    },
    get rate() {
      return rate;
    },
  };
}

/** Seconds left, or undefined when unknown (no rate yet). */
export function etaSeconds(totals: Pick<TransferTotals, 'bytesTotal' | 'bytesDone'>, bytesPerSecond: number): number | undefined {
  const left = Math.max(0, totals.bytesTotal - totals.bytesDone);
  if (left === 0) return 0;
  if (!(bytesPerSecond > 0)) return undefined;
  return left / bytesPerSecond;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.max(0, Math.round(bytesPerSecond)))}/s`;
}

export function formatEta(seconds: number | undefined): string {
  return seconds === undefined ? '--' : formatDuration(Math.round(seconds) * 1000);
}

export function percent(done: number, total: number): number {
  if (total <= 0) return 100;
  return Math.min(100, Math.floor((done / total) * 100));
}

/** `[ 42%] 1.20 GB / 3.00 GB  85.0 MB/s  ETA 21.0s  files 3/10` */
export function plainProgressLine(totals: TransferTotals, bytesPerSecond: number): string {
  const pct = String(percent(totals.bytesDone, totals.bytesTotal)).padStart(3, ' ');
  const files = `files ${totals.filesDone}/${totals.filesQueued}${totals.filesFailed ? ` (${totals.filesFailed} failed)` : ''}`;
  return `[${pct}%] ${formatBytes(totals.bytesDone)} / ${formatBytes(totals.bytesTotal)}  ${formatRate(bytesPerSecond)}  ETA ${formatEta(etaSeconds(totals, bytesPerSecond))}  ${files}`;
}

/** Shorten a label to `width` characters, keeping its end (the file name). */
export function truncateLabel(label: string, width: number): string {
  if (label.length <= width) return label;
  return `…${label.slice(label.length - width + 1)}`;
}
