/**
 * A synthetic huge dataset (50 000 tiny files never materialised) listed through mlcache's own Hub
 * client, paginated like the Hub, and served by resolve URLs like any regular file.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, type Dispatcher } from 'undici';
import { createHubEmulator, DEFAULT_TOKEN, type HubEmulator } from '../../src/emulator/index.js';
import { createDispatcher, createHubClient } from '../../src/hub/index.js';

const FILES = 50_000;
const PAGE = 1000;
const dataset = { id: 'org/huge', type: 'dataset' as const };

let emulator: HubEmulator;
let dispatcher: Dispatcher;

beforeAll(async () => {
  emulator = await createHubEmulator({
    pageSize: PAGE,
    repos: [{ id: 'org/huge', type: 'dataset', revisions: [{ refs: ['main'], files: [{ path: 'README.md', content: '# huge\n' }], synthetic: { files: FILES } }] }],
  });
  dispatcher = createDispatcher(undefined);
});

afterAll(async () => {
  await dispatcher.close();
  await emulator.close();
});

function gitSha1(text: string): string {
  return createHash('sha1').update(`blob ${Buffer.byteLength(text)}\0${text}`).digest('hex');
}

describe('a synthetic 50 000-file dataset', () => {
  it('lists every file through the Hub client, one tree page request per 1000 entries', async () => {
    emulator.resetStats();
    const client = createHubClient({ endpoint: emulator.url, token: DEFAULT_TOKEN, dispatcher, baseDelayMs: 1, maxRetries: 2 });
    const commit = (await client.resolveRevision(dataset, 'main')).commit;
    expect(commit).toBe(emulator.commitOf('org/huge', 'main', 'dataset'));
    const files = await client.listFiles(dataset, commit);
    expect(files).toHaveLength(FILES + 1);
    const byPath = new Map(files.map((f) => [f.path, f]));
    for (const i of [0, 1, 999, 1000, 31_337, FILES - 1]) {
      const path = `data/${String(Math.floor(i / 1000)).padStart(5, '0')}/${String(i).padStart(6, '0')}.txt`;
      const digest = await emulator.digestOf('org/huge', path, 'main', 'dataset');
      expect(byPath.get(path)).toMatchObject({ size: digest.size, oid: digest.gitSha1 });
      // Independently: the content is the path and a newline.
      expect(digest.gitSha1).toBe(gitSha1(`${path}\n`));
    }
    expect(byPath.get('README.md')?.oid).toBe(gitSha1('# huge\n'));
    // Entries listed: the files, README.md, 'data' and its 50 buckets (the Hub lists folders too).
    const entries = FILES + 1 + 1 + FILES / 1000;
    const treeRequests = emulator.stats.requests.filter((r) => r.url.startsWith('/api/datasets/org/huge/tree/'));
    expect(treeRequests).toHaveLength(Math.ceil(entries / PAGE));
    expect(treeRequests.every((r) => r.status === 200)).toBe(true);
  });

  it('serves a synthetic file by its resolve URL with the etag and commit of a regular file', async () => {
    const path = 'data/00042/042017.txt';
    const res = await request(`${emulator.url}/datasets/org/huge/resolve/main/${path}`, { dispatcher });
    const body = await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(body).toBe(`${path}\n`);
    expect(res.headers.etag).toBe(`"${gitSha1(body)}"`);
    expect(res.headers['x-repo-commit']).toBe(emulator.commitOf('org/huge', 'main', 'dataset'));
    const missing = await request(`${emulator.url}/datasets/org/huge/resolve/main/data/00049/050000.txt`, { dispatcher });
    await missing.body.dump();
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['x-error-code']).toBe('EntryNotFound');
  });

  it('pages a sub-folder and answers paths-info for synthetic paths', async () => {
    const tree = await request(`${emulator.url}/api/datasets/org/huge/tree/main/data%2F00007`, { dispatcher });
    const entries = (await tree.body.json()) as Array<{ path: string; type: string }>;
    expect(entries).toHaveLength(1000);
    expect(entries[0]?.path).toBe('data/00007/007000.txt');
    expect(tree.headers.link).toBeUndefined();
    const info = await request(`${emulator.url}/api/datasets/org/huge/paths-info/main`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ paths: ['data/00001/001234.txt', 'data/00001', 'nope.txt'] }),
    });
    const infos = (await info.body.json()) as Array<{ path: string; type: string }>;
    expect(infos.map((e) => [e.type, e.path])).toEqual([
      ['file', 'data/00001/001234.txt'],
      ['directory', 'data/00001'],
    ]);
  });

  it('keeps at most maxRecordedRequests records but counts every request', async () => {
    const small = await createHubEmulator({ maxRecordedRequests: 2, repos: [{ id: 's', revisions: [{ refs: ['main'], files: [], synthetic: { files: 10 } }] }] });
    try {
      for (let i = 0; i < 5; i++) await (await request(`${small.url}/s/resolve/main/data/00000/00000${i}.txt`, { dispatcher })).body.dump();
      expect(small.stats.requestCount).toBe(5);
      expect(small.stats.requests).toHaveLength(2);
      expect(small.stats.bytesServed).toBe(5 * 'data/00000/000000.txt\n'.length);
    } finally {
      await small.close();
    }
  });
});
