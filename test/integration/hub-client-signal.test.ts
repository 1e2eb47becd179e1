/**
 * Listener hygiene on the caller's AbortSignal: the Hub client adds ONE abort listener per client
 * while requests are in flight, not one per request. Node prints MaxListenersExceededWarning when
 * more than ten are attached, and the engine resolves up to 16 files at once through the client.
 */
import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { MlcacheError } from '../../src/errors.js';
import { createHubClient } from '../../src/hub/index.js';

const COMMIT = 'c'.repeat(40);
const model = { id: 'org/m', type: 'model' as const };
const N = 40;

/**
 * Holds every HEAD until `N` of them have arrived (so all are in flight at once), calls
 * `onAllWaiting`, then answers: the first round with 503 (a retry pause for each), the second 200.
 */
function startGate(onAllWaiting: (round: number) => void | Promise<void>) {
  let held: http.ServerResponse[] = [];
  let round = 0;
  const server = http.createServer((_req, res) => {
    held.push(res);
    if (held.length < N) return;
    const batch = held;
    held = [];
    round++;
    const current = round;
    void Promise.resolve(onAllWaiting(current)).then(() => {
      for (const r of batch) {
        if (current === 1) r.writeHead(503).end();
        else r.writeHead(200, { etag: '"abc"', 'content-length': '3', 'x-repo-commit': COMMIT }).end();
      }
    });
  });
  return server;
}

let server: http.Server;
let dispatcher: Agent;
const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);

beforeEach(() => {
  warnings.length = 0;
  process.on('warning', onWarning);
  dispatcher = new Agent({ connections: N });
});
afterEach(async () => {
  process.off('warning', onWarning);
  await dispatcher.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function listen(s: http.Server): Promise<string> {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe('the Hub client on one shared signal', () => {
  it(`${N} concurrent resolves (requests and retry pauses) keep at most one abort listener on it, and none after`, async () => {
    const controller = new AbortController();
    const counts: number[] = [];
    const sleeping: number[] = [];
    server = startGate((round) => {
      counts.push(getEventListeners(controller.signal, 'abort').length);
      if (round === 1) {
        // Once the 503s are answered, all N clients pause before their retry: count then too.
        setTimeout(() => sleeping.push(getEventListeners(controller.signal, 'abort').length), 40);
      }
    });
    const endpoint = await listen(server);
    const client = createHubClient({ endpoint, dispatcher, signal: controller.signal, baseDelayMs: 300, maxBackoffMs: 300 });
    const results = await Promise.all(Array.from({ length: N }, (_, i) => client.resolveFile(model, COMMIT, `f${i}.bin`)));
    expect(results.map((r) => r.size)).toEqual(Array.from({ length: N }, () => 3));
    expect(counts).toEqual([1, 1]);
    expect(sleeping).toEqual([1]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(warnings.map((w) => w.name)).toEqual([]);
  });

  it('aborting the shared signal stops every in-flight request with its reason, and leaves no listener', async () => {
    const controller = new AbortController();
    const reason = new MlcacheError('INTERRUPTED', 'Interrupted (SIGTERM).');
    server = startGate(() => {
      controller.abort(reason);
      return new Promise(() => undefined); // never answer: only the abort can end the requests
    });
    const endpoint = await listen(server);
    const client = createHubClient({ endpoint, dispatcher, signal: controller.signal });
    const settled = await Promise.allSettled(Array.from({ length: N }, (_, i) => client.resolveFile(model, COMMIT, `f${i}.bin`)));
    expect(settled.every((s) => s.status === 'rejected' && s.reason === reason)).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(warnings.map((w) => w.name)).toEqual([]);
  });
});
