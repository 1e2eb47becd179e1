/**
 * A fixed number of workers pulling indexes 0…count-1 in order: at most `limit` tasks exist at
 * once, whatever `count` is, so queued work costs O(limit) promises and closures instead of one
 * per item. `stop()` is asked before each pull (an aborted run stops pulling at once, without
 * walking the rest of the list). A task must not reject: the pool does not catch.
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
