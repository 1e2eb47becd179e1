/**
 * Chunk planning: which byte ranges to request for a file, given what an earlier run completed.
 * Pure. Ranges never overshoot the file (hf_transfer asks for one byte past the end and relies on
 * the server clamping; a strict Content-Range check cannot accept that).
 */
import { complementIntervals, type Interval } from './intervals.js';

export interface PlannedRange {
  /** First byte (inclusive). */
  start: number;
  /** One past the last byte (exclusive). Request header: `bytes=start-(end-1)`. */
  end: number;
}

export interface ChunkPlanOptions {
  size: number;
  /** Files smaller than this are fetched whole (one request). */
  chunkThreshold: number;
  chunkSize: number;
  /** Ranges already on disk (from the journal). */
  completed?: readonly Interval[];
}

/** The ranges still to fetch, each at most `chunkSize` long (or the whole gap for small files). */
export function planChunks(options: ChunkPlanOptions): PlannedRange[] {
  const { size, chunkThreshold, chunkSize } = options;
  if (!(chunkSize > 0)) throw new RangeError('chunkSize must be positive');
  const gaps = complementIntervals(options.completed ?? [], size);
  const chunked = size >= chunkThreshold;
  const out: PlannedRange[] = [];
  for (const [start, end] of gaps) {
    if (!chunked) {
      out.push({ start, end });
      continue;
    }
    // Spread a gap evenly rather than leaving a tiny tail range.
    const pieces = Math.max(1, Math.ceil((end - start) / chunkSize));
    const step = Math.ceil((end - start) / pieces);
    for (let s = start; s < end; s += step) out.push({ start: s, end: Math.min(end, s + step) });
  }
  return out;
}

/** The Range header value for [start, end) (RFC 9110 §14.1.2: last-pos is inclusive). */
export function rangeHeader(range: PlannedRange): string {
  return `bytes=${range.start}-${range.end - 1}`;
}
