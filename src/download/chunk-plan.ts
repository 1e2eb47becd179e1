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
  /**
   * The last `tailBytes` of a chunked file are split into ranges of at most `tailChunkSize`
   * (default: no tail). The last ranges of a run then end close together, so connections do not
   * sit idle while one full chunk finishes, and less is left to hash after the last byte lands.
   */
  tailBytes?: number;
  tailChunkSize?: number;
  /** Ranges already on disk (from the journal). */
  completed?: readonly Interval[];
}

/** [start, end) in even pieces of at most `step` (no tiny last piece). */
function split(start: number, end: number, step: number, out: PlannedRange[]): void {
  if (end <= start) return;
  const pieces = Math.max(1, Math.ceil((end - start) / step));
  const size = Math.ceil((end - start) / pieces);
  for (let s = start; s < end; s += size) out.push({ start: s, end: Math.min(end, s + size) });
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
    // Spread a gap evenly rather than leaving a tiny last range; the file's tail in smaller ranges.
    const tailStart = options.tailBytes && options.tailChunkSize && options.tailChunkSize > 0 ? Math.max(0, size - options.tailBytes) : size;
    split(start, Math.min(end, tailStart), chunkSize, out);
    split(Math.max(start, tailStart), end, options.tailChunkSize ?? chunkSize, out);
  }
  return out;
}

/** The Range header value for [start, end) (RFC 9110 §14.1.2: last-pos is inclusive). */
export function rangeHeader(range: PlannedRange): string {
  return `bytes=${range.start}-${range.end - 1}`;
}
