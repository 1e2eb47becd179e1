/**
 * A global token bucket in bytes/s shared by every connection (`--max-rate`). Consumers take the
 * bytes they just received; when the bucket runs into debt they wait, which stops reading from
 * the socket and lets TCP flow control slow the sender. Time is injectable for tests.
 */
import { sleep } from '../util/net.js';

export interface TokenBucket {
  /** Account for `bytes`; resolves when the caller may continue. */
  take(bytes: number, signal?: AbortSignal): Promise<void>;
  /** Milliseconds the caller would have to wait after taking `bytes` now (pure accounting). */
  reserve(bytes: number): number;
}

export function createTokenBucket(
  bytesPerSecond: number,
  options: { burstBytes?: number; now?: () => number } = {},
): TokenBucket {
  if (!(bytesPerSecond > 0)) throw new RangeError('bytesPerSecond must be positive');
  const now = options.now ?? (() => performance.now());
  // A quarter second of burst keeps the rate smooth without starving parallel connections.
  const capacity = options.burstBytes ?? Math.max(64 * 1024, bytesPerSecond / 4);
  let tokens = capacity;
  let last = now();
  const reserve = (bytes: number): number => {
    const t = now();
    tokens = Math.min(capacity, tokens + ((t - last) / 1000) * bytesPerSecond);
    last = t;
    tokens -= bytes;
    return tokens >= 0 ? 0 : (-tokens / bytesPerSecond) * 1000;
  };
  return {
    reserve,
    async take(bytes, signal) {
      const wait = reserve(bytes);
      if (wait > 0) await sleep(Math.ceil(wait), signal);
    },
  };
}
