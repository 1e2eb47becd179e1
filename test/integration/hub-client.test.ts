/**
 * The Hub client against real loopback servers. Two servers = two origins (Hub and CDN), so the
 * Authorization rule is checked on the headers the CDN actually received.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Dispatcher } from 'undici';
import { createDispatcher, createHubClient } from '../../src/hub/index.js';
import type { HubClientOptions } from '../../src/hub/index.js';
import { closedPort } from '../helpers/net.js';

const TOKEN = 'hf_integrationtoken0123456789';
const COMMIT = 'a'.repeat(40);
const SHA1 = 'b'.repeat(40);
const SHA256 = 'c'.repeat(64);
const model = { id: 'org/m', type: 'model' as const };

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, count: number) => void;

interface TestServer {
  url: string;
  requests: Recorded[];
  handle(handler: Handler): void;
  close(): Promise<void>;
}

async function startServer(): Promise<TestServer> {
  const requests: Recorded[] = [];
  let handler: Handler = (_req, res) => {
    res.statusCode = 500;
    res.end();
  };
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res, requests.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle(h) {
      handler = h;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

let hub: TestServer;
let cdn: TestServer;
let dispatcher: Dispatcher;

beforeAll(async () => {
  hub = await startServer();
  cdn = await startServer();
  dispatcher = createDispatcher(undefined);
});

afterAll(async () => {
  await dispatcher.close();
  await hub.close();
  await cdn.close();
});

afterEach(() => {
  hub.handle((_req, res) => res.writeHead(500).end());
  cdn.handle((_req, res) => res.writeHead(500).end());
});

function client(overrides: Partial<HubClientOptions> = {}) {
  return createHubClient({ endpoint: hub.url, token: TOKEN, dispatcher, baseDelayMs: 1, maxRetries: 3, timeoutMs: 5000, ...overrides });
}

async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown> & Error> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown> & Error;
  }
  throw new Error('expected a rejection');
}

describe('resolveRevision', () => {
  it('reads sha, gated and private, sending user-agent and the token to the Hub', async () => {
    hub.handle((_req, res) => json(res, 200, { id: 'org/m', sha: COMMIT, private: true, gated: 'manual', siblings: [] }));
    const info = await client().resolveRevision(model, 'refs/pr/1');
    expect(info).toEqual({ commit: COMMIT, gated: 'manual', private: true });
    expect(hub.requests).toHaveLength(1);
    expect(hub.requests[0]!.url).toBe('/api/models/org/m/revision/refs%2Fpr%2F1');
    expect(hub.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(hub.requests[0]!.headers['user-agent']).toMatch(/^mlcache\/\d+\.\d+\.\d+[^;]*; node\/\d+/);
  });

  it('skips the call for a 40-hex revision', async () => {
    hub.handle((_req, res) => json(res, 200, { sha: SHA1 }));
    expect((await client().resolveRevision(model, COMMIT)).commit).toBe(COMMIT);
    expect(hub.requests).toHaveLength(0);
  });

  it('rejects a response whose sha is not 40 hex with PROTOCOL', async () => {
    hub.handle((_req, res) => json(res, 200, { sha: 'main' }));
    const error = await rejection(client().resolveRevision(model, 'main'));
    expect(error.code).toBe('PROTOCOL');
    expect(error.message).toContain('sha');
  });

  it('sends no Authorization without a token', async () => {
    hub.handle((_req, res) => json(res, 200, { sha: COMMIT }));
    await client({ token: undefined }).resolveRevision(model, 'main');
    expect(hub.requests[0]!.headers.authorization).toBeUndefined();
  });
});

describe('redirects and the token', () => {
  it('stops at the redirect to another origin without requesting it: its Location, the Hub metadata, no token', async () => {
    const signed = `${cdn.url}/blobs/${SHA256}?X-Amz-Date=20240102T030405Z&X-Amz-Expires=3600&X-Amz-Signature=sig`;
    hub.handle((_req, res) => {
      res.writeHead(302, { location: signed, 'x-repo-commit': COMMIT, 'x-linked-etag': `"${SHA256}"`, 'x-linked-size': '12345', etag: '"pointer"' });
      res.end();
    });
    cdn.handle((_req, res) => res.writeHead(200, { 'content-length': '12345', etag: `"${SHA256}"` }).end());
    const resolved = await client().resolveFile(model, COMMIT, 'weights/model.safetensors');

    expect(hub.requests[0]!.method).toBe('HEAD');
    expect(hub.requests[0]!.url).toBe(`/org/m/resolve/${COMMIT}/weights/model.safetensors`);
    expect(hub.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(hub.requests[0]!.headers['accept-encoding']).toBe('identity');
    expect(hub.requests).toHaveLength(1);
    // huggingface_hub get_hf_file_metadata stops at the first absolute redirect: the CDN sees only the GET.
    expect(cdn.requests).toHaveLength(0);

    expect(resolved.url).toBe(signed);
    expect(resolved.headers.authorization).toBeUndefined();
    expect(resolved.headers['user-agent']).toMatch(/^mlcache\//);
    expect(resolved.commit).toBe(COMMIT);
    expect(resolved.etag).toBe(SHA256);
    expect(resolved.size).toBe(12345);
    expect(resolved.expiresAt).toBe(1704168245000);
  });

  it('a relative redirect (repo rename) keeps Authorization', async () => {
    hub.handle((req, res) => {
      if (req.url!.startsWith('/org/m/')) {
        res.writeHead(307, { location: req.url!.replace('/org/m/', '/org/renamed/') }).end();
        return;
      }
      res.writeHead(200, { 'x-repo-commit': COMMIT, etag: `W/"${SHA1}"`, 'content-length': '42' }).end();
    });
    const resolved = await client().resolveFile(model, COMMIT, 'config.json');
    expect(hub.requests.map((r) => r.url)).toEqual([`/org/m/resolve/${COMMIT}/config.json`, `/org/renamed/resolve/${COMMIT}/config.json`]);
    expect(hub.requests[1]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(resolved.url).toBe(`${hub.url}/org/renamed/resolve/${COMMIT}/config.json`);
    expect(resolved.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(resolved).toMatchObject({ etag: SHA1, size: 42, commit: COMMIT, expiresAt: undefined });
  });

  it('a CDN that refuses HEAD (URL signed for GET) is never asked: the URL and Hub metadata come from the redirect', async () => {
    hub.handle((_req, res) => res.writeHead(302, { location: `${cdn.url}/b?Expires=1704164645`, 'x-repo-commit': COMMIT, 'x-linked-etag': `"${SHA256}"`, 'x-linked-size': '7' }).end());
    cdn.handle((_req, res) => res.writeHead(403).end());
    const resolved = await client().resolveFile(model, COMMIT, 'x.bin');
    expect(resolved).toMatchObject({ url: `${cdn.url}/b?Expires=1704164645`, etag: SHA256, size: 7, expiresAt: 1704164645000 });
    expect(resolved.headers.authorization).toBeUndefined();
    expect(cdn.requests).toHaveLength(0);
  });

  it('follows a same-origin redirect, then stops at the CDN redirect (relative rename, then absolute)', async () => {
    hub.handle((req, res) => {
      if (req.url!.startsWith('/org/m/')) {
        res.writeHead(307, { location: req.url!.replace('/org/m/', '/org/renamed/') }).end();
        return;
      }
      res.writeHead(302, { location: `${cdn.url}/blob?X-Amz-Date=20240102T030405Z&X-Amz-Expires=60`, 'x-repo-commit': COMMIT, 'x-linked-etag': `"${SHA256}"`, 'x-linked-size': '99' }).end();
    });
    const resolved = await client().resolveFile(model, COMMIT, 'big.bin');
    expect(hub.requests.map((r) => r.url)).toEqual([`/org/m/resolve/${COMMIT}/big.bin`, `/org/renamed/resolve/${COMMIT}/big.bin`]);
    expect(hub.requests[1]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(cdn.requests).toHaveLength(0);
    expect(resolved).toMatchObject({ url: `${cdn.url}/blob?X-Amz-Date=20240102T030405Z&X-Amz-Expires=60`, etag: SHA256, size: 99, commit: COMMIT, expiresAt: 1704164705000 });
    expect(resolved.headers.authorization).toBeUndefined();
  });

  it('a redirect without X-Linked-Etag/X-Linked-Size yields no etag or size (the pointer ETag is not the file)', async () => {
    hub.handle((_req, res) => res.writeHead(302, { location: `${cdn.url}/b`, 'x-repo-commit': COMMIT, etag: '"pointer-sha1"', 'content-length': '134' }).end());
    const resolved = await client().resolveFile(model, COMMIT, 'x.bin');
    expect(resolved).toMatchObject({ url: `${cdn.url}/b`, etag: undefined, size: undefined, commit: COMMIT });
  });

  it('directFileSource: the resolve URL with Authorization and identity encoding, no request made', () => {
    const source = client().directFileSource(model, COMMIT, 'sub dir/config.json');
    expect(source.url).toBe(`${hub.url}/org/m/resolve/${COMMIT}/sub%20dir/config.json`);
    expect(source.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, 'accept-encoding': 'identity' });
    expect(source.headers['user-agent']).toMatch(/^mlcache\//);
    expect(hub.requests).toHaveLength(0);
    expect(client({ token: undefined }).directFileSource(model, COMMIT, 'x').headers.authorization).toBeUndefined();
  });

  it('gives up after 10 redirects with PROTOCOL', async () => {
    hub.handle((req, res) => res.writeHead(302, { location: `/loop${hub.requests.length}` }).end());
    const error = await rejection(client().resolveFile(model, COMMIT, 'x'));
    expect(error.code).toBe('PROTOCOL');
    expect(error.message).toMatch(/redirects/);
    expect(hub.requests).toHaveLength(11);
  });

  it('EntryNotFound on resolve names the file', async () => {
    hub.handle((_req, res) => res.writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-repo-commit': COMMIT }).end());
    const error = await rejection(client().resolveFile(model, COMMIT, 'missing.bin'));
    expect(error.code).toBe('ENTRY_NOT_FOUND');
    expect(error.message).toContain("'missing.bin' in model org/m");
    expect(hub.requests).toHaveLength(1);
  });
});

describe('listFiles', () => {
  const entry = (path: string, lfs = false) => ({
    type: 'file',
    path,
    size: lfs ? 1000 : 10,
    oid: SHA1,
    ...(lfs ? { lfs: { oid: SHA256, size: 1000, pointerSize: 134 } } : {}),
  });

  it('follows Link rel="next" over 3 pages (absolute and relative links) and keeps only files', async () => {
    hub.handle((req, res) => {
      const url = new URL(req.url!, hub.url);
      const cursor = url.searchParams.get('cursor');
      if (cursor === null) {
        json(res, 200, [entry('a.txt'), { type: 'directory', path: 'sub', oid: SHA1, size: 0 }], {
          link: `<${hub.url}/api/models/org/m/tree/${COMMIT}?recursive=true&expand=false&cursor=2>; rel="next"`,
        });
      } else if (cursor === '2') {
        json(res, 200, [entry('sub/b.bin', true)], { link: `</api/models/org/m/tree/${COMMIT}?recursive=true&expand=false&cursor=3>; rel="next"` });
      } else {
        json(res, 200, [{ ...entry('sub/c.json'), xetHash: 'x1' }]);
      }
    });
    const files = await client().listFiles(model, COMMIT);
    expect(files).toEqual([
      { path: 'a.txt', size: 10, oid: SHA1, lfs: undefined, xetHash: undefined },
      { path: 'sub/b.bin', size: 1000, oid: SHA1, lfs: { oid: SHA256, size: 1000 }, xetHash: undefined },
      { path: 'sub/c.json', size: 10, oid: SHA1, lfs: undefined, xetHash: 'x1' },
    ]);
    expect(hub.requests.map((r) => r.url)).toEqual([
      `/api/models/org/m/tree/${COMMIT}?recursive=true&expand=false`,
      `/api/models/org/m/tree/${COMMIT}?recursive=true&expand=false&cursor=2`,
      `/api/models/org/m/tree/${COMMIT}?recursive=true&expand=false&cursor=3`,
    ]);
    expect(hub.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('refuses a next link to another origin (the token would go there)', async () => {
    hub.handle((_req, res) => json(res, 200, [entry('a')], { link: `<${cdn.url}/api/models/org/m/tree/x?cursor=2>; rel="next"` }));
    const error = await rejection(client().listFiles(model, COMMIT));
    expect(error.code).toBe('PROTOCOL');
    expect(error.message).toMatch(/another origin/);
    expect(cdn.requests).toHaveLength(0);
  });

  it('detects a pagination loop', async () => {
    hub.handle((req, res) => json(res, 200, [entry('a')], { link: `<${hub.url}${req.url}>; rel="next"` }));
    const error = await rejection(client().listFiles(model, COMMIT));
    expect(error.code).toBe('PROTOCOL');
    expect(error.message).toMatch(/loops/);
    expect(hub.requests).toHaveLength(1);
  });

  it('rejects an invalid entry (bad lfs oid) with PROTOCOL naming the path', async () => {
    hub.handle((_req, res) => json(res, 200, [{ ...entry('w.bin', true), lfs: { oid: 'nothex', size: 1 } }]));
    const error = await rejection(client().listFiles(model, COMMIT));
    expect(error.code).toBe('PROTOCOL');
    expect(error.message).toContain('w.bin');
    expect(error.message).toContain('lfs.oid');
  });

  it('rejects a negative size', async () => {
    hub.handle((_req, res) => json(res, 200, [{ ...entry('w.bin'), size: -1 }]));
    expect((await rejection(client().listFiles(model, COMMIT))).code).toBe('PROTOCOL');
  });
});

describe('retries', () => {
  it('429 with Retry-After waits what the Hub asks (n + 1 s), then succeeds', async () => {
    hub.handle((_req, res, count) => {
      if (count === 1) json(res, 429, { error: 'slow down' }, { 'retry-after': '0' });
      else json(res, 200, { sha: COMMIT });
    });
    const retries: Array<{ delayMs: number; reason: string }> = [];
    const started = Date.now();
    const info = await client({ onRetry: (r) => retries.push(r) }).resolveRevision(model, 'main');
    expect(info.commit).toBe(COMMIT);
    expect(hub.requests).toHaveLength(2);
    expect(retries).toEqual([expect.objectContaining({ delayMs: 1000, reason: 'HTTP 429', attempt: 1 })]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('429 asking for longer than the cap fails at once with RATE_LIMITED and when to retry', async () => {
    hub.handle((_req, res) => json(res, 429, {}, { ratelimit: '"api";r=0;t=3600' }));
    const error = await rejection(client().resolveRevision(model, 'main'));
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfter).toBe(3601);
    expect(String(error.hint)).toMatch(/Run the command again after \d{4}-\d{2}-\d{2}T.*\(in 1 h 0 min\)/);
    expect(hub.requests).toHaveLength(1);
  });

  it('500 is retried with backoff, then succeeds', async () => {
    hub.handle((_req, res, count) => (count < 3 ? res.writeHead(500).end() : json(res, 200, { sha: COMMIT })));
    const retries: unknown[] = [];
    expect((await client({ onRetry: (r) => retries.push(r) }).resolveRevision(model, 'main')).commit).toBe(COMMIT);
    expect(hub.requests).toHaveLength(3);
    expect(retries).toHaveLength(2);
  });

  it('a persistent 503 fails with SERVER_ERROR after maxRetries + 1 attempts', async () => {
    hub.handle((_req, res) => res.writeHead(503, { 'x-request-id': 'req-42' }).end());
    const error = await rejection(client({ maxRetries: 2 }).resolveRevision(model, 'main'));
    expect(error.code).toBe('SERVER_ERROR');
    expect(error.requestId).toBe('req-42');
    expect(hub.requests).toHaveLength(3);
  });

  it('404 is not retried', async () => {
    hub.handle((_req, res) => json(res, 404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' }));
    const error = await rejection(client().resolveRevision(model, 'main'));
    expect(error.code).toBe('REPO_NOT_FOUND');
    expect(hub.requests).toHaveLength(1);
  });

  it.each([401, 403])('gated %i → GATED_REPO, not retried, hint names the repo page', async (status) => {
    hub.handle((_req, res) => json(res, status, { error: 'gated' }, { 'x-error-code': 'GatedRepo' }));
    const error = await rejection(client({ token: undefined }).resolveRevision({ id: 'org/d', type: 'dataset' }, 'main'));
    expect(error.code).toBe('GATED_REPO');
    expect(error.hint).toBe(`Accept the conditions at ${hub.url}/datasets/org/d, then pass a token with --token or HF_TOKEN.`);
    expect(hub.requests).toHaveLength(1);
  });
});

describe('network failures', () => {
  it('a closed port → NETWORK_REFUSED (after retries)', async () => {
    const retries: unknown[] = [];
    const c = createHubClient({ endpoint: await closedPort(), dispatcher, baseDelayMs: 1, maxRetries: 1, onRetry: (r) => retries.push(r) });
    const error = await rejection(c.resolveRevision(model, 'main'));
    expect(error.code).toBe('NETWORK_REFUSED');
    expect(error.systemCode).toBe('ECONNREFUSED');
    expect(retries).toHaveLength(1);
  });

  it('an unresolvable host → NETWORK_DNS', async () => {
    const c = createHubClient({ endpoint: 'http://nonexistent.invalid', dispatcher, maxRetries: 0 });
    const error = await rejection(c.resolveRevision(model, 'main'));
    expect(error.code).toBe('NETWORK_DNS');
    expect(String(error.hint)).toContain('nonexistent.invalid');
  });

  it('an abort signal stops a slow request promptly with the signal reason', async () => {
    hub.handle(() => {
      // Never answer.
    });
    const controller = new AbortController();
    const reason = new Error('user pressed Ctrl-C');
    setTimeout(() => controller.abort(reason), 100);
    const started = Date.now();
    const error = await rejection(client({ signal: controller.signal }).resolveRevision(model, 'main'));
    expect(error).toBe(reason);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('an abort during backoff stops the wait', async () => {
    hub.handle((_req, res) => res.writeHead(500).end());
    const controller = new AbortController();
    const started = Date.now();
    const c = client({ signal: controller.signal, baseDelayMs: 60_000, maxBackoffMs: 60_000, onRetry: () => controller.abort(new Error('stop')) });
    const error = await rejection(c.resolveRevision(model, 'main'));
    expect(error.message).toBe('stop');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a per-request timeout gives NETWORK_TIMEOUT', async () => {
    hub.handle(() => {
      // Never answer.
    });
    const error = await rejection(client({ timeoutMs: 150, maxRetries: 0 }).resolveRevision(model, 'main'));
    expect(error.code).toBe('NETWORK_TIMEOUT');
  });
});

describe('whoami', () => {
  it('returns the account name', async () => {
    hub.handle((_req, res) => json(res, 200, { name: 'alice', type: 'user', orgs: [] }));
    expect(await client().whoami()).toEqual({ name: 'alice', type: 'user' });
    expect(hub.requests[0]!.url).toBe('/api/whoami-v2');
  });

  it('401 → TOKEN_INVALID pointing at the settings page, without the token', async () => {
    hub.handle((_req, res) => json(res, 401, { error: 'Invalid credentials in Authorization header' }));
    const error = await rejection(client().whoami());
    expect(error.code).toBe('TOKEN_INVALID');
    expect(error.message).toBe(`The token was rejected by ${hub.url}.`);
    expect(error.hint).toContain(`${hub.url}/settings/tokens`);
    expect(`${error.message} ${String(error.hint)}`).not.toContain(TOKEN);
  });

  it('no token → TOKEN_MISSING without a request', async () => {
    const error = await rejection(client({ token: undefined }).whoami());
    expect(error.code).toBe('TOKEN_MISSING');
    expect(hub.requests).toHaveLength(0);
  });
});
