import { describe, expect, it } from 'vitest';
import { createSemaphore } from '../../../src/util/semaphore.js';

describe('semaphore', () => {
  it('limits concurrency, serves FIFO, and lets urgent waiters jump the queue', async () => {
    const sem = createSemaphore(1);
    const order: string[] = [];
    const first = await sem.acquire();
    const a = sem.acquire().then((r) => (order.push('a'), r));
    const b = sem.acquire().then((r) => (order.push('b'), r));
    const u = sem.acquire({ urgent: true }).then((r) => (order.push('urgent'), r));
    expect(sem.waiting).toBe(3);
    first();
    (await u)();
    (await a)();
    (await b)();
    expect(order).toEqual(['urgent', 'a', 'b']);
    expect(sem.inUse).toBe(0);
  });

  it('an aborted waiter leaves the queue', async () => {
    const sem = createSemaphore(1);
    const held = await sem.acquire();
    const controller = new AbortController();
    const waiting = sem.acquire({ signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    expect(sem.waiting).toBe(0);
    held();
    expect(sem.inUse).toBe(0);
  });
});

describe('semaphore: limits', () => {
  it('never lets more than `limit` holders in, and a double release frees one slot only', async () => {
    const sem = createSemaphore(2);
    const a = await sem.acquire();
    await sem.acquire();
    let third = false;
    const c = sem.acquire().then((r) => ((third = true), r));
    await new Promise((resolve) => setImmediate(resolve));
    expect(third).toBe(false);
    a();
    a();
    (await c)();
    expect(sem.inUse).toBe(1);
    expect(() => createSemaphore(0)).toThrow(RangeError);
  });
});
