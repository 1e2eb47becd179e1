/**
 * The Hub emulator speaks the Hub protocol as the reference clients see it (hub-protocol.md):
 * real sockets on 127.0.0.1, undici `request` (which never follows redirects), and finally
 * @huggingface/hub's own snapshotDownload writing a cache from it.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { snapshotDownload } from '@huggingface/hub';
import type { FixtureRepo } from '../../src/emulator/index.js';
import { EMULATOR_TOKEN, useEmulator } from '../helpers/emulator.js';

const OTHER_TOKEN = 'hf_other_valid_token_without_gated_access';
const BIG = 300_003; // not a multiple of 16 nor of 64 KiB: exercises the generator's alignment

function repos(): FixtureRepo[] {
  return [
    {
      id: 'org/model',
      revisions: [
        { refs: ['v1.0'], files: [{ path: 'config.json', content: '{"v":1}\n' }] },
        {
          refs: ['main'],
          files: [
            { path: 'config.json', content: '{"v":2}\n' },
            { path: 'README.md', content: '# model\n' },
            { path: 'a/b/c.txt', content: 'deep file\n' },
            { path: 'a/top.txt', content: 'top\n' },
            { path: 'weights.bin', generated: { size: BIG, seed: 7 } },
            { path: 'empty.txt', content: '' },
          ],
        },
        { refs: ['refs/pr/1'], files: [{ path: 'config.json', content: '{"v":"pr"}\n' }] },
      ],
    },
    { id: 'solo', revisions: [{ refs: ['main'], files: [{ path: 'x.txt', content: 'x' }] }] },
    { id: 'org/data', type: 'dataset', revisions: [{ refs: ['main'], files: [{ path: 'data/train.csv', content: 'a,b\n1,2\n' }] }] },
    {
      id: 'org/private',
      private: true,
      revisions: [{ refs: ['main'], files: [{ path: 'secret.bin', generated: { size: 70_000, seed: 3 } }, { path: 'sub/note.md', content: 'n\n' }] }],
    },
    { id: 'org/gated', gated: 'manual', accessTokens: [EMULATOR_TOKEN], revisions: [{ refs: ['main'], files: [{ path: 'g.txt', content: 'g' }] }] },
    { id: 'org/disabled', disabled: true, revisions: [{ refs: ['main'], files: [{ path: 'd.txt', content: 'd' }] }] },
  ];
}

const hub = useEmulator(() => ({ repos: repos(), tokens: [EMULATOR_TOKEN, OTHER_TOKEN], pageSize: 3 }));
const auth = { authorization: `Bearer ${EMULATOR_TOKEN}` };

afterEach(() => {
  hub().setFaults({});
  hub().resetStats();
});

async function get(url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') {
  const res = await request(url, { method, headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body, json: () => JSON.parse(body.toString()) as unknown };
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

async function cdnLocation(file: string, repo = 'org/model', headers: Record<string, string> = {}): Promise<string> {
  const res = await get(`${hub().url}/${repo}/resolve/main/${file}`, headers, 'HEAD');
  expect(res.status).toBe(302);
  return header(res.headers, 'location')!;
}

describe('repo info API', () => {
  it('answers a revision, a percent-encoded PR ref, a raw PR ref and a commit', async () => {
    const h = hub();
    const main = await get(`${h.url}/api/models/org/model/revision/main`);
    expect(main.status).toBe(200);
    const info = main.json() as Record<string, unknown>;
    expect(info).toMatchObject({ id: 'org/model', sha: h.commitOf('org/model', 'main'), private: false, gated: false, disabled: false });
    expect(info.siblings).toEqual(['README.md', 'a/b/c.txt', 'a/top.txt', 'config.json', 'empty.txt', 'weights.bin'].map((rfilename) => ({ rfilename })));
    expect(typeof info.lastModified).toBe('string');

    const pr = h.commitOf('org/model', 'refs/pr/1');
    expect(pr).toMatch(/^[0-9a-f]{40}$/);
    expect(pr).not.toBe(h.commitOf('org/model', 'main'));
    expect(((await get(`${h.url}/api/models/org/model/revision/refs%2Fpr%2F1`)).json() as { sha: string }).sha).toBe(pr);
    expect(((await get(`${h.url}/api/models/org/model/revision/refs/pr/1`)).json() as { sha: string }).sha).toBe(pr);
    const v1 = h.commitOf('org/model', 'v1.0');
    const byCommit = (await get(`${h.url}/api/models/org/model/revision/${v1}`)).json() as { sha: string; siblings: unknown[] };
    expect(byCommit.sha).toBe(v1);
    expect(byCommit.siblings).toEqual([{ rfilename: 'config.json' }]);
    expect(((await get(`${h.url}/api/models/solo`)).json() as { sha: string }).sha).toBe(h.commitOf('solo', 'main'));
    expect(((await get(`${h.url}/api/datasets/org/data/revision/main`)).json() as { id: string }).id).toBe('org/data');
  });

  it('honours expand= (only the listed properties and the ids) and blobs=true', async () => {
    const h = hub();
    const expanded = (await get(`${h.url}/api/models/org/model/revision/main?expand=sha&expand=private`)).json();
    expect(Object.keys(expanded as object).sort()).toEqual(['_id', 'id', 'private', 'sha']);
    const withBlobs = (await get(`${h.url}/api/models/org/model/revision/main?blobs=true`)).json() as {
      siblings: Array<{ rfilename: string; size: number; blobId: string; lfs?: { sha256: string; size: number; pointerSize: number } }>;
    };
    const weights = withBlobs.siblings.find((s) => s.rfilename === 'weights.bin')!;
    const digest = await h.digestOf('org/model', 'weights.bin');
    expect(weights.lfs).toEqual({ sha256: digest.sha256, size: BIG, pointerSize: expect.any(Number) as number });
    expect(weights.size).toBe(BIG);
    const readme = withBlobs.siblings.find((s) => s.rfilename === 'README.md')!;
    expect(readme).toEqual({ rfilename: 'README.md', size: 8, blobId: gitSha1(Buffer.from('# model\n')) });
  });

  it('whoami-v2 needs a valid token', async () => {
    expect((await get(`${hub().url}/api/whoami-v2`, auth)).json()).toMatchObject({ type: 'user', name: expect.any(String) as string });
    expect((await get(`${hub().url}/api/whoami-v2`)).status).toBe(401);
    expect((await get(`${hub().url}/api/whoami-v2`, { authorization: 'Bearer hf_nope' })).status).toBe(401);
  });

  it('serves the agent-harness registry huggingface_hub fetches for its user-agent (no 404)', async () => {
    // huggingface_hub >= 1.19 utils/_detect_agent.py::_fetch_registry GETs this without a token and
    // reads {standardEnvVars: [...], harnesses: {id: {envVars}}}; a 404 was answered before.
    const res = await get(`${hub().url}/api/agent-harnesses`);
    expect(res.status).toBe(200);
    expect(header(res.headers, 'content-type')).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ standardEnvVars: ['AI_AGENT', 'AGENT'], harnesses: {} });
  });
});

function gitSha1(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

describe('tree API', () => {
  it('paginates with an absolute Link that carries the query, and lists directories', async () => {
    const h = hub();
    let url: string | undefined = `${h.url}/api/models/org/model/tree/main?recursive=true&expand=false`;
    const entries: Array<{ type: string; path: string; oid: string; size: number; lfs?: { oid: string; size: number; pointerSize: number } }> = [];
    let pages = 0;
    while (url) {
      const res = await get(url);
      expect(res.status).toBe(200);
      const page = res.json() as typeof entries;
      expect(page.length).toBeLessThanOrEqual(3);
      entries.push(...page);
      pages++;
      const link = header(res.headers, 'link');
      const next = link ? /<([^>]+)>;\s*rel="next"/.exec(link)?.[1] : undefined;
      if (next) {
        expect(next.startsWith(`${h.url}/api/models/org/model/tree/main?`)).toBe(true);
        expect(new URL(next).searchParams.get('recursive')).toBe('true');
        expect(new URL(next).searchParams.get('cursor')).toBeTruthy();
      }
      url = next;
    }
    expect(pages).toBe(3);
    expect(entries.map((e) => `${e.type}:${e.path}`)).toEqual([
      'file:README.md',
      'directory:a',
      'directory:a/b',
      'file:a/b/c.txt',
      'file:a/top.txt',
      'file:config.json',
      'file:empty.txt',
      'file:weights.bin',
    ]);
    const weights = entries.find((e) => e.path === 'weights.bin')!;
    const digest = await h.digestOf('org/model', 'weights.bin');
    const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${digest.sha256}\nsize ${BIG}\n`;
    expect(weights).toMatchObject({ size: BIG, oid: gitSha1(Buffer.from(pointer)), lfs: { oid: digest.sha256, size: BIG, pointerSize: pointer.length } });
    expect(entries.find((e) => e.path === 'config.json')!.oid).toBe(gitSha1(Buffer.from('{"v":2}\n')));
  });

  it('lists one level of a sub-path, at an encoded PR ref, and 404s an unknown revision', async () => {
    const h = hub();
    const sub = (await get(`${h.url}/api/models/org/model/tree/main/a?recursive=false`)).json() as Array<{ path: string }>;
    expect(sub.map((e) => e.path)).toEqual(['a/b', 'a/top.txt']);
    const encodedPath = (await get(`${h.url}/api/models/org/model/tree/main/a%2Fb`)).json() as Array<{ path: string }>;
    expect(encodedPath.map((e) => e.path)).toEqual(['a/b/c.txt']);
    const pr = (await get(`${h.url}/api/models/org/model/tree/refs%2Fpr%2F1?recursive=true`)).json() as Array<{ path: string }>;
    expect(pr.map((e) => e.path)).toEqual(['config.json']);
    const prRaw = (await get(`${h.url}/api/models/org/model/tree/refs/pr/1?recursive=true`)).json() as Array<{ path: string }>;
    expect(prRaw.map((e) => e.path)).toEqual(['config.json']);
    const missing = await get(`${h.url}/api/models/org/model/tree/nope`);
    expect(missing.status).toBe(404);
    expect(header(missing.headers, 'x-error-code')).toBe('RevisionNotFound');
  });

  it('paths-info answers JSON and form bodies, omitting missing paths', async () => {
    const h = hub();
    const json = await request(`${h.url}/api/models/org/model/paths-info/main`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ paths: ['weights.bin', 'a', 'missing.txt'], expand: true }),
    });
    const entries = (await json.body.json()) as Array<{ path: string; type: string; lfs?: unknown; lastCommit?: { id: string } }>;
    expect(entries.map((e) => `${e.type}:${e.path}`)).toEqual(['file:weights.bin', 'directory:a']);
    expect(entries[0]!.lastCommit?.id).toBe(h.commitOf('org/model', 'main'));
    const form = await request(`${h.url}/api/models/org/model/paths-info/main`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'paths=config.json&paths=README.md&expand=false',
    });
    const formEntries = (await form.body.json()) as Array<{ path: string; lastCommit?: unknown }>;
    expect(formEntries.map((e) => e.path)).toEqual(['config.json', 'README.md']);
    expect(formEntries[0]!.lastCommit).toBeUndefined();
  });
});

describe('resolve and CDN', () => {
  it('serves regular files directly with the git sha1 ETag, and redirects LFS files cross-origin', async () => {
    const h = hub();
    const cfg = await get(`${h.url}/org/model/resolve/main/config.json`);
    expect(cfg.status).toBe(200);
    expect(cfg.body.toString()).toBe('{"v":2}\n');
    expect(header(cfg.headers, 'etag')).toBe(`"${gitSha1(Buffer.from('{"v":2}\n'))}"`);
    expect(header(cfg.headers, 'x-repo-commit')).toBe(h.commitOf('org/model', 'main'));
    expect(header(cfg.headers, 'content-length')).toBe('8');
    expect(header(cfg.headers, 'accept-ranges')).toBe('bytes');
    expect((await get(`${h.url}/org/model/resolve/v1.0/config.json`)).body.toString()).toBe('{"v":1}\n');
    expect((await get(`${h.url}/org/model/resolve/refs%2Fpr%2F1/config.json`)).body.toString()).toBe('{"v":"pr"}\n');
    expect((await get(`${h.url}/datasets/org/data/resolve/main/data/train.csv`)).body.toString()).toBe('a,b\n1,2\n');

    const head = await get(`${h.url}/org/model/resolve/main/weights.bin`, {}, 'HEAD');
    const digest = await h.digestOf('org/model', 'weights.bin');
    expect(head.status).toBe(302);
    expect(header(head.headers, 'x-linked-etag')).toBe(`"${digest.sha256}"`);
    expect(header(head.headers, 'x-linked-size')).toBe(String(BIG));
    expect(header(head.headers, 'x-repo-commit')).toBe(h.commitOf('org/model', 'main'));
    expect(header(head.headers, 'etag')).toMatch(/^"[0-9a-f]{40}"$/);
    const location = new URL(header(head.headers, 'location')!);
    expect(location.origin).toBe(h.cdnUrl);
    expect(location.origin).not.toBe(new URL(h.url).origin);
    expect(location.searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(location.searchParams.get('X-Amz-Date')).toMatch(/^\d{8}T\d{6}Z$/);
    expect(location.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);

    const blob = await get(location.href);
    expect(blob.status).toBe(200);
    expect(header(blob.headers, 'etag')).toBe(`"${digest.sha256}"`);
    expect(blob.body.length).toBe(BIG);
    expect(createHash('sha256').update(blob.body).digest('hex')).toBe(digest.sha256);
    expect(blob.body.equals(await h.contentOf('org/model', 'weights.bin'))).toBe(true);
    expect(gitSha1(blob.body)).toBe(digest.gitSha1);
  });

  it('answers ranges with 206 and the exact Content-Range, on the CDN and on the hub', async () => {
    const h = hub();
    const content = await h.contentOf('org/model', 'weights.bin');
    const location = await cdnLocation('weights.bin');
    const cases: Array<[string, number, number]> = [
      ['bytes=0-0', 0, 0],
      ['bytes=65530-131080', 65530, 131080], // crosses 64 KiB generator blocks at odd offsets
      ['bytes=299990-', 299990, BIG - 1],
      ['bytes=-7', BIG - 7, BIG - 1],
      ['bytes=299000-999999', 299000, BIG - 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await get(location, { range });
      expect(res.status, range).toBe(206);
      expect(header(res.headers, 'content-range'), range).toBe(`bytes ${start}-${end}/${BIG}`);
      expect(res.body.equals(content.subarray(start, end + 1)), range).toBe(true);
    }
    const direct = await get(`${h.url}/org/model/resolve/main/a/b/c.txt`, { range: 'bytes=5-8' });
    expect(direct.status).toBe(206);
    expect(header(direct.headers, 'content-range')).toBe('bytes 5-8/10');
    expect(direct.body.toString()).toBe('file');
  });

  it('answers 416 with bytes */size for an unsatisfiable range', async () => {
    const location = await cdnLocation('weights.bin');
    const res = await get(location, { range: `bytes=${BIG}-` });
    expect(res.status).toBe(416);
    expect(header(res.headers, 'content-range')).toBe(`bytes */${BIG}`);
    const empty = await get(`${hub().url}/org/model/resolve/main/empty.txt`, { range: 'bytes=0-0' });
    expect(empty.status).toBe(416);
    expect(header(empty.headers, 'content-range')).toBe('bytes */0');
  });

  it('rejects expired and tampered CDN URLs with 403 and an S3-like XML body', async () => {
    const h = hub();
    // X-Amz-Date has whole seconds: a 1 s TTL can leave a URL valid for a moment only, so 2 s
    // (at least 1 s of validity) and a wait past the second one.
    h.setFaults({ cdnUrlTtlSec: 2 });
    const location = await cdnLocation('weights.bin');
    const tampered = new URL(location);
    tampered.searchParams.set('X-Amz-Expires', '999999');
    const bad = await get(tampered.href);
    expect(bad.status).toBe(403);
    expect(bad.body.toString()).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect((await get(location, { range: 'bytes=0-0' })).status).toBe(206);
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await get(location);
    expect(expired.status).toBe(403);
    expect(expired.body.toString()).toMatch(/<Error><Code>AccessDenied<\/Code><Message>Request has expired/);
  });
});

