/**
 * A counting semaphore with a FIFO queue; `urgent` waiters (ranges coming back from a retry, so a
 * file does not stall at 99 %) go to the front. Aborting a waiter removes it from the queue.
 */
export interface Semaphore {
  acquire(options?: { urgent?: boolean; signal?: AbortSignal }): Promise<() => void>;
  readonly inUse: number;
  readonly waiting: number;
}

export function createSemaphore(limit: number): Semaphore {
  if (!(limit >= 1)) throw new RangeError('limit must be at least 1');
  let inUse = 0;
  const queue: Array<() => void> = [];
  const releaser = () => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = queue.shift();
      if (next) next();
      else inUse--;
    };
  };
  return {
    get inUse() {
      return inUse;
    },
    get waiting() {
      return queue.length;
    },
    acquire(options = {}) {
      const { signal } = options;
      if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      if (inUse < limit) {
        inUse++;
        return Promise.resolve(releaser());
      }
      return new Promise((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(releaser());
        };
        const onAbort = () => {
          const index = queue.indexOf(grant);
          if (index >= 0) queue.splice(index, 1);
          reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        if (options.urgent) queue.unshift(grant);
        else queue.push(grant);
      });
    },
  };
}
