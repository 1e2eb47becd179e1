/**
 * `download({ localDir })` against the Hub emulator: real files at their paths, huggingface_hub's
 * `.cache/huggingface/download/<path>.metadata` (commit, etag, float timestamp), a second run that
 * fetches and rewrites nothing, metadata written by Python accepted, an edited file replaced
 * without touching the cache, and a run stopped mid-transfer that the next one finishes.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { download } from '../../src/commands/download.js';
import { loadSettings } from '../../src/config/settings.js';
import type { TransferEvent } from '../../src/download/types.js';
import { MlcacheError } from '../../src/errors.js';
import { formatDownloadMetadata, parseDownloadMetadata } from '../../src/snapshot/index.js';
import { useEmulator } from '../helpers/emulator.js';
import { gitBlobSha1 as gitSha1 } from '../helpers/cache-repo.js';

const REPO = 'acme/local';
const CONFIG = '{"hidden":64}\n';
const hub = useEmulator({
  repos: [
    {
      id: REPO,
      revisions: [
        {
          refs: ['main'],
          files: [
            { path: 'config.json', content: CONFIG },
            { path: 'sub/dir/tokenizer.json', content: '{"v":[1,2,3]}\n' },
            { path: 'model.safetensors', generated: { size: 3_000_000, seed: 5 } },
          ],
        },
      ],
    },
  ],
});

let root: string;
let cacheDir: string;
let localDir: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-local-dir-'));
  cacheDir = path.join(root, 'hub');
  localDir = path.join(root, 'models', 'local');
  hub().resetStats();
  hub().setFaults({});
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const settings = () => loadSettings({ env: { HOME: root }, cwd: root, cacheDir, endpoint: hub().url, project: false });
const run = (extra: { signal?: AbortSignal; onEvent?: (e: TransferEvent) => void } = {}) => download({ settings: settings(), repoId: REPO, localDir, ...extra });
const metadataOf = (p: string) => path.join(localDir, '.cache', 'huggingface', 'download', `${p}.metadata`);
const fileGets = () => hub().stats.requests.filter((r) => r.method === 'GET' && (r.origin === 'cdn' || r.url.includes('/resolve/'))).length;

describe('download --local-dir', () => {
  it('a DIR that is a file, or inside the hub cache, is a usage error before any request', async () => {
    await mkdir(root, { recursive: true });
    const file = path.join(root, 'a-file');
    await writeFile(file, 'x');
    for (const [dir, message] of [
      [file, /is a file, not a folder/],
      [cacheDir, /is inside the hub cache/],
      [path.join(cacheDir, 'models'), /is inside the hub cache/],
    ] as const) {
      hub().resetStats();
      const error = await download({ settings: settings(), repoId: REPO, localDir: dir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MlcacheError);
      expect((error as MlcacheError).code).toBe('USAGE');
      expect((error as MlcacheError).message).toMatch(message);
      expect(hub().stats.requests).toHaveLength(0);
    }
    expect(await readFile(file, 'utf8')).toBe('x');
  });

  it('a file patched in place in DIR never changes the cache: no file of DIR is a hardlink to a blob', async () => {
    const first = await run();
    const weights = path.join(localDir, 'model.safetensors');
    const want = parseDownloadMetadata(await readFile(metadataOf('model.safetensors'), 'utf8'))!.etag;
    expect((await stat(weights)).nlink).toBe(1);
    // A tool that writes weights back in place (dd conv=notrunc, a fine-tune saving over them).
    const handle = await open(weights, 'r+');
    await handle.write(Buffer.from('PATCHED'), 0, 7, 1000);
    await handle.close();
    // The cache's blob still holds the Hub's bytes…
    const blob = path.join(first.snapshotPath, 'model.safetensors');
    expect(createHash('sha256').update(await readFile(blob)).digest('hex')).toBe(want);
    // …so a fresh folder gets them, and the patched file is put back on the next run.
    const again = await download({ settings: settings(), repoId: REPO, localDir: path.join(root, 'fresh') });
    expect(createHash('sha256').update(await readFile(path.join(again.localDir!.path, 'model.safetensors'))).digest('hex')).toBe(want);
    await utimes(weights, new Date(), new Date(Date.now() + 10_000));
    await run();
    expect(createHash('sha256').update(await readFile(weights)).digest('hex')).toBe(want);
  });

  it('writes real files and huggingface_hub’s metadata; a second run fetches and writes nothing', async () => {
    const first = await run();
    const commit = hub().commitOf(REPO, 'main');
    expect(first.localDir?.path).toBe(localDir);
    expect(await readFile(path.join(localDir, 'config.json'), 'utf8')).toBe(CONFIG);
    expect((await stat(path.join(localDir, 'model.safetensors'))).size).toBe(3_000_000);
    expect((await stat(path.join(localDir, 'sub', 'dir', 'tokenizer.json'))).isFile()).toBe(true);
    // `_local_folder.py`: three lines, commit / etag (git sha1, or sha256 for LFS) / time.time().
    const text = await readFile(metadataOf('config.json'), 'utf8');
    expect(text).toMatch(new RegExp(`^${commit}\\n${gitSha1(CONFIG)}\\n\\d+(\\.\\d+)?\\n$`));
    const lfs = parseDownloadMetadata(await readFile(metadataOf('model.safetensors'), 'utf8'));
    expect(lfs?.etag).toMatch(/^[0-9a-f]{64}$/);
    expect(await readFile(path.join(localDir, '.cache', 'huggingface', '.gitignore'), 'utf8')).toBe('*');
    // Regular files are copies, never hardlinks to the cache's blob.
    expect((await stat(path.join(localDir, 'config.json'))).nlink).toBe(1);
    const placed = first.localDir!.placed;
    expect(placed.reflink + placed.copy).toBe(3);

    hub().resetStats();
    const mtimeBefore = (await stat(path.join(localDir, 'model.safetensors'))).mtimeMs;
    const second = await run();
    expect(second.localDir).toMatchObject({ upToDate: 3, placed: { reflink: 0, copy: 0 } });
    expect(second.bytesFetched).toBe(0);
    expect(fileGets()).toBe(0);
    expect((await stat(path.join(localDir, 'model.safetensors'))).mtimeMs).toBe(mtimeBefore);
  });

  it('trusts metadata written by Python, hashes a file with none, and replaces an edited file without touching the cache', async () => {
    const commit = hub().commitOf(REPO, 'main');
    // What `hf download --local-dir` leaves: the file, and metadata of an older commit with the same etag.
    await mkdir(path.join(localDir, 'sub', 'dir'), { recursive: true });
    await writeFile(path.join(localDir, 'sub', 'dir', 'tokenizer.json'), '{"v":[1,2,3]}\n');
    await mkdir(path.dirname(metadataOf('sub/dir/tokenizer.json')), { recursive: true });
    await writeFile(metadataOf('sub/dir/tokenizer.json'), formatDownloadMetadata({ commit: 'f'.repeat(40), etag: gitSha1('{"v":[1,2,3]}\n'), timestamp: Date.now() / 1000 + 5 }));
    // config.json copied by hand: no metadata, right bytes → hashed, kept, metadata written.
    await writeFile(path.join(localDir, 'config.json'), CONFIG);
    const first = await run();
    expect(first.localDir).toMatchObject({ upToDate: 2 });
    expect(parseDownloadMetadata(await readFile(metadataOf('sub/dir/tokenizer.json'), 'utf8'))?.commit).toBe(commit);
    expect(parseDownloadMetadata(await readFile(metadataOf('config.json'), 'utf8'))?.commit).toBe(commit);
    // Only the weights came from the Hub.
    expect(first.files.length).toBe(3);

    // An edit of the same size, newer than the metadata: not trusted, replaced from the cache.
    const edited = CONFIG.replace('64', '99');
    await writeFile(path.join(localDir, 'config.json'), edited);
    const later = new Date(Date.now() + 10_000);
    await utimes(path.join(localDir, 'config.json'), later, later);
    const again = await run();
    expect(again.localDir?.upToDate).toBe(2);
    expect(await readFile(path.join(localDir, 'config.json'), 'utf8')).toBe(CONFIG);
  });

  it('a run stopped mid-transfer writes no half file into DIR; the next run resumes and verifies', async () => {
    hub().setFaults({ perConnectionBytesPerSec: 1_000_000 });
    const controller = new AbortController();
    const error = await run({
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'file-progress' && e.bytesDone > 500_000) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlcacheError);
    expect((error as MlcacheError).code).toBe('INTERRUPTED');
    await expect(stat(path.join(localDir, 'model.safetensors'))).rejects.toMatchObject({ code: 'ENOENT' });
    const servedFirst = hub().stats.bytesServed;
    expect(servedFirst).toBeGreaterThan(500_000);

    hub().setFaults({});
    hub().resetStats();
    const second = await run();
    // Resumed from the cache's journal: what the first run wrote is not sent again.
    expect(hub().stats.bytesServed).toBeLessThan(3_000_000 - 250_000);
    expect(second.localDir?.upToDate).toBe(0);
    const lfs = parseDownloadMetadata(await readFile(metadataOf('model.safetensors'), 'utf8'));
    const digest = createHash('sha256').update(await readFile(path.join(localDir, 'model.safetensors'))).digest('hex');
    expect(digest).toBe(lfs?.etag);
  });
});
