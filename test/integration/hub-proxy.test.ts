/**
 * Proxy support: a tiny HTTP proxy on loopback (CONNECT tunnels and absolute-form requests)
 * proves requests go through it when the Settings say so, NO_PROXY bypasses it, and proxy
 * failures classify as NETWORK_PROXY. process.env is never touched: settings are explicit.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dispatcher } from 'undici';
import { createDispatcher, createHubClient } from '../../src/hub/index.js';
import { closedPort } from '../helpers/net.js';

const COMMIT = 'd'.repeat(40);
const model = { id: 'org/m', type: 'model' as const };

interface Proxy {
  url: string;
  /** `CONNECT host:port` or `GET http://…` lines seen. */
  seen: string[];
  /** When set, every request is answered with this status instead of being forwarded. */
  refuseWith: number | undefined;
  close(): Promise<void>;
}

async function startProxy(): Promise<Proxy> {
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();
  const state: { refuseWith: number | undefined } = { refuseWith: undefined };
  const server = http.createServer((req, res) => {
    // Absolute-form request: forward it.
    seen.push(`${req.method} ${req.url}`);
    if (state.refuseWith) {
      res.writeHead(state.refuseWith, { 'proxy-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    const target = new URL(req.url!);
    const upstream = http.request(target, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (state.refuseWith) {
      client.end(`HTTP/1.1 ${state.refuseWith} Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const proxy: Proxy = {
    url: `http://127.0.0.1:${port}`,
    seen,
    get refuseWith() {
      return state.refuseWith;
    },
    set refuseWith(v) {
      state.refuseWith = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return proxy;
}

let hub: http.Server;
let hubUrl: string;
let hubPort: number;
let hubRequests = 0;
let proxy: Proxy;
const dispatchers: Dispatcher[] = [];

beforeAll(async () => {
  hub = http.createServer((_req, res) => {
    hubRequests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sha: COMMIT }));
  });
  await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
  hubPort = (hub.address() as AddressInfo).port;
  hubUrl = `http://127.0.0.1:${hubPort}`;
  proxy = await startProxy();
});

afterAll(async () => {
  await Promise.all(dispatchers.map((d) => d.close()));
  await proxy.close();
  hub.closeAllConnections();
  await new Promise<void>((resolve) => hub.close(() => resolve()));
});

function clientVia(proxySettings: { http: string | undefined; https: string | undefined; noProxy: string | undefined }) {
  const dispatcher = createDispatcher(proxySettings);
  dispatchers.push(dispatcher);
  return createHubClient({ endpoint: hubUrl, dispatcher, maxRetries: 0, timeoutMs: 5000 });
}

describe('proxy settings', () => {
  it('requests go through HTTP_PROXY when it is set', async () => {
    proxy.seen.length = 0;
    hubRequests = 0;
    const info = await clientVia({ http: proxy.url, https: undefined, noProxy: undefined }).resolveRevision(model, 'main');
    expect(info.commit).toBe(COMMIT);
    expect(proxy.seen).toEqual([`CONNECT 127.0.0.1:${hubPort}`]);
    expect(hubRequests).toBe(1);
  });

  it('NO_PROXY bypasses the proxy (host:port entry)', async () => {
    proxy.seen.length = 0;
    hubRequests = 0;
    const info = await clientVia({ http: proxy.url, https: undefined, noProxy: `example.com, 127.0.0.1:${hubPort}` }).resolveRevision(model, 'main');
    expect(info.commit).toBe(COMMIT);
    expect(proxy.seen).toEqual([]);
    expect(hubRequests).toBe(1);
  });

  it('no proxy settings → direct, even though a proxy exists', async () => {
    proxy.seen.length = 0;
    await clientVia({ http: undefined, https: undefined, noProxy: undefined }).resolveRevision(model, 'main');
    expect(proxy.seen).toEqual([]);
  });

  it('a proxy that answers CONNECT with 407 → NETWORK_PROXY', async () => {
    proxy.refuseWith = 407;
    hubRequests = 0;
    try {
      const error = await clientVia({ http: proxy.url, https: undefined, noProxy: undefined })
        .resolveRevision(model, 'main')
        .then(
          () => undefined,
          (e: unknown) => e as { code?: string; hint?: string },
        );
      expect(error?.code).toBe('NETWORK_PROXY');
      expect(error?.hint).toMatch(/HTTPS_PROXY/);
      expect(hubRequests).toBe(0);
    } finally {
      proxy.refuseWith = undefined;
    }
  });

  it('an unreachable proxy → NETWORK_PROXY naming the proxy', async () => {
    const proxyUrl = await closedPort();
    const port = new URL(proxyUrl).port;
    const error = await clientVia({ http: proxyUrl, https: undefined, noProxy: undefined })
      .resolveRevision(model, 'main')
      .then(
        () => undefined,
        (e: unknown) => e as { code?: string; message?: string },
      );
    expect(error?.code).toBe('NETWORK_PROXY');
    expect(error?.message).toContain(`127.0.0.1:${port}`);
  });
});