describe('errors', () => {
  it('carries X-Error-Code / X-Error-Message and a JSON error for each Hub error', async () => {
    const h = hub();
    const cases: Array<{ url: string; headers?: Record<string, string>; status: number; code?: string; message?: string; commit?: boolean }> = [
      { url: '/api/models/org/nope/revision/main', status: 404, code: 'RepoNotFound' },
      { url: '/org/nope/resolve/main/x', status: 404, code: 'RepoNotFound' },
      { url: '/api/models/org/private/revision/main', status: 401, code: 'RepoNotFound' },
      { url: '/org/private/resolve/main/sub/note.md', status: 401, code: 'RepoNotFound' },
      { url: '/api/models/org/model/revision/nope', status: 404, code: 'RevisionNotFound' },
      { url: '/org/model/resolve/nope/config.json', status: 404, code: 'RevisionNotFound' },
      { url: '/org/model/resolve/main/missing.bin', status: 404, code: 'EntryNotFound', commit: true },
      { url: '/org/gated/resolve/main/g.txt', status: 401, code: 'GatedRepo' },
      { url: '/org/gated/resolve/main/g.txt', headers: { authorization: `Bearer ${OTHER_TOKEN}` }, status: 403, code: 'GatedRepo' },
      { url: '/api/models/org/gated/revision/main', status: 401, code: 'GatedRepo' },
      { url: '/org/disabled/resolve/main/d.txt', headers: auth, status: 403, message: 'Access to this resource is disabled.' },
      { url: '/org/model/resolve/main/config.json', headers: { authorization: 'Bearer hf_wrong' }, status: 401, message: 'Invalid credentials in Authorization header' },
      { url: '/api/models/org/model/revision/main', headers: { authorization: 'Bearer hf_wrong' }, status: 401, message: 'Invalid credentials in Authorization header' },
    ];
    for (const c of cases) {
      const res = await get(`${h.url}${c.url}`, c.headers ?? {});
      const label = `${c.url} ${JSON.stringify(c.headers ?? {})}`;
      expect(res.status, label).toBe(c.status);
      if (c.code) expect(header(res.headers, 'x-error-code'), label).toBe(c.code);
      if (c.message) expect(header(res.headers, 'x-error-message'), label).toBe(c.message);
      expect(header(res.headers, 'x-request-id'), label).toBeTruthy();
      const body = res.json() as { error: string };
      expect(body.error, label).toBe(header(res.headers, 'x-error-message'));
      if (c.commit) expect(header(res.headers, 'x-repo-commit')).toBe(h.commitOf('org/model', 'main'));
    }
  });

  it('lets a token with access through gated and private repos', async () => {
    const h = hub();
    expect((await get(`${h.url}/org/gated/resolve/main/g.txt`, auth)).body.toString()).toBe('g');
    expect((await get(`${h.url}/api/models/org/private/revision/main`, auth)).status).toBe(200);
    expect((await get(`${h.url}/org/private/resolve/main/sub/note.md`, auth)).body.toString()).toBe('n\n');
  });
});

