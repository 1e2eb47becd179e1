import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  HardwareCacheSchema,
  backupHardwareCache,
  hardwareCacheJsonSchema,
  locateHardwareCache,
  mergeHardwareCache,
  parseHardwareCache,
  readHardwareCache,
  writeHardwareCache,
} from '../../../src/config/hardware-cache.js';
import { MlcacheError } from '../../../src/errors.js';

const FIXTURE = path.join(import.meta.dirname, '../../fixtures/hardware/hardware_cache.pipeline-1.0.0.json');
const hardware = { platform: 'linux', machine: 'x86_64', has_cuda: true, has_mps: false, has_mlx: false, gpu_type: 'cuda' };
const recommendations = { device: { value: 'cuda', reason: 'a GPU' } };

function expectInvalid(fn: () => unknown, pattern: RegExp): MlcacheError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MlcacheError);
    const e = error as MlcacheError;
    expect(e.code).toBe('HARDWARE_CACHE_INVALID');
    expect(e.exitCode).toBe(3);
    expect(e.message).toMatch(pattern);
    expect(e.hint).toContain('--force');
    return e;
  }
  throw new Error('expected HARDWARE_CACHE_INVALID');
}

describe('parseHardwareCache', () => {
  it("accepts the pipeline's own 1.0.0 file", async () => {
    const data = parseHardwareCache(await readFile(FIXTURE, 'utf8'), FIXTURE);
    expect(data.cache.application_caches).toEqual({ tmdb: 'out/tmdb_cache', musicbrainz: 'out/musicbrainz_cache', glossary: 'glossary/cache' });
    expect(data.environments).toBeDefined();
  });

  it('names the file and the JSON path of a schema violation', () => {
    const text = JSON.stringify({ version: '1.1.0', created_at: '2025-01-01T00:00:00Z', hardware, cache: { base_dir: '.cache', torch_home: 42, hf_home: 'h', mlx_home: 'm' } });
    const e = expectInvalid(() => parseHardwareCache(text, '/p/config/hardware_cache.json'), /^\/p\/config\/hardware_cache\.json .*cache\.torch_home: expected string/);
    expect(e.details).toMatchObject({ file: '/p/config/hardware_cache.json' });
  });

  it('names array indices in paths', () => {
    const text = JSON.stringify({ version: '1', created_at: '2025-01-01T00:00:00Z', hardware: { ...hardware, gpus: [{ vendor: 'nvidia', index: 0, name: 7 }] }, cache: { base_dir: 'a', torch_home: 'b', hf_home: 'c', mlx_home: 'd' } });
    expectInvalid(() => parseHardwareCache(text, 'f.json'), /hardware\.gpus\[0\]\.name: expected string/);
  });

  it('gives the line and column of bad JSON', () => {
    const text = '{\n  "version": "1.0.0",\n  "cache": {,\n}';
    const e = expectInvalid(() => parseHardwareCache(text, 'f.json'), /^f\.json is not valid JSON \(line 3, column 13\)/);
    expect(e.details).toMatchObject({ line: 3, column: 13 });
    expectInvalid(() => parseHardwareCache('{"a": ', 'g.json'), /line 1, column 7/);
  });
});

describe('mergeHardwareCache', () => {
  it('creates a file with the pipeline cache block', () => {
    const merged = mergeHardwareCache({ existing: undefined, hardware, recommendations, now: new Date('2025-02-03T04:05:06.789Z') });
    expect(merged).toMatchObject({ version: '1.1.0', created_at: '2025-02-03T04:05:06Z', updated_at: '2025-02-03T04:05:06Z' });
    expect(merged.cache).toEqual({ base_dir: '.cache', torch_home: '.cache/torch', hf_home: '.cache/huggingface', mlx_home: '.cache/mlx', application_caches: {} });
    expect(HardwareCacheSchema.safeParse(merged).success).toBe(true);
  });

  it('refreshes hardware and updated_at, keeps created_at, cache edits and unknown keys', async () => {
    const existing = parseHardwareCache(await readFile(FIXTURE, 'utf8'), FIXTURE);
    existing.cache.torch_home = '/opt/ai-cache/torch';
    const merged = mergeHardwareCache({ existing, hardware, recommendations, now: new Date('2026-01-01T00:00:00Z') });
    expect(merged.created_at).toBe('2025-11-25T15:18:46Z');
    expect(merged.updated_at).toBe('2026-01-01T00:00:00Z');
    expect(merged.hardware).toEqual(hardware);
    expect(merged.cache.torch_home).toBe('/opt/ai-cache/torch');
    expect(merged.cache.application_caches.tmdb).toBe('out/tmdb_cache');
    expect(merged.environments).toEqual(existing.environments);
    expect(merged.stage_to_environment_mapping).toEqual({ asr: 'whisperx' });
  });
});

describe('files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-hwc-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes, reads back, backs up without overwriting older backups', async () => {
    const file = path.join(dir, 'config', 'hardware_cache.json');
    expect(await readHardwareCache(file)).toBeUndefined();
    const data = mergeHardwareCache({ existing: undefined, hardware, recommendations, now: new Date() });
    await writeHardwareCache(file, data);
    expect(await readHardwareCache(file)).toEqual(data);
    const now = new Date('2025-05-06T07:08:09Z');
    const first = await backupHardwareCache(file, now);
    const second = await backupHardwareCache(file, now);
    expect(path.basename(first)).toBe('hardware_cache.json.bak-20250506T070809Z');
    expect(second).not.toBe(first);
    expect((await readdir(path.dirname(file))).sort()).toEqual(['hardware_cache.json', path.basename(first), path.basename(second)].sort());
  });

  it('is found by walking up from a subdirectory; missing is CONFIG_NOT_FOUND with a hint', async () => {
    await mkdir(path.join(dir, 'config'));
    await writeFile(path.join(dir, 'config', 'hardware_cache.json'), await readFile(FIXTURE));
    const deep = path.join(dir, 'a', 'b');
    await mkdir(deep, { recursive: true });
    expect((await locateHardwareCache({ cwd: deep })).root).toBe(dir);
    await expect(locateHardwareCache({ cwd: deep, root: deep })).rejects.toMatchObject({ code: 'CONFIG_NOT_FOUND', hint: expect.stringContaining('mlcache bootstrap') });
  });
});

describe('committed JSON Schema', () => {
  it('config/hardware_cache.schema.json matches the zod schema (run `npm run schemas`)', async () => {
    const committed = await readFile(path.join(import.meta.dirname, '../../../config/hardware_cache.schema.json'), 'utf8');
    expect(JSON.parse(committed)).toEqual(hardwareCacheJsonSchema());
  });
});
