import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CacheModelsPlanSchema } from '../../src/commands/cache-models/plan-schema.js';
import { cacheModels, planCacheModels, type CacheModelsEvent, type CacheModelsOptions } from '../../src/commands/cache-models/index.js';
import { loadSettings } from '../../src/config/settings.js';
import { EMULATOR_TOKEN, useEmulator } from '../helpers/emulator.js';
import { mlcacheRejectionFrom } from '../helpers/errors.js';

const ARTIFACT = Buffer.from('torch checkpoint bytes '.repeat(2000));
const ARTIFACT_SHA = createHash('sha256').update(ARTIFACT).digest('hex');
const LINUX = { os: 'linux', arch: 'x64' };
const GiB = 1024 ** 3;

const hub = useEmulator({
  repos: [
    {
      id: 'org/translate-gated',
      gated: 'manual',
      revisions: [{ refs: ['main'], files: [{ path: 'config.json', content: '{"a":1}' }, { path: 'model.safetensors', generated: { size: 40_000 } }, { path: 'modeling_x.py', content: 'x = 1\n' }, { path: 'pytorch_model.bin', generated: { size: 40_000 } }] }],
    },
    {
      id: 'org/nllb-small',
      revisions: [{ refs: ['main'], files: [{ path: 'config.json', content: '{"b":2}' }, { path: 'pytorch_model-00001-of-00002.bin', generated: { size: 30_000 } }, { path: 'pytorch_model-00002-of-00002.bin', generated: { size: 20_000 } }, { path: 'model.safetensors', generated: { size: 50_000 } }, { path: 'README.md', content: '# readme\n' }] }],
    },
    {
      id: 'org/whisper-ct2',
      revisions: [{ refs: ['main'], files: [{ path: 'config.json', content: '{"c":3}' }, { path: 'model.bin', generated: { size: 60_000 } }, { path: 'vocabulary.json', content: '["a"]' }, { path: 'flax_model.msgpack', generated: { size: 60_000 } }] }],
    },
    {
      id: 'org/whisper-mlx',
      revisions: [{ refs: ['main'], files: [{ path: 'config.json', content: '{"d":4}' }, { path: 'weights.npz', generated: { size: 10_000 } }] }],
    },
  ],
});

let artifactServer: Server;
let artifactUrl: string;
let artifactRequests = 0;

beforeAll(async () => {
  artifactServer = createServer((req, res) => {
    artifactRequests++;
    res.writeHead(200, { 'content-length': ARTIFACT.length, 'content-type': 'application/octet-stream' });
    res.end(ARTIFACT);
  });
  await new Promise<void>((resolve) => artifactServer.listen(0, '127.0.0.1', resolve));
  artifactUrl = `http://127.0.0.1:${(artifactServer.address() as AddressInfo).port}/models/align.pth`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => artifactServer.close(() => resolve()));
});

function testCatalog(overrides: { artifactSha?: string } = {}) {
  return {
    version: 1,
    groups: {
      indictrans2: {
        description: 'gated translation',
        entries: [
          { repo: 'org/translate-gated', gated: true, purpose: 'Indic→English stand-in', include: ['*.py', 'config.json', 'model.safetensors'] },
        ],
      },
      nllb: {
        description: 'translation',
        entries: [{ repo: 'org/nllb-small', purpose: 'NLLB stand-in', include: ['pytorch_model-*-of-*.bin', 'config.json'] }],
      },
      whisperx: {
        description: 'asr',
        entries: [
          { repo: 'org/whisper-ct2', purpose: 'faster-whisper stand-in', include: ['config.json', 'model.bin', 'vocabulary.*'] },
          {
            name: 'align-en',
            url: artifactUrl,
            sha256: overrides.artifactSha ?? ARTIFACT_SHA,
            size: ARTIFACT.length,
            destination: 'hub/checkpoints/align.pth',
            purpose: 'torchaudio alignment stand-in',
          },
        ],
      },
      mlx: {
        description: 'mlx',
        platform: { os: ['darwin'], arch: ['arm64'] },
        entries: [{ repo: 'org/whisper-mlx', purpose: 'mlx stand-in' }],
      },
    },
  };
}