describe('faults', () => {
  it('drop destroys the socket after N body bytes', async () => {
    const h = hub();
    h.setFaults({ rules: [{ match: { origin: 'cdn' }, action: { kind: 'drop', afterBytes: 70_000 }, times: 1 }] });
    const location = await cdnLocation('weights.bin');
    const res = await request(location);
    expect(res.statusCode).toBe(200);
    await expect(res.body.arrayBuffer()).rejects.toThrow();
    const cdnReq = h.stats.requests.find((r) => r.origin === 'cdn')!;
    expect(cdnReq.bytesSent).toBe(70_000);
    // times: 1 — the next request is whole.
    expect((await get(location)).body.length).toBe(BIG);
  });

  it('status and rate-limit answer instead of the real response', async () => {
    const h = hub();
    h.setFaults({
      rules: [
        { match: { path: '/revision/' }, action: { kind: 'status', status: 503, errorMessage: 'maintenance' }, times: 1 },
        { match: { path: /\/resolve\// }, action: { kind: 'rate-limit', retryAfter: 3, rateLimitReset: 9 }, times: 1 },
      ],
    });
    const api = await get(`${h.url}/api/models/org/model/revision/main`);
    expect(api.status).toBe(503);
    expect(api.json()).toEqual({ error: 'maintenance' });
    const limited = await get(`${h.url}/org/model/resolve/main/config.json`);
    expect(limited.status).toBe(429);
    expect(header(limited.headers, 'retry-after')).toBe('3');
    expect(header(limited.headers, 'ratelimit')).toBe('"resolvers";r=0;t=9');
    expect((await get(`${h.url}/org/model/resolve/main/config.json`)).status).toBe(200);
    expect((await get(`${h.url}/api/models/org/model/revision/main`)).status).toBe(200);
  });

  it('corrupt flips exactly one byte at an absolute offset, also inside a range', async () => {
    const h = hub();
    const content = await h.contentOf('org/model', 'weights.bin');
    h.setFaults({ rules: [{ match: { origin: 'cdn' }, action: { kind: 'corrupt', offset: 100_000 } }] });
    const location = await cdnLocation('weights.bin');
    const ranged = await get(location, { range: 'bytes=99990-100009' });
    expect(ranged.body[10]).toBe(content[100_000]! ^ 0xff);
    expect(Buffer.concat([ranged.body.subarray(0, 10), ranged.body.subarray(11)]).equals(Buffer.concat([content.subarray(99990, 100_000), content.subarray(100_001, 100_010)]))).toBe(true);
  });

  it('ignore-range, wrong-content-range and short-body break ranged answers as declared', async () => {
    const h = hub();
    const content = await h.contentOf('org/model', 'weights.bin');
    const location = await cdnLocation('weights.bin');
    h.setFaults({ rules: [{ action: { kind: 'ignore-range' }, times: 1 }] });
    const ignored = await get(location, { range: 'bytes=10-19' });
    expect(ignored.status).toBe(200);
    expect(ignored.body.length).toBe(BIG);

    h.setFaults({ rules: [{ action: { kind: 'wrong-content-range', shift: 5 }, times: 1 }] });
    const shifted = await get(location, { range: 'bytes=10-19' });
    expect(header(shifted.headers, 'content-range')).toBe(`bytes 15-24/${BIG}`);
    expect(shifted.body.equals(content.subarray(10, 20))).toBe(true);

    h.setFaults({ rules: [{ action: { kind: 'short-body', missing: 1000 }, times: 1 }] });
    const res = await request(location);
    expect(res.headers['content-length']).toBe(String(BIG));
    await expect(res.body.arrayBuffer()).rejects.toThrow();
    expect(h.stats.requests.at(-1)!.bytesSent).toBe(BIG - 1000);
  });

  it('stall, delay, latency and bandwidth caps slow responses down', async () => {
    const h = hub();
    const location = await cdnLocation('weights.bin');
    const timed = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    h.setFaults({ rules: [{ action: { kind: 'stall', afterBytes: 1000, ms: 300 } }] });
    const stalled = await timed(async () => expect((await get(location)).body.length).toBe(BIG));
    expect(stalled).toBeGreaterThanOrEqual(280);

    h.setFaults({ rules: [{ match: { origin: 'hub' }, action: { kind: 'delay', ms: 600 } }] });
    expect(await timed(() => get(`${h.url}/api/models/org/model/revision/main`))).toBeGreaterThanOrEqual(580);
    expect(await timed(() => get(location, { range: 'bytes=0-0' }))).toBeLessThan(400); // the CDN is not matched

    h.setFaults({ latencyMs: 200 });
    expect(await timed(() => get(location, { range: 'bytes=0-0' }))).toBeGreaterThanOrEqual(180);

    h.setFaults({ perConnectionBytesPerSec: 1_000_000 });
    expect(await timed(() => get(location))).toBeGreaterThanOrEqual(250); // 300 kB at 1 MB/s

    h.setFaults({ aggregateBytesPerSec: 2_000_000 });
    const both = await timed(() => Promise.all([get(location), get(location)])); // 600 kB at 2 MB/s
    expect(both).toBeGreaterThanOrEqual(250);
  });

  it('probability uses the seeded RNG: 0 never fires, a seed replays the same pattern', async () => {
    const h = hub();
    h.setFaults({ rules: [{ action: { kind: 'status', status: 500 }, probability: 0 }] });
    expect((await get(`${h.url}/org/model/resolve/main/config.json`)).status).toBe(200);
    const pattern = async () => {
      h.setFaults({ seed: 42, rules: [{ action: { kind: 'status', status: 500 }, probability: 0.5 }] });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await get(`${h.url}/org/model/resolve/main/config.json`)).status);
      return out;
    };
    const first = await pattern();
    expect(first).toContain(500);
    expect(first).toContain(200);
    expect(await pattern()).toEqual(first);
  });

  it('addFaultRule adds a rule at runtime', async () => {
    const h = hub();
    h.addFaultRule({ match: { method: 'HEAD' }, action: { kind: 'status', status: 502 }, times: 1 });
    expect((await get(`${h.url}/org/model/resolve/main/config.json`, {}, 'HEAD')).status).toBe(502);
    expect((await get(`${h.url}/org/model/resolve/main/config.json`, {}, 'HEAD')).status).toBe(200);
  });
});

