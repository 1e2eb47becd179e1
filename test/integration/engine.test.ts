import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTransferEngine } from '../../src/download/index.js';
import { useEmulator } from '../helpers/emulator.js';
import { collectEvents, itemFor, tempDir, testAgent } from '../helpers/transfer-items.js';

const REPO = 'org/engine-basic';
const MB = 1024 * 1024;

describe('transfer engine: happy path', () => {
  const hub = useEmulator({
    repos: [
      {
        id: REPO,
        revisions: [
          {
            refs: ['main'],
            files: [
              { path: 'model.safetensors', generated: { size: 3 * MB + 123 } },
              { path: 'config.json', content: '{"model_type":"bert"}\n' },
              { path: 'empty.txt', content: '', lfs: false },
            ],
          },
        ],
      },
    ],
  });

  it('downloads a chunked LFS file and small files, verified, with nothing left behind', async () => {
    const dir = await tempDir();
    const dispatcher = testAgent();
    const ev = collectEvents();
    const engine = createTransferEngine({ dispatcher, chunkThreshold: MB, chunkSize: 512 * 1024, onEvent: ev.onEvent, connections: 4 });
    const files = ['model.safetensors', 'config.json', 'empty.txt'];
    const items = await Promise.all(files.map((file) => itemFor(hub(), { repo: REPO, file, destination: path.join(dir, file.replace('/', '_')), dispatcher })));
    const results = await Promise.all(items.map((item) => engine.download(item)));
    await engine.close();

    for (const file of files) {
      expect((await readFile(path.join(dir, file))).equals(await hub().contentOf(REPO, file))).toBe(true);
    }
    expect((await readdir(dir)).sort()).toEqual([...files].sort());
    expect(results[0]!.bytesTransferred).toBe(3 * MB + 123);
    // Files start concurrently, so find the chunked one by its label rather than by order.
    expect(ev.of('file-started').find((e) => e.label.endsWith('model.safetensors'))).toMatchObject({ chunks: 7 });
    expect(ev.of('file-started').find((e) => e.label.endsWith('config.json'))).toMatchObject({ chunks: 1 });
    // Every CDN request carried a strict range and identity encoding, and never the token.
    const cdn = hub().stats.requests.filter((r) => r.origin === 'cdn' && r.method === 'GET');
    expect(cdn).toHaveLength(7);
    for (const r of cdn) {
      expect(r.headers.range).toMatch(/^bytes=\d+-\d+$/);
      expect(r.headers['accept-encoding']).toBe('identity');
      expect(r.headers.authorization).toBeUndefined();
    }
    expect(ev.of('file-done')).toHaveLength(3);
    expect(ev.of('totals').at(-1)!.totals).toMatchObject({ filesDone: 3, bytesDone: 3 * MB + 123 + 22, filesFailed: 0 });
  });
});

describe('transfer engine: one blob wanted twice in one run', () => {
  const hub = useEmulator({ repos: [{ id: REPO, revisions: [{ refs: ['main'], files: [{ path: 'shared.safetensors', generated: { size: 2 * MB } }] }] }] });

  it('two callers of one engine share one transfer: no wait on its own lock, one set of requests', async () => {
    const dir = await tempDir();
    const dispatcher = testAgent();
    const ev = collectEvents();
    const { acquireLock } = await import('../../src/cache/index.js');
    const engine = createTransferEngine({ dispatcher, onEvent: ev.onEvent, connections: 4, acquireLock: (p, o) => acquireLock(p, { signal: o.signal, onWait: o.onWait }) });
    const destination = path.join(dir, 'shared.safetensors');
    const lockPath = path.join(dir, 'locks', 'shared.lock');
    const [a, b] = await Promise.all([
      itemFor(hub(), { repo: REPO, file: 'shared.safetensors', destination, dispatcher, lockPath }),
      itemFor(hub(), { repo: REPO, file: 'shared.safetensors', destination, dispatcher, lockPath }),
    ]);
    hub().resetStats();
    const [first, second] = await Promise.all([engine.download(a), engine.download({ ...b, id: 'second' })]);
    await engine.close();
    expect(ev.of('waiting-for-lock')).toEqual([]);
    expect(first.bytesTransferred).toBe(2 * MB);
    expect(second).toMatchObject({ id: 'second', bytesTransferred: 0, deliveredByOther: true });
    expect(hub().stats.bytesServed).toBe(2 * MB);
    expect((await readFile(destination)).equals(await hub().contentOf(REPO, 'shared.safetensors'))).toBe(true);
  });
});
