import { describe, expect, it } from 'vitest';
import { planChunks, rangeHeader } from '../../../src/download/chunk-plan.js';
import { complementIntervals, contiguousPrefix, mergeIntervals, totalLength } from '../../../src/download/intervals.js';

describe('planChunks', () => {
  it.each([
    { name: 'small file: one request', size: 100, threshold: 1000, chunk: 30, completed: [], want: [[0, 100]] },
    { name: 'empty file: nothing to fetch', size: 0, threshold: 1000, chunk: 30, completed: [], want: [] },
    { name: 'chunked evenly, no tiny tail', size: 100, threshold: 50, chunk: 30, completed: [], want: [[0, 25], [25, 50], [50, 75], [75, 100]] },
    { name: 'exact multiple', size: 90, threshold: 50, chunk: 30, completed: [], want: [[0, 30], [30, 60], [60, 90]] },
    { name: 'resume: only the gaps', size: 100, threshold: 50, chunk: 30, completed: [[0, 40], [60, 70]], want: [[40, 60], [70, 100]] },
    { name: 'resume small file: the missing tail', size: 100, threshold: 1000, chunk: 30, completed: [[0, 64]], want: [[64, 100]] },
    { name: 'fully completed', size: 100, threshold: 50, chunk: 30, completed: [[0, 100]], want: [] },
  ])('$name', ({ size, threshold, chunk, completed, want }) => {
    const plan = planChunks({ size, chunkThreshold: threshold, chunkSize: chunk, completed: completed as Array<[number, number]> });
    expect(plan.map((r) => [r.start, r.end])).toEqual(want);
    for (const r of plan) if (size >= threshold) expect(r.end - r.start).toBeLessThanOrEqual(chunk);
  });

  it('never overshoots the end of the file (strict Content-Range)', () => {
    const plan = planChunks({ size: 1_000_003, chunkThreshold: 1, chunkSize: 65_536 });
    expect(plan.at(-1)!.end).toBe(1_000_003);
    expect(rangeHeader(plan.at(-1)!)).toMatch(/-1000002$/);
    expect(totalLength(plan.map((r) => [r.start, r.end] as const))).toBe(1_000_003);
  });

  it('formats RFC 9110 inclusive ranges', () => {
    expect(rangeHeader({ start: 0, end: 10 })).toBe('bytes=0-9');
  });
});

describe('intervals', () => {
  it('merges overlapping and touching intervals, drops empty ones', () => {
    expect(mergeIntervals([[5, 7], [0, 2], [2, 3], [6, 9], [10, 10]])).toEqual([[0, 3], [5, 9]]);
  });
  it('complement and contiguous prefix', () => {
    expect(complementIntervals([[2, 4], [6, 20]], 10)).toEqual([[0, 2], [4, 6]]);
    expect(contiguousPrefix([[0, 4], [4, 8], [9, 12]])).toBe(8);
    expect(contiguousPrefix([[1, 4]])).toBe(0);
  });
});
