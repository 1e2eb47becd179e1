import { describe, expect, it } from 'vitest';
import { TokenBucket as EmulatorThrottle } from '../../../src/emulator/faults.js';
import { createTokenBucket } from '../../../src/util/token-bucket.js';

describe('token bucket', () => {
  it('lets a burst through, then makes callers wait in proportion to the rate', () => {
    let now = 0;
    const bucket = createTokenBucket(1000, { burstBytes: 500, now: () => now });
    expect(bucket.reserve(500)).toBe(0);
    expect(bucket.reserve(250)).toBe(250);
    now += 250;
    expect(bucket.reserve(0)).toBe(0);
    expect(bucket.reserve(1000)).toBe(1000);
    now += 10_000; // idle time refills only up to the burst
    expect(bucket.reserve(500)).toBe(0);
    expect(bucket.reserve(100)).toBe(100);
  });
});

describe('token bucket: what the emulator builds on it', () => {
  it('keeps its rate and refuses a rate that is not positive', () => {
    expect(createTokenBucket(123).bytesPerSecond).toBe(123);
    expect(() => createTokenBucket(0)).toThrow(RangeError);
    expect(() => createTokenBucket(Number.NaN)).toThrow(RangeError);
  });

  it('take() waits out the debt (bounded: 50 ms of debt at 1 kB/s)', async () => {
    const bucket = createTokenBucket(1000, { burstBytes: 1 });
    const started = performance.now();
    await bucket.take(1);
    await bucket.take(50);
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
    const controller = new AbortController();
    const waiting = bucket.take(10_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow();
  });

  it('the emulator throttle waits exactly as a GCRA with a burstMs tolerance would', () => {
    // The emulator's former implementation, kept here as the reference.
    const gcra = (rate: number, burstMs: number) => {
      let next = 0;
      return (bytes: number, now: number) => {
        const start = Math.max(now - burstMs, next);
        next = start + (bytes * 1000) / rate;
        return Math.max(0, next - now - burstMs);
      };
    };
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const [rate, burstMs] of [[1000, 0], [50_000, 20], [1_000_000, 20], [64 * 1024, 5]] as const) {
      const reference = gcra(rate, burstMs);
      const throttle = new EmulatorThrottle(rate, burstMs);
      let now = 1000 + rand() * 1000;
      for (let i = 0; i < 500; i++) {
        const bytes = Math.floor(rand() * 4096);
        now += rand() < 0.2 ? rand() * 200 : rand() * 2;
        expect(throttle.reserve(bytes, now)).toBeCloseTo(reference(bytes, now), 6);
      }
    }
  });
});
