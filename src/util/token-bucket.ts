/**
 * The one token bucket, in bytes/s. It holds at most `burstBytes` tokens and refills at
 * `bytesPerSecond`; `reserve(n)` takes n tokens at once — the balance may go negative (debt) — and
 * returns how long the caller must wait until the debt is paid (0 while tokens remain). `take`
 * is reserve + that wait.
 *
 * Users: the transfer engine's `--max-rate`, one bucket shared by every connection (consumers take
 * the bytes they just received; waiting stops reading from the socket, so TCP flow control slows
 * the sender), and the Hub emulator's throttles (emulator/faults.ts, which lets one burst of debt
 * through before waiting). Time is injectable for tests.
 */
import { sleep } from './net.js';

export interface TokenBucket {
  /** The refill rate it was made with. */
  readonly bytesPerSecond: number;
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
    bytesPerSecond,
    reserve,
    async take(bytes, signal) {
      const wait = reserve(bytes);
      if (wait > 0) await sleep(Math.ceil(wait), signal);
    },
  };
}