let tmp: string;
let catalogFile: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcache-cache-models-'));
  catalogFile = path.join(tmp, 'shipped-models.json');
  await writeFile(catalogFile, JSON.stringify(testCatalog()));
  hub().resetStats();
  artifactRequests = 0;
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function options(extra: Partial<CacheModelsOptions> & { withToken?: boolean } = {}): CacheModelsOptions {
  const { withToken = true, ...rest } = extra;
  const env: Record<string, string> = {
    HOME: tmp,
    HF_HUB_CACHE: path.join(tmp, 'hub'),
    TORCH_HOME: path.join(tmp, 'torch'),
    HF_ENDPOINT: hub().url,
  };
  if (withToken) env.HF_TOKEN = EMULATOR_TOKEN;
  return {
    settings: loadSettings({ env, cwd: tmp }),
    shippedCatalogPath: catalogFile,
    platform: LINUX,
    freeSpace: () => Promise.resolve(100 * GiB),
    connections: 4,
    ...rest,
  };
}

async function listTree(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

describe('cache-models planning', () => {
  it.each([
    [{ groups: ['indictrans2'] }, ['indictrans2/org/translate-gated']],
    [{ groups: ['nllb'] }, ['nllb/org/nllb-small']],
    [{ groups: ['whisperx'] }, ['whisperx/org/whisper-ct2', 'whisperx/align-en']],
    [{ groups: ['mlx'] }, ['mlx/org/whisper-mlx']],
    [{ models: ['org/whisper-mlx'] }, ['(models)/org/whisper-mlx']],
  ])('%j selects exactly its entries', async (selection, expected) => {
    const plan = await planCacheModels(options(selection));
    expect(plan.entries.map((e) => `${e.group}/${e.name}`)).toEqual(expected);
  });

  it('--all on Linux skips mlx and says why', async () => {
    const plan = await planCacheModels(options({ all: true }));
    const mlx = plan.entries.find((e) => e.group === 'mlx')!;
    expect(mlx.skipped).toMatch(/^only for darwin-arm64 \(Apple Silicon\); this machine is linux-x64/);
    expect(mlx.bytesNeeded).toBe(0);
    const forced = await planCacheModels(options({ all: true, force: true }));
    expect(forced.entries.find((e) => e.group === 'mlx')!.skipped).toBeUndefined();
  });

  it('--dry-run writes nothing, applies the patterns, and its JSON matches the schema', async () => {
    const result = await cacheModels(options({ all: true, dryRun: true }));
    expect(await listTree(tmp)).toEqual(['shipped-models.json']);
    expect(hub().stats.bytesServed).toBe(0);
    expect(artifactRequests).toBe(0);
    const plan = result.plan;
    // Round-trip through JSON as the CLI prints it, then validate against the schema.
    const parsed = CacheModelsPlanSchema.parse(JSON.parse(JSON.stringify({ type: 'plan', ...plan })));
    const nllb = parsed.entries.find((e) => e.group === 'nllb')!;
    expect(nllb).toMatchObject({ files: 3, filesNeeded: 3, bytesNeeded: 50_000 + '{"b":2}'.length, commit: hub().commitOf('org/nllb-small', 'main') });
    const gated = parsed.entries.find((e) => e.group === 'indictrans2')!;
    expect(gated).toMatchObject({ gated: true, gatedWithoutToken: false, files: 3 });
    expect(parsed.bytesNeeded).toBe(parsed.entries.reduce((n, e) => n + e.bytesNeeded, 0));
    expect(parsed.volumes.length).toBeGreaterThanOrEqual(1);
    expect(parsed.fits).toBe(true);
  });

  it('without a token the plan names the page where access to a gated repo is requested', async () => {
    const plan = await planCacheModels(options({ groups: ['indictrans2'], withToken: false }));
    expect(plan.tokenPresent).toBe(false);
    expect(plan.entries[0]).toMatchObject({
      gatedWithoutToken: true,
      accessUrl: `${hub().url}/org/translate-gated`,
      error: { code: 'GATED_REPO' },
    });
    expect(plan.entries[0]!.error!.hint).toContain(`${hub().url}/org/translate-gated`);
  });
});

describe('cache-models runs', () => {
  it('fetches every group through one run, and a second run transfers nothing', async () => {
    const events: CacheModelsEvent[] = [];
    const first = await cacheModels(options({ all: true, onEvent: (e) => events.push(e) }));
    expect(first.ok).toBe(true);
    expect(first.entries.map((e) => `${e.group}/${e.name}:${e.status}`)).toEqual([
      'indictrans2/org/translate-gated:fetched',
      'nllb/org/nllb-small:fetched',
      'whisperx/org/whisper-ct2:fetched',
      'whisperx/align-en:fetched',
      'mlx/org/whisper-mlx:skipped',
    ]);
    // The patterns were honoured: the other weight format was never fetched.
    const nllbSnapshot = first.entries.find((e) => e.group === 'nllb')!.destination;
    expect((await readdir(nllbSnapshot)).sort()).toEqual(['config.json', 'pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin']);
    const artifact = await readFile(path.join(tmp, 'torch', 'hub', 'checkpoints', 'align.pth'));
    expect(artifact.equals(ARTIFACT)).toBe(true);
    expect(events.filter((e) => e.type === 'plan')).toHaveLength(1);

    hub().resetStats();
    artifactRequests = 0;
    const second = await cacheModels(options({ all: true }));
    expect(hub().stats.bytesServed).toBe(0);
    expect(artifactRequests).toBe(0);
    expect(second.bytesFetched).toBe(0);
    expect(second.allCached).toBe(true);
    expect(second.plan.bytesNeeded).toBe(0);
    expect(second.entries.filter((e) => e.status !== 'skipped').every((e) => e.status === 'cached')).toBe(true);
  });

  it('a gated repo without a token fails with the access page while the other groups complete', async () => {
    const result = await cacheModels(options({ groups: ['indictrans2', 'nllb'], withToken: false, yes: true }));
    expect(result.ok).toBe(false);
    const gated = result.entries.find((e) => e.group === 'indictrans2')!;
    expect(gated.status).toBe('failed');
    expect(gated.error?.code).toBe('GATED_REPO');
    expect(gated.error?.hint).toContain(`${hub().url}/org/translate-gated`);
    expect(result.entries.find((e) => e.group === 'nllb')!.status).toBe('fetched');
  });

  it('interactive runs ask before going on without gated repos, and stop when told no', async () => {
    const questions: string[] = [];
    const error = await mlcacheRejectionFrom(
      cacheModels(options({ groups: ['indictrans2', 'nllb'], withToken: false, interactive: true, confirm: (q) => (questions.push(q), Promise.resolve(false)) })),
    );
    expect(questions).toHaveLength(1);
    expect(error.code).toBe('GATED_REPO');
    expect(await listTree(path.join(tmp, 'hub'))).toEqual([]);
  });

  it('the disk preflight fails before anything is written', async () => {
    const error = await mlcacheRejectionFrom(cacheModels(options({ all: true, freeSpace: () => Promise.resolve(1000) })));
    expect(error.code).toBe('INSUFFICIENT_SPACE');
    expect(error.exitCode).toBe(9);
    expect(error.message).toContain('free on');
    expect(error.hint).toContain('nllb/org/nllb-small');
    expect(hub().stats.bytesServed).toBe(0);
    expect(artifactRequests).toBe(0);
    expect(await listTree(path.join(tmp, 'hub'))).toEqual([]);
    expect(await listTree(path.join(tmp, 'torch'))).toEqual([]);
  });

  it('a URL artifact with a wrong sha256 is refused and not left at its destination', async () => {
    await writeFile(catalogFile, JSON.stringify(testCatalog({ artifactSha: 'f'.repeat(64) })));
    const result = await cacheModels(options({ groups: ['whisperx'] }));
    expect(result.ok).toBe(false);
    const artifact = result.entries.find((e) => e.name === 'align-en')!;
    expect(artifact.status).toBe('failed');
    expect(artifact.error?.code).toBe('INTEGRITY');
    expect(existsSync(path.join(tmp, 'torch', 'hub', 'checkpoints', 'align.pth'))).toBe(false);
    expect(result.entries.find((e) => e.name === 'org/whisper-ct2')!.status).toBe('fetched');
  });

  it('an optional entry that fails only warns', async () => {
    const user = path.join(tmp, 'team.json');
    await writeFile(user, JSON.stringify({ groups: { extras: { entries: [{ repo: 'org/does-not-exist', optional: true, purpose: 'nice to have' }] } } }));
    const events: CacheModelsEvent[] = [];
    const result = await cacheModels(options({ groups: ['extras', 'nllb'], catalogPath: user, onEvent: (e) => events.push(e) }));
    expect(result.ok).toBe(true);
    expect(result.entries.find((e) => e.group === 'extras')).toMatchObject({ status: 'failed', error: { code: 'REPO_NOT_FOUND' } });
    expect(events.some((e) => e.type === 'warning' && e.message.includes('org/does-not-exist'))).toBe(true);
  });
});

describe('cache-models catalog mistakes', () => {
  it('invalid JSON in a user catalog is reported with file, line and column', async () => {
    const user = path.join(tmp, 'team.json');
    await writeFile(user, '{\n  "groups": {\n    "x": { "entries": [] },\n  }\n}\n');
    const error = await mlcacheRejectionFrom(planCacheModels(options({ groups: ['nllb'], catalogPath: user })));
    expect(error.code).toBe('CATALOG_INVALID');
    expect(error.message).toContain(`${user}:4:3: invalid JSON`);
  });

  it('a bad repo id in a user catalog is reported with file and JSON path', async () => {
    const user = path.join(tmp, 'team.json');
    await writeFile(user, JSON.stringify({ groups: { embeddings: { entries: [{ repo: 'BAAI//bge', purpose: 'p' }] } } }));
    const error = await mlcacheRejectionFrom(planCacheModels(options({ groups: ['nllb'], catalogPath: user })));
    expect(error.message).toContain(`${user}: groups.embeddings.entries[0].repo: Invalid repo id`);
    expect(error.exitCode).toBe(3);
  });

  it('an unknown group lists the known ones', async () => {
    const error = await mlcacheRejectionFrom(planCacheModels(options({ groups: ['nllbb'] })));
    expect(error.code).toBe('UNKNOWN_GROUP');
    expect(error.hint).toContain('indictrans2, nllb, whisperx, mlx');
  });

  it('MLCACHE_CATALOG adds groups and pins revisions', async () => {
    const user = path.join(tmp, 'team.json');
    const commit = hub().commitOf('org/nllb-small', 'main');
    await writeFile(user, JSON.stringify({ pins: { 'org/nllb-small': commit } }));
    const base = options({ groups: ['nllb'] });
    const settings = loadSettings({ env: { ...base.settings.env, MLCACHE_CATALOG: user }, cwd: tmp });
    const plan = await planCacheModels({ ...base, settings });
    expect(plan.catalogSources).toEqual([catalogFile, user]);
    expect(plan.entries[0]).toMatchObject({ revision: commit, commit });
  });
});

describe('docs/schemas/cache-models-plan.schema.json', () => {
  it('is what the zod plan schema generates (run `npm run schemas`)', async () => {
    const { cacheModelsPlanJsonSchema } = await import('../../src/commands/cache-models/plan-schema.js');
    const committed = JSON.parse(await readFile(new URL('../../docs/schemas/cache-models-plan.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(cacheModelsPlanJsonSchema());
  });
});

describe('weight formats: one of several, in order of preference', () => {
  const FORMATS = [
    ['model.safetensors', 'model-*-of-*.safetensors'],
    ['pytorch_model.bin', 'pytorch_model-*-of-*.bin'],
    ['weights.npz'],
  ];

  async function withFormats(repo: string): Promise<CacheModelsOptions> {
    const file = path.join(tmp, 'formats.json');
    await writeFile(
      file,
      JSON.stringify({ version: 1, groups: { fmt: { entries: [{ repo, purpose: 'formats test', include: ['config.json'], formats: FORMATS }] } } }),
    );
    return options({ shippedCatalogPath: file, groups: ['fmt'] });
  }

  async function snapshotFiles(repo: string): Promise<string[]> {
    const dir = path.join(tmp, 'hub', `models--${repo.replace('/', '--')}`, 'snapshots', hub().commitOf(repo, 'main'));
    return (await readdir(dir)).sort();
  }

  it('fetches safetensors when the repo has both formats, never the .bin', async () => {
    const result = await cacheModels(await withFormats('org/nllb-small'));
    expect(result.ok).toBe(true);
    expect(await snapshotFiles('org/nllb-small')).toEqual(['config.json', 'model.safetensors']);
    expect(hub().stats.bytesServed).toBe(50_000 + 7);
  });

  it('falls back to the next format present', async () => {
    const plan = await planCacheModels(await withFormats('org/whisper-mlx'));
    expect(plan.entries[0]).toMatchObject({ files: 2 });
    await cacheModels(await withFormats('org/whisper-mlx'));
    expect(await snapshotFiles('org/whisper-mlx')).toEqual(['config.json', 'weights.npz']);
  });

  it('a repo with none of the formats fails that entry with a message naming them', async () => {
    const result = await cacheModels(await withFormats('org/whisper-ct2'));
    expect(result.ok).toBe(false);
    expect(result.entries[0]).toMatchObject({ status: 'failed', error: { code: 'ENTRY_NOT_FOUND' } });
    expect(result.entries[0]!.error!.message).toContain('none of the expected weight formats');
    expect(hub().stats.bytesServed).toBe(0);
  });
});
