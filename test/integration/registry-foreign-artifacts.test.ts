/**
 * `mlcache pull` of artifacts other tools push, written by hand the way they write them and served
 * by a REAL registry (Debian's docker-registry): modctl's ModelPack (raw, tar, tar+gzip, tar+zstd
 * layers), the legacy `vnd.cnai` spelling, plain ORAS files and unpack folders. And what must be
 * refused: a container image (named by its media type), a tar that climbs out with `..`, links.
 */
import { readFile, readlink, mkdtemp, rm, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pull } from '../../src/commands/pull.js';
import { loadSettings } from '../../src/config/settings.js';
import { isMlcacheError } from '../../src/errors.js';
import { createRegistryClient } from '../../src/registry/index.js';
import { digestOf, gzip, tarOf, zstdFrame } from '../helpers/oci-blobs.js';
import { useRealRegistry } from '../helpers/real-registry.js';

const real = useRealRegistry();
let dispatcher: Agent;
let root: string;
beforeAll(async () => {
  dispatcher = new Agent();
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-foreign-'));
});
afterAll(async () => {
  await dispatcher.close();
  await rm(root, { recursive: true, force: true });
});

interface Layer {
  mediaType: string;
  data: Buffer;
  annotations?: Record<string, string>;
}

/** Push blobs and a manifest with the registry client, as another tool would have. */
async function publish(repository: string, tag: string, layers: Layer[], options: { artifactType?: string; configMediaType: string; config: unknown }): Promise<string> {
  const client = createRegistryClient({ dispatcher, registry: real().registry, insecure: true });
  const configBytes = Buffer.from(JSON.stringify(options.config));
  for (const blob of [configBytes, ...layers.map((l) => l.data)]) {
    await client.uploadBlob(repository, { digest: digestOf(blob), size: blob.length, open: (start) => Readable.from([blob.subarray(start)]) });
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    config: { mediaType: options.configMediaType, digest: digestOf(configBytes), size: configBytes.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: digestOf(l.data), size: l.data.length, ...(l.annotations ? { annotations: l.annotations } : {}) })),
  };
  const { digest } = await client.putManifest(repository, tag, Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
  await client.close();
  return digest;
}

const settings = (cacheDir: string) => loadSettings({ env: { HOME: root }, cwd: root, cacheDir });
const COMMIT = 'abcdef0123456789abcdef0123456789abcdef01';

async function readSnapshotFile(cacheDir: string, folder: string, commit: string, file: string): Promise<string> {
  return readFile(path.join(cacheDir, folder, 'snapshots', commit, file), 'utf8');
}

