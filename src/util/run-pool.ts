/**
 * Concurrency limiter for a list known up front (util/semaphore.ts is the other one, for work
 * that arrives over time). A fixed number of workers pulling indexes 0…count-1 in order: at most `limit` tasks exist at
 * once, whatever `count` is, so queued work costs O(limit) promises and closures instead of one
 * per item. `stop()` is asked before each pull (an aborted run stops pulling at once, without
 * walking the rest of the list). The pool does not catch: a task that rejects makes runPool reject
 * at once while the other workers go on pulling, so a task that must stop everything makes every
 * later task reject too (as `signal.throwIfAborted()` at its start does).
 */
export async function runPool(count: number, limit: number, task: (index: number) => Promise<void>, stop: () => boolean = () => false): Promise<number> {
  let next = 0;
  let started = 0;
  const worker = async (): Promise<void> => {
    while (next < count && !stop()) {
      const index = next++;
      started++;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(0, Math.min(limit, count)) }, worker));
  return started;
}
