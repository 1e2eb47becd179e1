/**
 * Half-open byte intervals [start, end), kept sorted and merged. The journal stores the completed
 * part of a partial file as such a list; the chunk planner fetches its complement.
 */
export type Interval = readonly [start: number, end: number];

/** Sort, drop empty intervals and merge overlapping or touching ones. */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [start, end] of sorted) {
    const last = out[out.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

/** The parts of [0, size) not covered by `covered`. */
export function complementIntervals(covered: readonly Interval[], size: number): Interval[] {
  const out: Interval[] = [];
  let cursor = 0;
  for (const [start, end] of mergeIntervals(covered)) {
    if (start >= size) break;
    if (start > cursor) out.push([cursor, start]);
    cursor = Math.max(cursor, end);
  }
  if (cursor < size) out.push([cursor, size]);
  return out;
}

export function totalLength(intervals: readonly Interval[]): number {
  return intervals.reduce((sum, [s, e]) => sum + Math.max(0, e - s), 0);
}

/** End of the contiguous covered prefix starting at 0 (0 if byte 0 is not covered). */
export function contiguousPrefix(intervals: readonly Interval[]): number {
  const merged = mergeIntervals(intervals);
  const first = merged[0];
  return first && first[0] === 0 ? first[1] : 0;
}