describe('stats', () => {
  it('counts file body bytes served and records every request', async () => {
    const h = hub();
    const location = await cdnLocation('weights.bin', 'org/model', auth);
    await get(location, { range: 'bytes=0-99' });
    await get(`${h.url}/org/model/resolve/main/config.json`);
    await get(`${h.url}/api/models/org/model/revision/main`);
    expect(h.stats.bytesServed).toBe(100 + 8);
    const [headReq, cdnReq, cfgReq, apiReq] = h.stats.requests;
    expect(headReq).toMatchObject({ origin: 'hub', method: 'HEAD', status: 302, bytesSent: 0 });
    expect(headReq!.headers.authorization).toBe(`Bearer ${EMULATOR_TOKEN}`);
    expect(cdnReq).toMatchObject({ origin: 'cdn', method: 'GET', status: 206, bytesSent: 100 });
    expect(cdnReq!.headers.range).toBe('bytes=0-99');
    expect(cfgReq).toMatchObject({ origin: 'hub', url: '/org/model/resolve/main/config.json', status: 200, bytesSent: 8 });
    expect(apiReq!.bytesSent).toBeGreaterThan(0);
    h.resetStats();
    expect(h.stats).toEqual({ bytesServed: 0, requestCount: 0, requests: [] });
  });
});

