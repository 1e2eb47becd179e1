/**
 * Proxies that fail: every way a CONNECT can go wrong ends in NETWORK_PROXY, naming the proxy's
 * host:port and never its password, after a small bounded number of CONNECTs.
 *
 * The bug this pins: a proxy that reads the CONNECT and closes the connection without answering
 * made undici's client reconnect at once, forever (UND_ERR_SOCKET counts as recoverable in
 * undici's client.js onError) — 192,076 CONNECTs in 60 s against a loopback proxy.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request, type Dispatcher } from 'undici';
import { NetworkError } from '../../src/errors.js';
import { createDispatcher, createHubClient } from '../../src/hub/index.js';
import { classifyNetworkError, isRetryableNetworkError, networkRetryLimit } from '../../src/util/net.js';
import { brokenProxyUrl, type BrokenProxy, type BrokenProxyMode } from '../helpers/broken-proxy.js';

const PASSWORD = 'pr0xy-s3cret-pw';
const model = { id: 'org/m', type: 'model' as const };
/** The proxy never connects anywhere, so the target needs no DNS: the name stays with the proxy. */
const ENDPOINT = 'https://hub.invalid';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

interface Setup {
  proxy: BrokenProxy | undefined;
  proxyUrl: string;
  port: string;
  dispatcher: Dispatcher;
}

async function setup(mode: BrokenProxyMode | 'refused', connectTimeoutMs = 2000): Promise<Setup> {
  const { proxy, bare, proxyUrl } = await brokenProxyUrl(mode, 'alice', PASSWORD);
  if (proxy) cleanups.push(() => proxy.close());
  const dispatcher = createDispatcher({ http: proxyUrl, https: proxyUrl, noProxy: undefined }, { connectTimeoutMs });
  cleanups.push(() => dispatcher.destroy());
  return { proxy, proxyUrl, port: new URL(bare).port, dispatcher };
}

const CASES: Array<{ mode: BrokenProxyMode | 'refused'; message: RegExp; retryable: boolean }> = [
  { mode: 'close', message: /closed the connection without answering CONNECT hub\.invalid:443/, retryable: true },
  { mode: '502', message: /refused to open a tunnel to hub\.invalid:443 \(it answered CONNECT with 502\)/, retryable: true },
  { mode: 'garbage', message: /answered CONNECT hub\.invalid:443 with something that is not HTTP/, retryable: true },
  { mode: 'hang', message: /did not answer CONNECT hub\.invalid:443 in time/, retryable: true },
  { mode: 'refused', message: /refused the connection \(ECONNREFUSED\)/, retryable: true },
  { mode: '407', message: /rejected the credentials in the proxy URL \(407 Proxy Authentication Required\)/, retryable: false },
  { mode: 'plain-for-tls', message: /TLS handshake with the proxy 127\.0\.0\.1:\d+ failed/, retryable: false },
];

describe('the Hub client behind a broken proxy', () => {
  it.each(CASES)('$mode → NETWORK_PROXY naming the proxy, bounded, no password', async ({ mode, message, retryable }) => {
    const { proxy, port, dispatcher } = await setup(mode, 500);
    const retries: string[] = [];
    const client = createHubClient({
      endpoint: ENDPOINT,
      dispatcher,
      baseDelayMs: 20,
      maxBackoffMs: 100,
      onRetry: (info) => retries.push(info.reason),
    });
    const started = Date.now();
    const error = await client.resolveRevision(model, 'main').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toBeInstanceOf(NetworkError);
    const e = error as NetworkError;
    expect(e.code).toBe('NETWORK_PROXY');
    expect(e.message).toMatch(message);
    expect(e.message).toContain(`127.0.0.1:${port}`);
    expect(JSON.stringify({ message: e.message, hint: e.hint, details: e.details, systemCode: e.systemCode })).not.toContain(PASSWORD);
    // One attempt for a deterministic answer; 1 + the short budget (2 retries) otherwise.
    expect(retries).toHaveLength(retryable ? 2 : 0);
    if (proxy) {
      // Let any runaway reconnect loop show itself before counting.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(proxy.connects).toBe(retryable ? 3 : 1);
    }
  });

  it('sends the credentials from the proxy URL (the 407 case is about rejected ones)', async () => {
    const { proxy, dispatcher } = await setup('407');
    await createHubClient({ endpoint: ENDPOINT, dispatcher }).resolveRevision(model, 'main').catch(() => undefined);
    const expected = Buffer.from(`alice:${PASSWORD}`).toString('base64');
    expect(proxy!.heads[0]).toMatch(new RegExp(`^proxy-authorization: Basic ${expected}$`, 'im'));
  });
});

describe('what the transfer engine sees through the same dispatcher', () => {
  it.each(CASES)('$mode: one request → one CONNECT, classified NETWORK_PROXY with the short retry budget', async ({ mode, retryable }) => {
    const { proxy, port, dispatcher } = await setup(mode, 500);
    const error = await request(`${ENDPOINT}/org/m/resolve/main/model.bin`, { dispatcher }).then(
      async (response) => {
        await response.body.dump();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeDefined();
    // src/download/fetch-range.ts classifies with the host only: the proxy is typed on the error.
    const classified = classifyNetworkError(error, 'hub.invalid');
    expect(classified.code).toBe('NETWORK_PROXY');
    expect(classified.message).toContain(`127.0.0.1:${port}`);
    expect(isRetryableNetworkError(classified)).toBe(retryable);
    expect(networkRetryLimit(classified, 8)).toBe(2);
    if (proxy) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(proxy.connects).toBe(1);
    }
    // Nothing stays queued behind the failed CONNECT: the dispatcher closes at once.
    await expect(Promise.race([dispatcher.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('stuck'), 3000))])).resolves.toBe('closed');
  });
});
