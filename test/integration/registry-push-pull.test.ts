/**
 * push → pull through a REAL registry (Debian's docker-registry, CNCF distribution 2.8.2, on
 * loopback): the pulled cache is byte-identical to the pushed one (blobs, snapshot links, refs,
 * trees), for a model and a dataset with nested and non-ASCII paths, whole and partial snapshots;
 * skopeo reads what was pushed; a second pull moves nothing; @huggingface/hub's scanner reads the
 * result without a warning.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { scanCacheDir } from '@huggingface/hub';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoFolderName } from '../../src/cache/index.js';
import { download } from '../../src/commands/download.js';
import { pull } from '../../src/commands/pull.js';
import { push } from '../../src/commands/push.js';
import { loadSettings } from '../../src/config/settings.js';
import type { FixtureRepo } from '../../src/emulator/index.js';
import { ANNOTATION, MODEL_ARTIFACT_TYPE } from '../../src/modelpack/media-types.js';
import { describeRepoFolder } from '../helpers/cache-tree.js';
import { useEmulator } from '../helpers/emulator.js';
import { useRealRegistry } from '../helpers/real-registry.js';

const run = promisify(execFile);
const MODEL = 'Acme/Tiny-Model';
const DATASET = 'acme/Speech_Set';
const repos = (): FixtureRepo[] => [
  {
    id: MODEL,
    revisions: [
      {
        refs: ['main'],
        files: [
          { path: 'README.md', content: '---\nlicense: apache-2.0\n---\n# tiny\n' },
          { path: 'config.json', content: '{"model_type":"tiny"}\n' },
          { path: 'model.safetensors', generated: { size: 2_000_000, seed: 1 } },
          { path: 'onnx/sub/model.onnx', generated: { size: 300_000, seed: 2 } },
          { path: 'tokenizer/vocabulário ñ.txt', content: 'a b c\n' },
          { path: 'copy-of-config.json', content: '{"model_type":"tiny"}\n' },
        ],
      },
    ],
  },
  {
    id: DATASET,
    type: 'dataset',
    revisions: [{ refs: ['main'], files: [{ path: 'data/train/part-0.parquet', generated: { size: 700_000, seed: 3 } }, { path: 'README.md', content: '# data\n' }] }],
  },
];

const hub = useEmulator(() => ({ repos: repos() }));
const real = useRealRegistry();
let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-pushpull-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const settingsFor = (cacheDir: string) => loadSettings({ env: { HOME: root }, cwd: root, cacheDir, endpoint: hub().url });

async function roundTrip(repoId: string, repoType: 'model' | 'dataset', target: string, include?: string[]) {
  const source = path.join(root, 'a');
  const copy = path.join(root, 'b');
  await download({ settings: settingsFor(source), repoId, repoType, include });
  const pushed = await push({ settings: settingsFor(source), repo: repoId, repoType, target });
  const pulled = await pull({ settings: settingsFor(copy), reference: target });
  const folder = repoFolderName({ id: repoId, type: repoType });
  return { pushed, pulled, source, copy, before: await describeRepoFolder(path.join(source, folder)), after: await describeRepoFolder(path.join(copy, folder)) };
}

describe('push → pull through a real registry', () => {
  it('a model with nested and non-ASCII paths comes back byte-identical, and skopeo reads the ModelPack manifest', async () => {
    const target = `oci://${real().registry}/models/acme/tiny-model:main`;
    const { pushed, pulled, before, after, copy } = await roundTrip(MODEL, 'model', target);
    expect(after).toEqual(before);
    expect(Object.keys(after)).toEqual(expect.arrayContaining(['refs/main', `trees/${pushed.commit}.json`, `snapshots/${pushed.commit}/tokenizer/vocabulário ñ.txt`]));
    expect(pushed.tags).toEqual(['main', pushed.commit]);
    // Two paths with the same bytes are one layer upload.
    expect(pushed.layers).toBe(6);
    expect(pushed.layersUploaded).toBe(5);
    expect(pulled).toMatchObject({ repoId: MODEL, repoType: 'model', revision: 'main', commit: pushed.commit, format: 'modelpack', manifestDigest: pushed.manifestDigest });
    expect(pulled.bytesFetched).toBe(pulled.bytesTotal - '{"model_type":"tiny"}\n'.length);

    const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${real().registry}/models/acme/tiny-model:main`], { timeout: 30_000 });
    const manifest = JSON.parse(stdout);
    expect(manifest.artifactType).toBe(MODEL_ARTIFACT_TYPE);
    expect(manifest.annotations[ANNOTATION.repoId]).toBe(MODEL);
    expect(manifest.layers.map((l: { annotations: Record<string, string> }) => l.annotations[ANNOTATION.filepath])).toContain('tokenizer/vocabulário ñ.txt');
    const { stdout: byCommit } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${real().registry}/models/acme/tiny-model:${pushed.commit}`], { timeout: 30_000 });
    expect(byCommit).toBe(stdout);

    // Nothing of mlcache's own is left in the repo folder (its temp folder goes when empty).
    expect(await readdir(path.join(copy, repoFolderName({ id: MODEL, type: 'model' })))).toEqual(['blobs', 'refs', 'snapshots', 'trees']);
    const scan = await scanCacheDir(copy);
    expect(scan.warnings).toEqual([]);
    expect(scan.repos.map((r) => r.id.name)).toEqual([MODEL]);

    // Again: nothing moves.
    const again = await pull({ settings: settingsFor(copy), reference: target });
    expect(again.bytesFetched).toBe(0);
    expect(again.bytesNeeded).toBe(0);
    expect(await describeRepoFolder(path.join(copy, repoFolderName({ id: MODEL, type: 'model' })))).toEqual(before);

    // A second push of the unchanged snapshot uploads nothing and gives the same digest.
    const second = await push({ settings: settingsFor(path.join(root, 'a')), repo: MODEL, target });
    expect(second.manifestDigest).toBe(pushed.manifestDigest);
    expect(second.bytesUploaded).toBe(0);
    expect(second.layersPresent).toBe(5);
  });

  it('a dataset round-trips under its type', async () => {
    const target = `oci://${real().registry}/datasets/acme/speech_set:main`;
    const { before, after, pulled } = await roundTrip(DATASET, 'dataset', target);
    expect(after).toEqual(before);
    expect(pulled).toMatchObject({ repoId: DATASET, repoType: 'dataset' });
  });

  it('a partial snapshot (--include) round-trips with the whole commit\'s tree, and only its files are fetched', async () => {
    const target = `oci://${real().registry}/models/acme/tiny-partial:main`;
    const { before, after, pulled, pushed } = await roundTrip(MODEL, 'model', target, ['*.json']);
    expect(after).toEqual(before);
    expect(pulled.files.map((f) => f.path).sort()).toEqual(['config.json', 'copy-of-config.json']);
    // The trees file lists all six files, as the download wrote it.
    expect(Object.keys(after)).toContain(`trees/${pushed.commit}.json`);
  });

  it('a pull into a cache that already holds the blobs fetches none of them', async () => {
    const target = `oci://${real().registry}/models/acme/tiny-warm:main`;
    const cache = path.join(root, 'a');
    await download({ settings: settingsFor(cache), repoId: MODEL });
    await push({ settings: settingsFor(cache), repo: MODEL, target });
    const result = await pull({ settings: settingsFor(cache), reference: target });
    expect(result.bytesFetched).toBe(0);
    expect(result.files.every((f) => f.cached)).toBe(true);
  });
});