describe('pull of artifacts other tools push', () => {
  it('modctl ModelPack: raw, tar, tar+gzip and tar+zstd layers land as files, named by the config', async () => {
    const weights = Buffer.alloc(300_000, 9);
    const layers: Layer[] = [
      { mediaType: 'application/vnd.cncf.model.weight.v1.raw', data: weights, annotations: { 'org.cncf.model.filepath': 'model.safetensors' } },
      { mediaType: 'application/vnd.cncf.model.doc.v1.tar', data: await tarOf([{ name: 'README.md', content: '# foreign\n' }]), annotations: { 'org.cncf.model.filepath': 'README.md' } },
      { mediaType: 'application/vnd.cncf.model.weight.config.v1.tar+gzip', data: gzip(await tarOf([{ name: 'conf/', type: 'directory' }, { name: 'conf/config.json', content: '{"a":1}' }])), annotations: { 'org.cncf.model.filepath': 'conf/config.json' } },
      { mediaType: 'application/vnd.cncf.model.code.v1.tar+zstd', data: zstdFrame(await tarOf([{ name: './modeling.py', content: 'print("hi")\n'.repeat(20_000) }])), annotations: { 'org.cncf.model.filepath': 'modeling.py' } },
    ];
    await publish('models/modctl/foreign', 'v1', layers, {
      artifactType: 'application/vnd.cncf.model.manifest.v1+json',
      configMediaType: 'application/vnd.cncf.model.config.v1+json',
      config: { descriptor: { name: 'acme/foreign-model', revision: COMMIT }, config: {}, modelfs: { type: 'layers', diffIds: layers.map((l) => digestOf(l.data)) } },
    });
    const cache = path.join(root, 'modctl');
    const result = await pull({ settings: settings(cache), reference: `oci://${real().registry}/models/modctl/foreign:v1` });
    expect(result).toMatchObject({ repoId: 'acme/foreign-model', revision: 'v1', commit: COMMIT, format: 'modelpack', archives: 3 });
    const folder = 'models--acme--foreign-model';
    expect(await readSnapshotFile(cache, folder, COMMIT, 'README.md')).toBe('# foreign\n');
    expect(await readSnapshotFile(cache, folder, COMMIT, 'conf/config.json')).toBe('{"a":1}');
    expect(await readSnapshotFile(cache, folder, COMMIT, 'modeling.py')).toBe('print("hi")\n'.repeat(20_000));
    expect((await readFile(path.join(cache, folder, 'snapshots', COMMIT, 'model.safetensors'))).equals(weights)).toBe(true);
    expect(await readFile(path.join(cache, folder, 'refs', 'v1'), 'utf8')).toBe(COMMIT);
    // Links point into blobs/, named by sha256; the tar layers themselves are gone.
    expect(await readlink(path.join(cache, folder, 'snapshots', COMMIT, 'README.md'))).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{64}$/);
    expect((await readdir(path.join(cache, folder, 'blobs'))).length).toBe(4);
    // A second pull: the ref already names the commit, so nothing is fetched.
    const again = await pull({ settings: settings(cache), reference: `oci://${real().registry}/models/modctl/foreign:v1` });
    expect(again.bytesFetched).toBe(0);
  });

  it('legacy vnd.cnai layers with org.cnai.model.filepath', async () => {
    await publish('models/legacy/model', 'latest', [
      { mediaType: 'application/vnd.cnai.model.weight.v1.raw', data: Buffer.from('legacy weights'), annotations: { 'org.cnai.model.filepath': 'weights/model.bin' } },
    ], { artifactType: 'application/vnd.cnai.model.manifest.v1+json', configMediaType: 'application/vnd.cnai.model.config.v1+json', config: { descriptor: { name: 'legacy/model' }, config: {}, modelfs: { type: 'layers', diffIds: [] } } });
    const cache = path.join(root, 'legacy');
    const result = await pull({ settings: settings(cache), reference: `oci://${real().registry}/models/legacy/model:latest` });
    expect(result).toMatchObject({ repoId: 'legacy/model', format: 'modelpack-legacy', revision: 'latest' });
    // No commit anywhere: one is derived from the manifest digest, the same on every machine.
    expect(result.commit).toBe(result.manifestDigest.slice('sha256:'.length, 'sha256:'.length + 40));
    expect(await readSnapshotFile(cache, 'models--legacy--model', result.commit, 'weights/model.bin')).toBe('legacy weights');
  });

  it('plain ORAS: files by title, and an unpack folder (tar+gzip) under its name', async () => {
    await publish('oras/thing', 'v2', [
      { mediaType: 'application/octet-stream', data: Buffer.from('onnx!'), annotations: { 'org.opencontainers.image.title': 'model.onnx' } },
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        data: gzip(await tarOf([{ name: 'tokenizer/', type: 'directory' }, { name: 'tokenizer/vocab.txt', content: 'x y' }, { name: 'tokenizer/merges.txt', content: 'm' }])),
        annotations: { 'org.opencontainers.image.title': 'tokenizer', 'io.deis.oras.content.unpack': 'true' },
      },
    ], { configMediaType: 'application/vnd.oci.empty.v1+json', config: {} });
    const cache = path.join(root, 'oras');
    const result = await pull({ settings: settings(cache), reference: `oci://${real().registry}/oras/thing:v2`, repoId: 'team/thing' });
    expect(result).toMatchObject({ repoId: 'team/thing', format: 'oras', revision: 'v2' });
    expect(await readSnapshotFile(cache, 'models--team--thing', result.commit, 'tokenizer/vocab.txt')).toBe('x y');
    expect(await readSnapshotFile(cache, 'models--team--thing', result.commit, 'model.onnx')).toBe('onnx!');
  });

  it('a container image is refused by its media type, before any layer is fetched', async () => {
    await publish('library/app', 'latest', [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', data: gzip(await tarOf([{ name: 'bin/sh', content: '#!' }])) }], {
      configMediaType: 'application/vnd.oci.image.config.v1+json',
      config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
    });
    const cache = path.join(root, 'image');
    const error = await pull({ settings: settings(cache), reference: `oci://${real().registry}/library/app:latest` }).catch((e: unknown) => e);
    expect(isMlcacheError(error) && error.code).toBe('ARTIFACT_UNSUPPORTED');
    expect((error as Error).message).toContain('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(await readdir(cache).catch(() => [])).not.toContain('models--library--app');
  });

  it('a gzip bomb (a small layer that expands past 64× its size) is refused and its layer not kept', async () => {
    const bomb = gzip(await tarOf([{ name: 'zeros.bin', content: Buffer.alloc(100 * 1024 * 1024) }]));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    await publish('models/hostile/bomb', 'v1', [{ mediaType: 'application/vnd.cncf.model.weight.v1.tar+gzip', data: bomb, annotations: { 'org.cncf.model.filepath': 'zeros.bin' } }], {
      artifactType: 'application/vnd.cncf.model.manifest.v1+json',
      configMediaType: 'application/vnd.cncf.model.config.v1+json',
      config: { descriptor: { name: 'hostile/bomb', revision: COMMIT }, config: {}, modelfs: { type: 'layers', diffIds: [] } },
    });
    const cache = path.join(root, 'bomb');
    const error = await pull({ settings: settings(cache), reference: `oci://${real().registry}/models/hostile/bomb:v1` }).catch((e: unknown) => e);
    expect(isMlcacheError(error) && error.code).toBe('ARTIFACT_INVALID');
    expect((error as Error).message).toMatch(/decompression bomb/);
    const folder = path.join(cache, 'models--hostile--bomb');
    expect(await readdir(path.join(folder, 'blobs'))).toEqual([]);
    expect(await readdir(path.join(folder, '.mlcache-tmp')).catch(() => [])).toEqual([]);
  });

  it.each([
    ['a path that climbs out', [{ name: '../../escape.txt', content: 'x' }], 'UNSAFE_PATH'],
    ['an absolute path', [{ name: '/etc/evil', content: 'x' }], 'UNSAFE_PATH'],
    ['a symlink', [{ name: 'link', type: 'symlink' as const, linkname: '/etc/passwd' }], 'UNSAFE_PATH'],
  ])('a tar layer with %s is refused and nothing lands outside the cache', async (_what, entries, code) => {
    const repository = `models/hostile/t${Math.random().toString(16).slice(2, 8)}`;
    await publish(repository, 'v1', [{ mediaType: 'application/vnd.cncf.model.weight.v1.tar', data: await tarOf(entries), annotations: { 'org.cncf.model.filepath': 'x' } }], {
      artifactType: 'application/vnd.cncf.model.manifest.v1+json',
      configMediaType: 'application/vnd.cncf.model.config.v1+json',
      config: { descriptor: { name: 'hostile/model', revision: COMMIT }, config: {}, modelfs: { type: 'layers', diffIds: [] } },
    });
    const cache = path.join(root, 'hostile', 'cache');
    const error = await pull({ settings: settings(cache), reference: `oci://${real().registry}/${repository}:v1` }).catch((e: unknown) => e);
    expect(isMlcacheError(error) && error.code).toBe(code);
    expect(await readdir(path.join(root, 'hostile'))).toEqual(['cache']);
    // No ref: the snapshot is not claimed complete.
    expect(await readdir(path.join(cache, 'models--hostile--model', 'refs')).catch(() => [])).toEqual([]);
  });
});
