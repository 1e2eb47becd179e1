/**
 * How files get their URLs (src/snapshot/file-source.ts with the real Hub client and engine):
 * regular files GET the Hub's resolve URL directly, a 3xx to that GET is never followed (the
 * request carried the token) but leads to a fresh resolve; LFS files are resolved ahead of the
 * connection budget, at most `connections` at a time.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTransferEngine } from '../../src/download/index.js';
import type { TransferItem } from '../../src/download/index.js';
import { createHubClient } from '../../src/hub/index.js';
import { fileSource } from '../../src/snapshot/index.js';
import { collectEvents, tempDir, testAgent } from '../helpers/transfer-items.js';
import { gitBlobSha1 as gitSha1, sha256Hex as sha256 } from '../helpers/cache-repo.js';

const COMMIT = 'c'.repeat(40);
const TOKEN = 'hf_redirect_test_token_123';
const repo = { id: 'org/m', type: 'model' as const };

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  at: number;
}

interface Server {
  url: string;
  requests: Seen[];
  handle(fn: (req: http.IncomingMessage, res: http.ServerResponse) => unknown): void;
  close(): Promise<void>;
}

async function startServer(): Promise<Server> {
  let handler: (req: http.IncomingMessage, res: http.ServerResponse) => unknown = (_req, res) => res.writeHead(500).end();
  const requests: Seen[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '', headers: req.headers, at: performance.now() });
    void Promise.resolve(handler(req, res)).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle: (fn) => (handler = fn),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answer a GET with `bytes`, honouring a `bytes=a-b` Range exactly. */
