import { MlcacheError } from '../errors.js';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** Human-readable size in SI units (what `du -h --si` and the Hub's web UI show). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 ? 0 : value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${sign}${value.toFixed(digits)} ${UNITS[unit]}`;
}

const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?i?b?)?\s*(?:\/s)?\s*$/i;
const MULTIPLIERS: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, ki: 1024, kib: 1024,
  m: 1e6, mb: 1e6, mi: 1024 ** 2, mib: 1024 ** 2,
  g: 1e9, gb: 1e9, gi: 1024 ** 3, gib: 1024 ** 3,
  t: 1e12, tb: 1e12, ti: 1024 ** 4, tib: 1024 ** 4,
  p: 1e15, pb: 1e15, pi: 1024 ** 5, pib: 1024 ** 5,
};

/** Parse a size such as `50MB`, `1.5GiB`, `200k` or `50MB/s` into bytes. */
export function parseSize(text: string): number {
  const match = SIZE_PATTERN.exec(text);
  const multiplier = match ? MULTIPLIERS[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || multiplier === undefined) {
    throw new MlcacheError('INVALID_SIZE', `"${text}" is not a size.`, {
      hint: 'Write a number with an optional unit, e.g. 50MB, 1.5GiB or 800k.',
    });
  }
  return Math.round(Number(match[1]) * multiplier);
}

/**
 * Bytes a file really takes on disk: `st_blocks` × 512 (POSIX counts blocks in 512-byte units
 * whatever the filesystem's block size), not its apparent size. A partial download preallocated
 * with ftruncate is sparse: 134 MB long, a few MB (or nothing) allocated. Where the platform
 * reports no blocks (Windows), the apparent size is the best there is.
 */
export function allocatedBytes(stats: { size: number; blocks?: number | undefined }): number {
  const blocks = stats.blocks;
  return typeof blocks === 'number' && Number.isFinite(blocks) && process.platform !== 'win32' ? blocks * 512 : stats.size;
}

/** Duration as `1m 05s` / `3.2s`. */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${String(s).padStart(2, '0')}s`;
}
