import { describe, expect, it } from 'vitest';
import { runPool } from '../../../src/util/run-pool.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('runPool', () => {
  it('runs every index once, in order of start, with at most `limit` tasks at once', async () => {
    const seen: number[] = [];
    let inFlight = 0;
    let max = 0;
    const started = await runPool(1000, 16, async (i) => {
      seen.push(i);
      inFlight++;
      max = Math.max(max, inFlight);
      await tick();
      inFlight--;
    });
    expect(started).toBe(1000);
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(max).toBe(16);
  });

  it('stops pulling as soon as stop() says so, without visiting the rest', async () => {
    let stop = false;
    const seen: number[] = [];
    const started = await runPool(
      1_000_000,
      8,
      async (i) => {
        seen.push(i);
        if (i === 100) stop = true;
        await tick();
      },
      () => stop,
    );
    expect(started).toBeLessThanOrEqual(101 + 8);
    expect(started).toBe(seen.length);
    expect(Math.max(...seen)).toBeLessThan(101 + 8);
  });

  it('handles fewer items than workers, and none', async () => {
    const seen: number[] = [];
    expect(await runPool(3, 256, (i) => Promise.resolve(void seen.push(i)))).toBe(3);
    expect(seen).toEqual([0, 1, 2]);
    expect(await runPool(0, 4, () => Promise.reject(new Error('never')))).toBe(0);
  });
});