function serveBytes(req: http.IncomingMessage, res: http.ServerResponse, bytes: Buffer): void {
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  if (!m) {
    res.writeHead(200, { 'content-length': String(bytes.length) }).end(bytes);
    return;
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  res.writeHead(206, { 'content-length': String(end - start + 1), 'content-range': `bytes ${start}-${end}/${bytes.length}` }).end(bytes.subarray(start, end + 1));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let hub: Server;
let cdn: Server;
beforeEach(async () => {
  hub = await startServer();
  cdn = await startServer();
});
afterEach(async () => {
  await hub.close();
  await cdn.close();
});

async function setup(connections = 4) {
  const dir = await tempDir();
  const dispatcher = testAgent();
  const client = createHubClient({ endpoint: hub.url, token: TOKEN, dispatcher, baseDelayMs: 1, maxRetries: 0 });
  const ev = collectEvents();
  const engine = createTransferEngine({ dispatcher, connections, onEvent: ev.onEvent, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  const item = (file: string, bytes: Buffer, lfs: boolean): TransferItem => ({
    id: file,
    label: file,
    size: bytes.length,
    digest: lfs ? { algorithm: 'sha256', hex: sha256(bytes) } : { algorithm: 'git-sha1', hex: gitSha1(bytes) },
    destination: path.join(dir, file),
    resolve: fileSource(client, repo, COMMIT, { path: file, lfs }),
  });
  return { dir, engine, ev, item };
}

describe('regular files: a direct GET on the Hub', () => {
  it('costs one request to the Hub (no HEAD), with the token, a strict range and identity encoding', async () => {
    const bytes = randomBytes(5000);
    hub.handle((req, res) => (req.method === 'GET' ? serveBytes(req, res, bytes) : res.writeHead(500).end()));
    const { dir, engine, item } = await setup();
    await engine.download(item('config.json', bytes, false));
    await engine.close();

    expect((await readFile(path.join(dir, 'config.json'))).equals(bytes)).toBe(true);
    expect(hub.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`GET /org/m/resolve/${COMMIT}/config.json`]);
    expect(hub.requests[0]!.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, range: 'bytes=0-4999', 'accept-encoding': 'identity' });
    expect(cdn.requests).toHaveLength(0);
  });

  it('a 3xx is not followed with the token: the URL is resolved again (HEAD) and the CDN gets a GET without Authorization', async () => {
    const bytes = randomBytes(7000);
    const location = `${cdn.url}/blob?X-Amz-Date=20990101T000000Z&X-Amz-Expires=3600`;
    hub.handle((req, res) => {
      res.writeHead(302, { location, 'x-repo-commit': COMMIT, 'x-linked-etag': `"${sha256(bytes)}"`, 'x-linked-size': String(bytes.length) }).end();
    });
    cdn.handle((req, res) => serveBytes(req, res, bytes));
    const { dir, engine, ev, item } = await setup();
    // Planned as a regular file (the direct GET), but the Hub redirects it: verified as git-sha1.
    await engine.download(item('weights.bin', bytes, false));
    await engine.close();

    expect((await readFile(path.join(dir, 'weights.bin'))).equals(bytes)).toBe(true);
    expect(hub.requests.map((r) => r.method)).toEqual(['GET', 'HEAD']);
    for (const r of hub.requests) expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(cdn.requests).toHaveLength(1);
    expect(cdn.requests[0]!.method).toBe('GET');
    expect(cdn.requests[0]!.url).toBe('/blob?X-Amz-Date=20990101T000000Z&X-Amz-Expires=3600');
    expect(cdn.requests[0]!.headers.authorization).toBeUndefined();
    expect(JSON.stringify(cdn.requests[0]!.headers)).not.toContain(TOKEN);
    const retries = ev.of('retry');
    expect(retries).toHaveLength(1);
    expect(retries[0]!.reason).toMatch(/^HTTP 302: redirected/);
  });

  it('a redirect from the freshly resolved URL too is final (PROTOCOL), not followed and not a loop', async () => {
    const bytes = randomBytes(3000);
    hub.handle((req, res) => res.writeHead(302, { location: `${cdn.url}/blob`, 'x-repo-commit': COMMIT, 'x-linked-etag': `"${sha256(bytes)}"`, 'x-linked-size': '3000' }).end());
    cdn.handle((req, res) => res.writeHead(302, { location: `${hub.url}/elsewhere` }).end());
    const { engine, item } = await setup();
    await expect(engine.download(item('x.bin', bytes, false))).rejects.toMatchObject({ code: 'PROTOCOL' });
    await engine.close();
    expect(hub.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`GET /org/m/resolve/${COMMIT}/x.bin`, `HEAD /org/m/resolve/${COMMIT}/x.bin`]);
    expect(cdn.requests).toHaveLength(1);
  });
});

describe('LFS files: resolved ahead of the connection budget', () => {
  it('the next file is resolved while the current one downloads, on a budget of one connection', async () => {
    const files = [randomBytes(4000), randomBytes(4000), randomBytes(4000)];
    const heads = () => hub.requests.filter((r) => r.method === 'HEAD').length;
    hub.handle((req, res) => {
      const index = Number(/file-(\d)/.exec(req.url ?? '')![1]);
      res.writeHead(302, { location: `${cdn.url}/file-${index}`, 'x-repo-commit': COMMIT, 'x-linked-etag': `"${sha256(files[index]!)}"`, 'x-linked-size': '4000' }).end();
    });
    const overlapped: boolean[] = [];
    cdn.handle(async (req, res) => {
      const index = Number(/file-(\d)/.exec(req.url ?? '')![1]);
      // Hold the body until the next file's HEAD arrived (or give up after 3 s).
      const deadline = performance.now() + 3000;
      while (heads() < Math.min(index + 2, files.length) && performance.now() < deadline) await sleep(5);
      overlapped.push(heads() >= Math.min(index + 2, files.length));
      serveBytes(req, res, files[index]!);
    });
    const { engine, item } = await setup(1);
    await Promise.all(files.map((bytes, i) => engine.download(item(`file-${i}.bin`, bytes, true))));
    await engine.close();

    expect(overlapped).toEqual([true, true, true]);
    expect(heads()).toBe(3);
    expect(hub.requests.every((r) => r.method === 'HEAD')).toBe(true);
    expect(cdn.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('at most `connections` resolves run at once', async () => {
    const files = Array.from({ length: 8 }, () => randomBytes(1000));
    let inFlight = 0;
    let maxInFlight = 0;
    hub.handle(async (req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(30);
      inFlight--;
      const index = Number(/file-(\d)/.exec(req.url ?? '')![1]);
      res.writeHead(302, { location: `${cdn.url}/file-${index}`, 'x-repo-commit': COMMIT, 'x-linked-etag': `"${sha256(files[index]!)}"`, 'x-linked-size': '1000' }).end();
    });
    cdn.handle((req, res) => serveBytes(req, res, files[Number(/file-(\d)/.exec(req.url ?? '')![1])]!));
    const { engine, item } = await setup(2);
    await Promise.all(files.map((bytes, i) => engine.download(item(`file-${i}.bin`, bytes, true))));
    await engine.close();
    expect(maxInFlight).toBe(2);
    expect(hub.requests).toHaveLength(8);
  });

  it('a failed resolve fails its item once (no second resolve), other items unaffected', async () => {
    const good = randomBytes(2000);
    hub.handle((req, res) => {
      if (req.url!.includes('missing')) {
        res.writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-repo-commit': COMMIT }).end();
        return;
      }
      res.writeHead(302, { location: `${cdn.url}/good`, 'x-repo-commit': COMMIT, 'x-linked-etag': `"${sha256(good)}"`, 'x-linked-size': '2000' }).end();
    });
    cdn.handle((req, res) => serveBytes(req, res, good));
    const { engine, item } = await setup(1);
    const [missing, ok] = await Promise.allSettled([engine.download(item('missing.bin', good, true)), engine.download(item('good.bin', good, true))]);
    await engine.close();
    expect(missing).toMatchObject({ status: 'rejected', reason: { code: 'ENTRY_NOT_FOUND' } });
    expect(ok.status).toBe('fulfilled');
    expect(hub.requests.filter((r) => r.url.includes('missing'))).toHaveLength(1);
  });
});