describe('@huggingface/hub against the emulator', () => {
  it('snapshotDownload writes a complete cache and never sends the token to the CDN', async () => {
    const h = hub();
    const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-emu-js-'));
    try {
      const snapshot = await snapshotDownload({ repo: 'org/private', cacheDir, hubUrl: h.url, revision: 'main', accessToken: EMULATOR_TOKEN });
      const commit = h.commitOf('org/private', 'main');
      const repoDir = path.join(cacheDir, 'models--org--private');
      expect(snapshot).toBe(path.join(repoDir, 'snapshots', commit));
      expect(await readFile(path.join(repoDir, 'refs', 'main'), 'utf8')).toBe(commit);
      const secret = await h.digestOf('org/private', 'secret.bin');
      expect(await readlink(path.join(snapshot, 'secret.bin'))).toBe(path.join('..', '..', 'blobs', secret.sha256));
      expect((await readFile(path.join(snapshot, 'secret.bin'))).equals(await h.contentOf('org/private', 'secret.bin'))).toBe(true);
      const note = await h.digestOf('org/private', 'sub/note.md');
      expect(await readlink(path.join(snapshot, 'sub', 'note.md'))).toBe(path.join('..', '..', '..', 'blobs', note.gitSha1));
      expect(await readFile(path.join(snapshot, 'sub', 'note.md'), 'utf8')).toBe('n\n');

      const cdn = h.stats.requests.filter((r) => r.origin === 'cdn');
      expect(cdn.length).toBeGreaterThan(0);
      for (const r of cdn) expect(r.headers.authorization).toBeUndefined();
      const hubReqs = h.stats.requests.filter((r) => r.origin === 'hub');
      for (const r of hubReqs) expect(r.headers.authorization).toBe(`Bearer ${EMULATOR_TOKEN}`);
      // It used the model-info, tree, paths-info and resolve endpoints, all answered without errors.
      const kinds = new Set(hubReqs.map((r) => /\/(revision|tree|paths-info|resolve)\//.exec(r.url)?.[1]));
      expect([...kinds].sort()).toEqual(['paths-info', 'resolve', 'revision', 'tree']);
      for (const r of h.stats.requests) expect(r.status, r.url).toBeLessThan(400);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});
