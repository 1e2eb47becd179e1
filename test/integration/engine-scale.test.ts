/**
 * O(1) bookkeeping per queued file. Thousands of items handed to one engine at once must not put
 * a listener per item on any shared AbortSignal (Node checks each new listener against all the
 * others: 200,000 queued files spent 90 s in addEventListener before the first request, and Ctrl-C
 * took minutes), must not print a runtime warning, and an abort must settle every one of them at
 * once. The listener count is read from the real EventTarget methods, so any signal the engine,
 * the semaphores or undici use is counted.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTransferEngine, type TransferItem } from '../../src/download/index.js';
import { startOrigin, type Origin } from '../helpers/hostile-hub.js';
import { tempDir, testAgent } from '../helpers/transfer-items.js';
import { gitBlobSha1 as gitSha1 } from '../helpers/cache-repo.js';

const N = 5000;
const CONNECTIONS = 16;

const content = (i: number) => Buffer.from(`file ${i}\n`);

let origin: Origin;
let inFlight = 0;
let maxInFlight = 0;
const listeners = new Map<EventTarget, number>();
let maxListeners = 0;
const warnings: string[] = [];
const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
// The real methods, called with their target below (this test counts listeners through them).
// eslint-disable-next-line @typescript-eslint/unbound-method
const add = EventTarget.prototype.addEventListener;
// eslint-disable-next-line @typescript-eslint/unbound-method
const remove = EventTarget.prototype.removeEventListener;

beforeEach(async () => {
  origin = await startOrigin((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const i = Number(/^\/f\/(\d+)$/.exec(req.url ?? '')?.[1]);
    // A little latency so that work really queues behind the connection budget.
    setTimeout(() => {
      inFlight--;
      const body = content(i);
      res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    }, 2);
  });
  EventTarget.prototype.addEventListener = function (this: EventTarget, type: string, ...rest: unknown[]) {
    if (type === 'abort' && this instanceof AbortSignal) {
      const n = (listeners.get(this) ?? 0) + 1;
      listeners.set(this, n);
      maxListeners = Math.max(maxListeners, n);
    }
    return (add as (...a: unknown[]) => void).call(this, type, ...rest);
  };
  EventTarget.prototype.removeEventListener = function (this: EventTarget, type: string, ...rest: unknown[]) {
    if (type === 'abort' && this instanceof AbortSignal) listeners.set(this, Math.max(0, (listeners.get(this) ?? 0) - 1));
    return (remove as (...a: unknown[]) => void).call(this, type, ...rest);
  };
  process.on('warning', onWarning);
});
afterEach(async () => {
  EventTarget.prototype.addEventListener = add;
  EventTarget.prototype.removeEventListener = remove;
  process.off('warning', onWarning);
  await origin.close();
});

describe('transfer engine at scale', () => {
  it(`${N} queued files: bounded listeners per signal, bounded connections, no warning, and an abort settles them all at once`, async () => {
    const dir = await tempDir();
    const controller = new AbortController();
    const engine = createTransferEngine({ dispatcher: testAgent(), connections: CONNECTIONS, signal: controller.signal });
    const items: TransferItem[] = Array.from({ length: N }, (_, i) => ({
      id: `f${i}`,
      label: `file ${i}`,
      size: content(i).length,
      digest: { algorithm: 'git-sha1', hex: gitSha1(content(i)) },
      destination: path.join(dir, `blob${i}`),
      resolve: () => Promise.resolve({ url: `${origin.url}/f/${i}`, headers: {} }),
    }));
    let done = 0;
    const outcomes = items.map((item) =>
      engine.download(item).then(
        () => {
          done++;
          return 'ok';
        },
        (e: { code?: string }) => e.code ?? 'unknown',
      ),
    );
    while (done < 300) await new Promise((r) => setTimeout(r, 10));
    const abortedAt = Date.now();
    controller.abort();
    const settled = await Promise.all(outcomes);
    const settleMs = Date.now() - abortedAt;
    await engine.close();

    expect(settled.filter((o) => o === 'ok').length).toBeGreaterThanOrEqual(300);
    expect(settled.every((o) => o === 'ok' || o === 'INTERRUPTED')).toBe(true);
    expect(settled.filter((o) => o === 'INTERRUPTED').length).toBeGreaterThan(N / 2);
    // Per-item state lives only while an item holds a slot: no signal ever carries more than a
    // connection budget's worth of listeners (a listener per queued item would be ~N here).
    expect(maxListeners).toBeLessThanOrEqual(CONNECTIONS + 8);
    expect(maxInFlight).toBeLessThanOrEqual(CONNECTIONS);
    expect(warnings).toEqual([]);
    // The queue is dropped in one pass, not file by file behind the running ones.
    expect(settleMs).toBeLessThan(2000);
  }, 60_000);
});
