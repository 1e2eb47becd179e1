#!/usr/bin/env node
/**
 * The bench's Hub emulator in its own process (scripts/bench.mjs starts it), so that generating
 * and pacing the served bytes does not share an event loop with the bench parent, and its CPU is
 * not counted to any tool. Reads `{ repos, options? }` as JSON from argv[2] (options: more
 * HubEmulatorOptions, e.g. pageSize), starts dist/emulator, and prints one JSON line
 * `{ url, cdnUrl, control }`. It keeps no per-request records (a million-file run makes millions).
 *
 * `control` is a separate bench-only HTTP server on 127.0.0.1 (the emulator's own protocol surface
 * is untouched):
 *   GET  /stats             → { bytesServed, requests, apiRequests, firstContentAt, lastRequestAt }
 *                             (requests = count; apiRequests = those to /api/ (revision, tree, …);
 *                             times = Date.now() of arrival; firstContentAt is the first request
 *                             for file content: a resolve URL or the CDN)
 *   POST /reset             → resets the emulator's stats
 *   POST /faults   {faults} → setFaults(faults)
 *   POST /digests  {repo, paths} → [FileDigest]
 *   POST /close             → closes the emulator and exits
 */
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { createHubEmulator } = await import(path.join(here, '..', 'dist', 'emulator', 'index.js'));

const { repos, options = {} } = JSON.parse(process.argv[2]);
let firstContentAt = null;
let lastRequestAt = null;
let apiRequests = 0;
const hub = await createHubEmulator({
  repos,
  ...options,
  maxRecordedRequests: 0,
  onRequest: (r) => {
    if (r.url.startsWith('/api/')) apiRequests++;
    if ((r.origin === 'cdn' || r.url.includes('/resolve/')) && (firstContentAt === null || r.receivedAt < firstContentAt)) firstContentAt = r.receivedAt;
    if (lastRequestAt === null || r.receivedAt > lastRequestAt) lastRequestAt = r.receivedAt;
  },
});

async function readJson(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : {};
}

const control = http.createServer(async (req, res) => {
  try {
    let answer = { ok: true };
    if (req.method === 'GET' && req.url === '/stats') {
      answer = { bytesServed: hub.stats.bytesServed, requests: hub.stats.requestCount, apiRequests, firstContentAt, lastRequestAt };
    } else if (req.method === 'POST' && req.url === '/reset') {
      hub.resetStats();
      firstContentAt = null;
      lastRequestAt = null;
      apiRequests = 0;
    } else if (req.method === 'POST' && req.url === '/faults') {
      hub.setFaults((await readJson(req)).faults ?? {});
    } else if (req.method === 'POST' && req.url === '/digests') {
      const { repo, paths, type } = await readJson(req);
      answer = await Promise.all(paths.map((p) => hub.digestOf(repo, p, 'main', type ?? 'model')));
    } else if (req.method === 'POST' && req.url === '/close') {
      res.end(JSON.stringify(answer));
      await hub.close();
      control.close();
      return;
    } else {
      res.statusCode = 404;
      answer = { error: `no route ${req.method} ${req.url}` };
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(answer));
  } catch (error) {
    res.statusCode = 500;
    res.end(JSON.stringify({ error: String(error?.message ?? error) }));
  }
});
control.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: hub.url, cdnUrl: hub.cdnUrl, control: `http://127.0.0.1:${control.address().port}` })}\n`);
});
// The parent going away (Ctrl-C on the bench) must not leave the emulator running.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
