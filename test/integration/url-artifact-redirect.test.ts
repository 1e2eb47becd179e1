/**
 * Catalog URL artifacts behind redirects (GitHub release assets, HF resolve URLs, CDNs), against
 * two hand-made loopback servers on different origins: a "release" server that redirects (one hop,
 * a relative chain, a loop) and a "storage" server that serves ranges. The bytes arrive through
 * the same ranged, resumable, verified transfer; credentials written in the URL reach the release
 * origin only; a wrong catalog sha256 says the catalog's checksum may be wrong.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cacheModels, type CacheModelsOptions } from '../../src/commands/cache-models/index.js';
import { loadSettings } from '../../src/config/settings.js';
import { resolveUrlArtifact } from '../../src/hub/index.js';
import { closedPort } from '../helpers/net.js';

const ARTIFACT = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 251));
const ARTIFACT_SHA = createHash('sha256').update(ARTIFACT).digest('hex');
const SECRET = 's3cret-pa55';

interface Seen {
  url: string;
  method: string;
  headers: IncomingHttpHeaders;
}
let release: Server;
let storage: Server;
let releaseSeen: Seen[] = [];
let storageSeen: Seen[] = [];
let releaseBase = '';
let storageBase = '';
/** Cut the next full body this many bytes in (then close the socket). */
let cutNextBodyAt: number | undefined;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  release = createServer((req, res) => {
    releaseSeen.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers });
    const url = req.url ?? '';
    if (url.startsWith('/releases/download/v1/align.pth')) res.writeHead(302, { location: `${storageBase}/blob/align.pth?X-Amz-Signature=sig123` });
    else if (url === '/hop1') res.writeHead(301, { location: '/hop2' });
    else if (url === '/hop2') res.writeHead(307, { location: `${storageBase}/blob/align.pth` });
    else if (url === '/loop') res.writeHead(302, { location: '/loop' });
    else res.writeHead(404);
    res.end();
  });
  storage = createServer((req, res) => {
    storageSeen.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers });
    const match = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = match ? Number(match[1]) : 0;
    const end = match && match[2] !== '' ? Math.min(Number(match[2]), ARTIFACT.length - 1) : ARTIFACT.length - 1;
    const body = ARTIFACT.subarray(start, end + 1);
    res.writeHead(match ? 206 : 200, {
      'content-length': body.length,
      ...(match ? { 'content-range': `bytes ${start}-${end}/${ARTIFACT.length}` } : {}),
      'accept-ranges': 'bytes',
    });
    if (cutNextBodyAt !== undefined && body.length > cutNextBodyAt) {
      const at = cutNextBodyAt;
      cutNextBodyAt = undefined;
      res.write(body.subarray(0, at), () => res.destroy());
      return;
    }
    res.end(body);
  });
  releaseBase = await listen(release);
  storageBase = await listen(storage);
});
afterAll(async () => {
  await new Promise<void>((resolve) => release.close(() => resolve()));
  await new Promise<void>((resolve) => storage.close(() => resolve()));
});

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcache-url-redirect-'));
  releaseSeen = [];
  storageSeen = [];
  cutNextBodyAt = undefined;
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function options(url: string, sha256 = ARTIFACT_SHA): Promise<CacheModelsOptions> {
  const catalog = path.join(tmp, 'catalog.json');
  await writeFile(
    catalog,
    JSON.stringify({
      version: 1,
      groups: { align: { description: 'x', entries: [{ name: 'align-en', url, sha256, size: ARTIFACT.length, destination: 'hub/checkpoints/align.pth', purpose: 'test' }] } },
    }),
  );
  const env = { HOME: tmp, HF_HUB_CACHE: path.join(tmp, 'hub'), TORCH_HOME: path.join(tmp, 'torch'), HF_ENDPOINT: await closedPort() };
  return { settings: loadSettings({ env, cwd: tmp, project: false }), shippedCatalogPath: catalog, groups: ['align'], platform: { os: 'linux', arch: 'x64' }, connections: 4 };
}

const destination = () => path.join(tmp, 'torch', 'hub', 'checkpoints', 'align.pth');

describe('URL artifacts that redirect', () => {
  it('a release asset redirected to storage on another origin downloads, ranged and verified; the URL’s credentials stay on the release origin', async () => {
    cutNextBodyAt = 120_000; // the first body is cut: the retry must resume with a range
    const url = `${releaseBase.replace('http://', `http://mlcache:${SECRET}@`)}/releases/download/v1/align.pth`;
    const result = await cacheModels(await options(url));
    expect(result.ok, JSON.stringify(result.entries)).toBe(true);
    expect(createHash('sha256').update(await readFile(destination())).digest('hex')).toBe(ARTIFACT_SHA);

    expect(releaseSeen.length).toBeGreaterThan(0);
    const basic = `Basic ${Buffer.from(`mlcache:${SECRET}`).toString('base64')}`;
    expect(releaseSeen.every((r) => r.headers.authorization === basic)).toBe(true);
    expect(storageSeen.length).toBeGreaterThan(1);
    expect(storageSeen.some((r) => r.headers.authorization !== undefined)).toBe(false);
    expect(JSON.stringify(storageSeen)).not.toContain(SECRET);
    // The signed URL was used as given, and the cut transfer resumed from where it stopped.
    expect(storageSeen.every((r) => r.url === '/blob/align.pth?X-Amz-Signature=sig123')).toBe(true);
    const resumedFrom = storageSeen.map((r) => /^bytes=(\d+)-/.exec(r.headers.range ?? '')?.[1]).filter((s) => s !== undefined).map(Number);
    expect(resumedFrom.some((start) => start >= 100_000)).toBe(true);
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('follows a chain of relative and absolute redirects; a loop stops after 10 hops with a clear error', async () => {
    const agent = new Agent();
    try {
      expect(await resolveUrlArtifact(`${releaseBase}/hop1`, { dispatcher: agent })).toEqual({ url: `${storageBase}/blob/align.pth`, headers: {} });
      releaseSeen = [];
      const error = await resolveUrlArtifact(`${releaseBase.replace('http://', `http://u:${SECRET}@`)}/loop`, { dispatcher: agent }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'PROTOCOL', message: expect.stringContaining('Too many redirects (more than 10)') });
      expect(releaseSeen).toHaveLength(11);
      expect(String((error as Error).message)).not.toContain(SECRET);
    } finally {
      await agent.close();
    }
  });

  it('a wrong catalog sha256 says the checksum in the catalog may be wrong, and leaves nothing at the destination', async () => {
    const result = await cacheModels(await options(`${releaseBase}/releases/download/v1/align.pth`, 'e'.repeat(64)));
    expect(result.ok).toBe(false);
    const entry = result.entries.find((e) => e.name === 'align-en');
    expect(entry?.error?.code).toBe('INTEGRITY');
    expect(entry?.error?.message).toContain(`the catalog says ${'e'.repeat(64)}`);
    expect(entry?.error?.hint).toContain('The checksum in the catalog may be wrong');
    expect(existsSync(destination())).toBe(false);
  });
});
