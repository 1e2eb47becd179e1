/**
 * Registry-first cache-models against a REAL registry (Debian's docker-registry) and the Hub
 * emulator: the first node fetches from the Hub and --push-missing fills the registry; the next node
 * takes hits from the registry (no file request reaches the Hub) and misses from the Hub; an offline
 * node (HF_HUB_OFFLINE) is served by revision tag with no Hub request at all; a registry that is down
 * is a miss, not a failure; --dry-run says where each entry comes from.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Agent } from 'undici';
import { buildModelArtifact } from '../../src/modelpack/build-artifact.js';
import { createRegistryClient } from '../../src/registry/index.js';
import { readLocalSnapshot } from '../../src/snapshot/index.js';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoFolderName } from '../../src/cache/index.js';
import { CacheModelsPlanSchema } from '../../src/commands/cache-models/plan-schema.js';
import { cacheModels, planCacheModels, type CacheModelsOptions } from '../../src/commands/cache-models/index.js';
import { loadSettings } from '../../src/config/settings.js';
import { status } from '../../src/commands/status/index.js';
import { lock } from '../../src/commands/lock/index.js';
import { describeRepoFolder } from '../helpers/cache-tree.js';
import { useEmulator } from '../helpers/emulator.js';
import { closedPort } from '../helpers/net.js';
import { useRealRegistry } from '../helpers/real-registry.js';

const hub = useEmulator({
  repos: [
    {
      id: 'Org/Encoder',
      revisions: [{ refs: ['main'], files: [{ path: 'config.json', content: '{"e":1}' }, { path: 'model.safetensors', generated: { size: 400_000, seed: 4 } }, { path: 'pytorch_model.bin', generated: { size: 300_000, seed: 5 } }] }],
    },
    {
      id: 'org/asr',
      revisions: [{ refs: ['main'], files: [{ path: 'config.json', content: '{"a":2}' }, { path: 'model.bin', generated: { size: 200_000, seed: 6 } }] }],
    },
    { id: 'org/late', revisions: [{ refs: ['main'], files: [{ path: 'w.bin', generated: { size: 50_000, seed: 7 } }] }] },
  ],
});
const real = useRealRegistry();
const dispatcher = new Agent();
afterAll(() => dispatcher.close());

let tmp: string;
let catalogFile: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcache-regfirst-'));
  catalogFile = path.join(tmp, 'models.json');
  await writeFile(
    catalogFile,
    JSON.stringify({
      version: 1,
      groups: {
        fleet: {
          description: 'fleet models',
          entries: [
            { repo: 'Org/Encoder', purpose: 'encoder', include: ['config.json', 'model.safetensors'] },
            { repo: 'org/asr', purpose: 'asr' },
          ],
        },
        late: { description: 'not pushed', entries: [{ repo: 'org/late', purpose: 'late' }] },
      },
    }),
  );
  hub().resetStats();
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function options(node: string, extra: Partial<CacheModelsOptions> & { env?: Record<string, string> } = {}): CacheModelsOptions {
  const { env, ...rest } = extra;
  const settings = loadSettings({ env: { HOME: tmp, ...env }, cwd: tmp, cacheDir: path.join(tmp, node, 'hub'), endpoint: hub().url, torchHome: path.join(tmp, node, 'torch') });
  return { settings, shippedCatalogPath: catalogFile, groups: ['fleet'], yes: true, platform: { os: 'linux', arch: 'x64' }, ...rest };
}

/** Requests for file content (resolve URLs and the CDN), not the revision API. */
const fileRequests = () => hub().stats.requests.filter((r) => r.origin === 'cdn' || r.url.includes('/resolve/'));

