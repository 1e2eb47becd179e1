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

  it.each([
    { name: 'tail in smaller ranges', size: 200, completed: [], want: [[0, 40], [40, 80], [80, 120], [120, 140], [140, 160], [160, 180], [180, 200]] },
    { name: 'tail longer than the file: all small', size: 70, completed: [], want: [[0, 18], [18, 36], [36, 54], [54, 70]] },
    { name: 'resume gap across the tail boundary', size: 200, completed: [[0, 100], [170, 200]], want: [[100, 120], [120, 137], [137, 154], [154, 170]] },
    { name: 'resume inside the tail only', size: 200, completed: [[0, 190]], want: [[190, 200]] },
  ])('tail ranges: $name', ({ size, completed, want }) => {
    const plan = planChunks({ size, chunkThreshold: 50, chunkSize: 40, tailBytes: 80, tailChunkSize: 20, completed: completed as Array<[number, number]> });
    expect(plan.map((r) => [r.start, r.end])).toEqual(want);
  });

  it('tail ranges cover the file exactly, none longer than asked, never past the end', () => {
    for (const size of [1, 99, 1000, 4097, 65_537]) {
      const plan = planChunks({ size, chunkThreshold: 1, chunkSize: 1000, tailBytes: 3000, tailChunkSize: 250 });
      expect(plan[0]!.start).toBe(0);
      expect(plan.at(-1)!.end).toBe(size);
      for (let i = 1; i < plan.length; i++) expect(plan[i]!.start).toBe(plan[i - 1]!.end);
      for (const r of plan) expect(r.end - r.start).toBeLessThanOrEqual(r.start >= size - 3000 ? 250 : 1000);
    }
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
