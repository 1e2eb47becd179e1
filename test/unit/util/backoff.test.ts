import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from '../../../src/util/net.js';

describe('backoffDelay (equal jitter)', () => {
  it.each([
    // attempt, base, max, random → delay: d = min(max, base·2^attempt), delay = d/2 + random·d/2
    [0, 1000, 8000, 0, 500],
    [0, 1000, 8000, 1, 1000],
    [2, 1000, 8000, 0, 2000],
    [2, 1000, 8000, 0.5, 3000],
    [10, 1000, 8000, 0, 4000],
    [10, 1000, 8000, 1, 8000],
    [-3, 1000, 8000, 1, 1000],
  ])('attempt %i, base %i, cap %i, random %f → %i ms', (attempt, base, max, random, expected) => {
    expect(backoffDelay(attempt, base, max, () => random)).toBe(expected);
  });

  it('never goes below half the step nor above the cap', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const d = Math.min(8000, 500 * 2 ** attempt);
      const delay = backoffDelay(attempt, 500, 8000);
      expect(delay).toBeGreaterThanOrEqual(d / 2);
      expect(delay).toBeLessThanOrEqual(d);
    }
  });
});

describe('sleep', () => {
  it('rejects with the signal’s reason when it aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    const pending = sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