describe('registry-first cache-models', () => {
  it('the first node fills the registry, the next takes hits (no file from the Hub) and matches it byte for byte', async () => {
    const registry = `oci://${real().registry}/fleet`;
    const first = await cacheModels(options('a', { registry, pushMissing: true }));
    expect(first.ok).toBe(true);
    expect(first.entries.map((e) => [e.name, e.source, e.status])).toEqual([
      ['Org/Encoder', 'hub', 'fetched'],
      ['org/asr', 'hub', 'fetched'],
    ]);
    expect(first.plan.entries.map((e) => e.registryMiss)).toEqual(['not in the registry', 'not in the registry']);
    for (const e of first.entries) expect(e.pushed).toMatch(new RegExp(`^oci://${real().registry}/fleet/org/(encoder|asr):main@sha256:[0-9a-f]{64}$`));

    hub().resetStats();
    const plan = await planCacheModels(options('b', { registry }));
    expect(CacheModelsPlanSchema.parse(plan).registry).toBe(`oci://${real().registry}/fleet`);
    expect(plan.entries.map((e) => [e.source, e.registry])).toEqual([
      ['registry', expect.stringMatching(/\/fleet\/org\/encoder:[0-9a-f]{40}$/)],
      ['registry', expect.stringMatching(/\/fleet\/org\/asr:[0-9a-f]{40}$/)],
    ]);
    const second = await cacheModels(options('b', { registry }));
    expect(second.ok).toBe(true);
    expect(second.entries.map((e) => [e.source, e.status])).toEqual([
      ['registry', 'fetched'],
      ['registry', 'fetched'],
    ]);
    // The Hub was asked for revisions only: one request per entry and run, no file, no tree listing.
    expect(fileRequests()).toEqual([]);
    expect(hub().stats.requests.filter((r) => r.url.includes('/tree/'))).toEqual([]);
    for (const id of ['Org/Encoder', 'org/asr']) {
      const folder = repoFolderName({ id, type: 'model' });
      expect(await describeRepoFolder(path.join(tmp, 'b', 'hub', folder))).toEqual(await describeRepoFolder(path.join(tmp, 'a', 'hub', folder)));
    }
    // Only the selected files of the encoder were pushed and pulled: the .bin stays out.
    expect(second.entries[0]!.files).toBe(2);
  });

  it('an offline node is served by revision tag, with no request to the Hub at all; a miss says why', async () => {
    const registry = `oci://${real().registry}/offline`;
    await cacheModels(options('a', { registry, pushMissing: true }));
    hub().resetStats();
    const offline = await cacheModels(options('c', { registry, env: { HF_HUB_OFFLINE: '1' }, groups: ['fleet', 'late'] }));
    expect(hub().stats.requestCount).toBe(0);
    expect(offline.entries.map((e) => [e.name, e.source, e.status])).toEqual([
      ['Org/Encoder', 'registry', 'fetched'],
      ['org/asr', 'registry', 'fetched'],
      ['org/late', 'hub', 'failed'],
    ]);
    expect(offline.entries[2]!.error?.code).toBe('OFFLINE');
    expect(offline.ok).toBe(false);
  });

  it('a registry that is down is a miss with its reason, and the Hub serves the entries', async () => {
    const registry = `oci://${(await closedPort()).replace('http://', '')}/down`;
    const result = await cacheModels(options('d', { registry }));
    expect(result.ok).toBe(true);
    expect(result.entries.map((e) => e.source)).toEqual(['hub', 'hub']);
    expect(result.plan.entries[0]!.registryMiss).toMatch(/^the registry failed: /);
  });

  it('a locked node (--frozen) with a registry asks the Hub nothing at all', async () => {
    const registry = `oci://${real().registry}/frozen`;
    await cacheModels(options('a', { registry, pushMissing: true }));
    const lockfile = path.join(tmp, 'mlcache.lock');
    const a = options('a');
    await lock({ settings: a.settings, shippedCatalogPath: catalogFile, groups: ['fleet'], platform: { os: 'linux', arch: 'x64' }, lockfile });
    hub().resetStats();
    const frozen = await cacheModels(options('f', { registry, frozen: true, lockfile }));
    expect(frozen.ok).toBe(true);
    expect(frozen.entries.map((e) => e.source)).toEqual(['registry', 'registry']);
    expect(hub().stats.requestCount).toBe(0);
  });

  it('with --frozen, a registry artifact that disagrees with the lock (a poisoned tag) is not used', async () => {
    const registry = `oci://${real().registry}/poison`;
    await cacheModels(options('a', { registry, pushMissing: true }));
    const lockfile = path.join(tmp, 'mlcache.lock');
    const a = options('a');
    await lock({ settings: a.settings, shippedCatalogPath: catalogFile, groups: ['fleet'], platform: { os: 'linux', arch: 'x64' }, lockfile });
    // Someone with push rights re-pushes Org/Encoder's commit tag with a different config.json.
    const local = await readLocalSnapshot(path.join(tmp, 'a', 'hub'), { id: 'Org/Encoder', type: 'model' }, 'main', { endpoint: hub().url });
    const evil = Buffer.from('{"e":666}');
    const gitId = createHash('sha1').update(`blob ${evil.length}\0`).update(evil).digest('hex');
    const files = local.source.files.map((f) => (f.path === 'config.json' ? { ...f, size: evil.length, sha256: createHash('sha256').update(evil).digest('hex'), blobId: gitId } : f));
    const built = buildModelArtifact({ ...local.source, files });
    const client = createRegistryClient({ dispatcher, registry: real().registry, insecure: true });
    const repository = 'poison/org/encoder';
    for (const blob of [built.config.bytes, evil]) {
      await client.uploadBlob(repository, { digest: `sha256:${createHash('sha256').update(blob).digest('hex')}`, size: blob.length, open: (start) => Readable.from([blob.subarray(start)]) });
    }
    await client.putManifest(repository, local.commit, built.manifest.bytes, built.manifest.mediaType);
    await client.close();

    const frozen = await cacheModels(options('p', { registry, frozen: true, lockfile }));
    expect(frozen.ok).toBe(true);
    expect(frozen.plan.entries[0]).toMatchObject({ source: 'hub', registryMiss: expect.stringMatching(/disagrees with mlcache\.lock/) });
    expect(frozen.entries[1]!.source).toBe('registry');
    const config = await readFile(path.join(tmp, 'p', 'hub', 'models--Org--Encoder', 'snapshots', local.commit, 'config.json'), 'utf8');
    expect(config).toBe('{"e":1}');
  });

  it('status --registry says which entries the registry holds; without it, status asks nobody', async () => {
    const registry = `oci://${real().registry}/status`;
    await cacheModels(options('a', { registry, pushMissing: true }));
    const o = options('s');
    const report = await status({ settings: o.settings, catalogPath: catalogFile, groups: ['fleet', 'late'], registry });
    const entries = report.groups.flatMap((g) => g.entries);
    expect(entries.map((e) => [e.name, e.ok, e.registry?.available])).toEqual([
      ['Org/Encoder', false, true],
      ['org/asr', false, true],
      ['org/late', false, false],
    ]);
    expect(entries[0]!.registry?.reference).toBe(`oci://${real().registry}/status/org/encoder:main`);
    const plain = await status({ settings: o.settings, catalogPath: catalogFile, groups: ['fleet'] });
    expect(plain.groups[0]!.entries.every((e) => e.registry === undefined)).toBe(true);
  });

  it('MLCACHE_REGISTRY and the catalog\'s "registry" field name the registry; the flag wins', async () => {
    const viaEnv = await planCacheModels(options('e', { env: { MLCACHE_REGISTRY: `oci://${real().registry}/from-env` } }));
    expect(viaEnv.registry).toBe(`oci://${real().registry}/from-env`);
    const withField = path.join(tmp, 'with-field.json');
    await writeFile(withField, JSON.stringify({ version: 1, registry: `oci://${real().registry}/from-catalog`, groups: { late: { description: 'x', entries: [{ repo: 'org/late', purpose: 'x' }] } } }));
    const viaCatalog = await planCacheModels({ ...options('e'), shippedCatalogPath: withField, groups: ['late'] });
    expect(viaCatalog.registry).toBe(`oci://${real().registry}/from-catalog`);
    const viaFlag = await planCacheModels({ ...options('e', { registry: `oci://${real().registry}/from-flag`, env: { MLCACHE_REGISTRY: `oci://${real().registry}/from-env` } }) });
    expect(viaFlag.registry).toBe(`oci://${real().registry}/from-flag`);
  });
});
