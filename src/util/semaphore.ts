/**
 * Concurrency limiter for work that arrives over time (util/run-pool.ts is the other one, for a
 * list known up front): at most `limit` holders at once, each `acquire()` resolves to a release
 * function (calling it twice is harmless). A counting semaphore with a FIFO queue; `urgent` waiters (ranges coming back from a retry, so a
 * file does not stall at 99 %) go to the front.
 *
 * Every operation is O(1): waiters sit in two insertion-ordered Sets (urgent, normal), so a
 * cancelled waiter leaves in O(1) instead of an indexOf + splice over the whole queue. A waiter's
 * `signal` gets one listener for as long as it waits; the engine only passes signals whose
 * waiters are bounded (an item's own ranges, at most `connections` of them), never a signal
 * shared by every queued file — Node checks each new listener against all existing ones, which is
 * what made 200,000 queued files O(n²) before the first request (docs/download.md).
 */
export interface Semaphore {
  acquire(options?: { urgent?: boolean; signal?: AbortSignal }): Promise<() => void>;
  readonly inUse: number;
  readonly waiting: number;
}

type Grant = () => void;

function abortReason(signal: AbortSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new Error('aborted');
}

export function createSemaphore(limit: number): Semaphore {
  if (!(limit >= 1)) throw new RangeError('limit must be at least 1');
  let inUse = 0;
  const urgent = new Set<Grant>();
  const normal = new Set<Grant>();
  const next = (): Grant | undefined => {
    for (const queue of [urgent, normal]) {
      const first = queue.values().next();
      if (!first.done) {
        queue.delete(first.value);
        return first.value;
      }
    }
    return undefined;
  };
  const releaser = () => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const grant = next();
      if (grant) grant();
      else inUse--;
    };
  };
  return {
    get inUse() {
      return inUse;
    },
    get waiting() {
      return urgent.size + normal.size;
    },
    acquire(options = {}) {
      const { signal } = options;
      if (signal?.aborted) return Promise.reject(abortReason(signal));
      if (inUse < limit) {
        inUse++;
        return Promise.resolve(releaser());
      }
      return new Promise((resolve, reject) => {
        const queue = options.urgent ? urgent : normal;
        const grant: Grant = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(releaser());
        };
        const onAbort = () => {
          queue.delete(grant);
          reject(abortReason(signal));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.add(grant);
      });
    },
  };
}
