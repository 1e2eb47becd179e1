/**
 * The Hub emulator's two servers (hub and CDN origins): each request is recorded, given an abort
 * signal, delayed or answered by the "pre" faults (status, rate limit, latency), then routed; the
 * servers listen on the configured host and ports and close together.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rateLimitBucket, type Origin } from './faults.js';
import { sendHubError } from './respond.js';
import { routeApi } from './routes/api.js';
import { routeCdn } from './routes/cdn.js';
import { routeResolve } from './routes/resolve.js';
import { sleep, type EmulatorState, type RequestContext } from './state.js';
import type { RecordedRequest } from './types.js';

function routeHub(state: EmulatorState, ctx: RequestContext): Promise<void> {
  const segments = ctx.pathname.split('/').slice(1);
  return segments[0] === 'api' ? routeApi(state, ctx, segments) : routeResolve(state, ctx, segments);
}

async function handle(state: EmulatorState, origin: Origin, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const record: RecordedRequest = {
    origin,
    method: req.method ?? 'GET',
    url: rawUrl,
    headers: { ...req.headers },
    status: 0,
    bytesSent: 0,
    receivedAt: Date.now(),
  };
  const { stats, closing, engine, options } = state;
  stats.requestCount++;
  if (stats.requests.length < state.maxRecorded) stats.requests.push(record);
  const controller = new AbortController();
  const abort = () => controller.abort();
  res.once('close', abort);
  closing.signal.addEventListener('abort', abort, { once: true });
  res.once('close', () => {
    closing.signal.removeEventListener('abort', abort);
    options.onRequest?.(record);
  });
  const ctx: RequestContext = {
    origin,
    req,
    res,
    record,
    pathname: q < 0 ? rawUrl : rawUrl.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1)),
    method: (req.method ?? 'GET').toUpperCase(),
    signal: controller.signal,
  };
  res.setHeader('X-Request-Id', `Root=1-${randomUUID()}`);
  const pre = engine.take(origin, ctx.method, ctx.pathname, 'pre');
  let wait = engine.settings.latencyMs ?? 0;
  for (const action of pre) if (action.kind === 'delay') wait += action.ms;
  await sleep(wait, ctx.signal);
  if (ctx.signal.aborted) return;
  for (const action of pre) {
    if (action.kind === 'status') {
      const message = action.errorMessage ?? http.STATUS_CODES[action.status] ?? 'Injected failure';
      return sendHubError(ctx, action.status, action.errorCode, message, action.headers ?? {});
    }
    if (action.kind === 'rate-limit') {
      const headers: Record<string, string> = {};
      const bucket = rateLimitBucket(ctx.pathname);
      if (action.retryAfter !== undefined) headers['Retry-After'] = String(action.retryAfter);
      if (action.rateLimitReset !== undefined) {
        // Format from hub-docs rate-limits.md, parsed by PY utils/_http.py::parse_ratelimit_headers.
        headers.RateLimit = `"${bucket}";r=0;t=${action.rateLimitReset}`;
        headers['RateLimit-Policy'] = `"fixed window";"${bucket}";q=3000;w=300`;
      }
      if (action.retryAfter === undefined && action.rateLimitReset === undefined) headers['Retry-After'] = '1';
      return sendHubError(ctx, 429, undefined, 'You have been rate-limited; you can retry this action later.', headers);
    }
  }
  if (origin === 'hub') await routeHub(state, ctx);
  else await routeCdn(state, ctx);
}

function listener(state: EmulatorState, origin: Origin) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(state, origin, req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ error: `emulator internal error: ${error instanceof Error ? error.message : String(error)}` }));
      } else {
        res.destroy();
      }
    });
  };
}

async function listen(server: http.Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Start both origins and set `state.hubUrl` / `state.cdnUrl`; the result closes them. */
export async function startServers(state: EmulatorState): Promise<{ close(): Promise<void> }> {
  const { options } = state;
  const host = options.host ?? '127.0.0.1';
  const hubServer = http.createServer(listener(state, 'hub'));
  const cdnServer = http.createServer(listener(state, 'cdn'));
  const urlHost = host.includes(':') ? `[${host}]` : host;
  state.hubUrl = `http://${urlHost}:${await listen(hubServer, host, options.port ?? 0)}`;
  try {
    state.cdnUrl = `http://${urlHost}:${await listen(cdnServer, host, options.cdnPort ?? 0)}`;
  } catch (error) {
    hubServer.close();
    throw error;
  }
  return {
    async close() {
      state.closing.abort();
      const stop = (server: http.Server) =>
        new Promise<void>((resolveClose) => {
          server.close(() => resolveClose());
          server.closeAllConnections();
        });
      await Promise.all([stop(hubServer), stop(cdnServer)]);
    },
  };
}
