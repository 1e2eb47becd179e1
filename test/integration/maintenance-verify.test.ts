/**
 * verify / verify --repair / status against real caches: written by mlcache's download() and by
 * @huggingface/hub's snapshotDownload against the Hub emulator, then damaged by hand.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { snapshotDownload } from '@huggingface/hub';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CatalogSchema } from '../../src/catalog/index.js';
import { download } from '../../src/commands/download.js';
import { status } from '../../src/commands/status/index.js';
import { verify } from '../../src/commands/verify.js';
import { loadSettings } from '../../src/config/settings.js';
import { useEmulator } from '../helpers/emulator.js';

const REPO = 'acme/tiny';
const hub = useEmulator(() => ({
  repos: [
    {
      id: REPO,
      revisions: [
        {
          refs: ['main'],
          files: [
            { path: 'config.json', content: '{"a":1}\n' },
            { path: 'sub/tokenizer.json', content: '{"tok":true}\n' },
            { path: 'model.safetensors', generated: { size: 300_000, seed: 5 } },
          ],
        },
      ],
    },
  ],
}));

let root: string;
let cacheDir: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'mlcache-verify-'));
  cacheDir = path.join(root, 'hub');
  hub().resetStats();
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const settings = (endpoint = hub().url) => loadSettings({ env: { HOME: root }, cwd: root, cacheDir, endpoint, torchHome: path.join(root, 'torch') });
const catalog = () =>
  CatalogSchema.parse({ groups: { tiny: { entries: [{ repo: REPO, purpose: 'test', include: ['*.json', 'sub/*', 'model.safetensors'] }] } } });
const repoDir = () => path.join(cacheDir, 'models--acme--tiny');

describe('verify finds each kind of damage and --repair fixes it', () => {
  it('flipped byte, missing blob, dangling symlink, newline ref, ref to missing snapshot, orphan blob, partial, incomplete snapshot', async () => {
    await download({ settings: settings(), repoId: REPO });
    const commit = hub().commitOf(REPO, 'main');
    const snap = path.join(repoDir(), 'snapshots', commit);
    const model = await hub().digestOf(REPO, 'model.safetensors');
    const config = await hub().digestOf(REPO, 'config.json');
    const blobs = path.join(repoDir(), 'blobs');

    expect((await verify({ settings: settings() })).intact).toBe(true);

    // 1. a flipped byte in an LFS blob
    const modelBlob = path.join(blobs, model.etag);
    const bytes = await fs.readFile(modelBlob);
    bytes[1000] = bytes[1000]! ^ 0xff;
    await fs.writeFile(modelBlob, bytes);
    // 2. a missing (git sha1) blob
    await fs.rm(path.join(blobs, config.etag));
    // 3. a dangling symlink to a file the Hub does not have
    await fs.symlink('../../../nowhere/extra.txt', path.join(snap, 'extra.txt'));
    // 4. a ref with a trailing newline
    await fs.writeFile(path.join(repoDir(), 'refs', 'main'), `${commit}\n`);
    // 5. a ref to a missing snapshot
    await fs.writeFile(path.join(repoDir(), 'refs', 'v9'), 'f'.repeat(40));
    // 6. an orphan blob; 7. a leftover partial
    const orphan = createHash('sha256').update('orphan').digest('hex');
    await fs.writeFile(path.join(blobs, orphan), 'orphan');
    await fs.writeFile(path.join(blobs, `${'e'.repeat(64)}.0badc0de.incomplete`), 'part');
    // 8. a file trees/<commit>.json lists but the snapshot lacks
    await fs.rm(path.join(snap, 'sub', 'tokenizer.json'));

    const found = await verify({ settings: settings(), groups: ['tiny'], all: true, catalog: catalog() });
    expect(found.intact).toBe(false);
    const byKind = (k: string) => found.findings.filter((f) => f.kind === k).map((f) => f.message);
    expect(byKind('blob-mismatch')).toEqual([
      expect.stringMatching(new RegExp(`^acme/tiny: blobs/${model.etag} has sha256 [0-9a-f]{64}, not its name \\(300000 bytes\\); used by model.safetensors@${commit.slice(0, 12)}\\.$`)),
    ]);
    expect(byKind('blob-missing')).toEqual([`acme/tiny@${commit.slice(0, 12)}: config.json points to blobs/${config.etag}, which does not exist.`]);
    expect(byKind('broken-link')).toEqual([`acme/tiny@${commit.slice(0, 12)}: extra.txt is a dangling symlink to ../../../nowhere/extra.txt (not a blob of this repo).`]);
    expect(byKind('ref-trailing-newline')).toHaveLength(1);
    expect(byKind('ref-missing-snapshot')).toEqual([`acme/tiny: refs/v9 points to "${'f'.repeat(40)}", but there is no snapshots/${'f'.repeat(40)}/.`]);
    const tok = await hub().digestOf(REPO, 'sub/tokenizer.json');
    // the tokenizer's blob stays behind when its pointer goes: an orphan too
    expect(byKind('orphan-blob').sort()).toEqual(
      [`acme/tiny: blobs/${orphan} (6 bytes) is not used by any snapshot.`, `acme/tiny: blobs/${tok.etag} (13 bytes) is not used by any snapshot.`].sort(),
    );
    expect(byKind('partial-download')).toHaveLength(1);
    expect(byKind('snapshot-incomplete')).toEqual([
      `acme/tiny@${commit.slice(0, 12)}: sub/tokenizer.json is listed in trees/${commit}.json and selected by group tiny, but the snapshot lacks it.`,
    ]);
    expect(found.counts.damage).toBe(6);

    hub().resetStats();
    const repaired = await verify({ settings: settings(), groups: ['tiny'], all: true, catalog: catalog(), repair: true });
    expect(repaired.findings.find((f) => f.kind === 'ref-missing-snapshot')?.repairNote).toBe('the Hub has no commit ffffffffffff: ref removed');
    expect(repaired.intact).toBe(true);
    expect(repaired.findings.filter((f) => f.severity === 'damage').map((f) => [f.kind, f.repaired])).toEqual(
      expect.arrayContaining([
        ['blob-mismatch', 'fixed'],
        ['blob-missing', 'fixed'],
        ['broken-link', 'removed'],
        ['ref-trailing-newline', 'fixed'],
        ['ref-missing-snapshot', 'removed'],
        ['snapshot-incomplete', 'fixed'],
      ]),
    );
    // Only the bad blobs were fetched again (LFS through the CDN, named by sha256); the tokenizer's
    // blob was still there, so it was only linked again.
    const fetched = hub()
      .stats.requests.filter((r) => r.method === 'GET' && r.status < 300 && r.bytesSent > 0 && !r.url.startsWith('/api/'))
      .map((r) => decodeURIComponent(r.url.split('?')[0]!.split('/').pop()!));
    expect(new Set(fetched)).toEqual(new Set([model.etag, 'config.json']));

    expect(await fs.readFile(path.join(repoDir(), 'refs', 'main'), 'utf8')).toBe(commit);
    expect(await fs.readFile(path.join(snap, 'model.safetensors'))).toEqual(await hub().contentOf(REPO, 'model.safetensors'));
    expect(await fs.readFile(path.join(snap, 'config.json'), 'utf8')).toBe('{"a":1}\n');
    expect(await fs.readFile(path.join(snap, 'sub', 'tokenizer.json'), 'utf8')).toBe('{"tok":true}\n');
    await expect(fs.lstat(path.join(snap, 'extra.txt'))).rejects.toThrow();
    await expect(fs.stat(path.join(repoDir(), 'refs', 'v9'))).rejects.toThrow();

    const again = await verify({ settings: settings(), groups: ['tiny'], all: true, catalog: catalog() });
    expect(again.intact).toBe(true);
    expect(again.findings.filter((f) => f.severity === 'damage')).toEqual([]);
  });

  it('URL artifacts: missing, wrong hash, and repaired through the engine', async () => {
    const commit = hub().commitOf(REPO, 'main');
    const digest = await hub().digestOf(REPO, 'config.json');
    const cat = CatalogSchema.parse({
      groups: {
        art: {
          entries: [{ url: `${hub().url}/acme/tiny/resolve/${commit}/config.json`, sha256: digest.sha256, size: digest.size, destination: 'hub/checkpoints/config.json', purpose: 'test' }],
        },
      },
    });
    await fs.mkdir(cacheDir, { recursive: true });
    const missing = await verify({ settings: settings(), groups: ['art'], catalog: cat });
    expect(missing.findings.map((f) => f.kind)).toEqual(['artifact-missing']);
    const dest = path.join(root, 'torch', 'hub', 'checkpoints', 'config.json');
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.writeFile(dest, '{"a":2}\n');
    const bad = await verify({ settings: settings(), groups: ['art'], catalog: cat });
    expect(bad.findings.map((f) => f.message)).toEqual([expect.stringMatching(/^config\.json: .*config\.json has sha256 [0-9a-f]{64}, the catalog says [0-9a-f]{64} \(group art\)\.$/)]);
    const fixed = await verify({ settings: settings(), groups: ['art'], catalog: cat, repair: true });
    expect(fixed.intact).toBe(true);
    expect(await fs.readFile(dest, 'utf8')).toBe('{"a":1}\n');
  });
});

describe('caches written by @huggingface/hub', () => {
  it('snapshotDownload against the emulator reads correctly in status and verify, with no network', async () => {
    const debug = console.debug;
    console.debug = () => undefined;
    try {
      await snapshotDownload({ repo: REPO, cacheDir, hubUrl: hub().url });
    } finally {
      console.debug = debug;
    }
    const commit = hub().commitOf(REPO, 'main');
    hub().resetStats();
    const report = await status({ settings: settings('http://127.0.0.1:9'), catalog: catalog() });
    expect(hub().stats.requests).toEqual([]);
    const entry = report.groups[0]!.entries[0]!;
    expect(entry).toMatchObject({ ok: true, commit, missingFiles: [], treeCache: false });
    expect(entry.files.map((f) => f.path).sort()).toEqual(['config.json', 'model.safetensors', 'sub/tokenizer.json']);
    expect(entry.sizeOnDisk).toBe(300_000 + 8 + 13);
    expect(report.repos).toHaveLength(1);
    expect(report.repos[0]).toMatchObject({ repo: REPO, sizeOnDisk: 300_021, revisions: [{ commit, refs: ['main'], files: 3 }] });

    const checked = await verify({ settings: settings('http://127.0.0.1:9') });
    expect(checked.filesHashed).toBe(3);
    expect(checked.findings).toEqual([]);
    expect(checked.intact).toBe(true);
  });
});
