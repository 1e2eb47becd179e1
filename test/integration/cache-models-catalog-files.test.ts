import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findProjectCatalog, loadCatalog, shippedCatalogPath } from '../../src/catalog/load-catalog.js';
import { MlcacheError } from '../../src/errors.js';

let tmp: string;
let shipped: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcache-catalog-files-'));
  // A stand-in mlcache package: <tmp>/pkg/config/models.json
  shipped = path.join(tmp, 'pkg', 'config', 'models.json');
  await mkdir(path.dirname(shipped), { recursive: true });
  await writeFile(shipped, JSON.stringify({ groups: { nllb: { description: 'shipped', entries: [{ repo: 'facebook/nllb-200-3.3B', purpose: 'translate' }] } } }));
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function write(file: string, value: unknown): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

describe('project catalog discovery', () => {
  it('finds config/models.json in the nearest project root above cwd', async () => {
    const project = path.join(tmp, 'project');
    await write(path.join(project, 'config', 'hardware_cache.json'), {});
    const catalog = await write(path.join(project, 'config', 'models.json'), { groups: {} });
    const cwd = path.join(project, 'src', 'stage');
    await mkdir(cwd, { recursive: true });
    expect(findProjectCatalog(cwd, shipped)).toBe(catalog);
  });

  it('a root with only hardware_cache.json stops the search (no catalog from further up)', async () => {
    await write(path.join(tmp, 'config', 'models.json'), { groups: {} });
    const project = path.join(tmp, 'project');
    await write(path.join(project, 'config', 'hardware_cache.json'), {});
    expect(findProjectCatalog(path.join(project), shipped)).toBeUndefined();
  });

  it("never takes mlcache's own config/models.json for a project's", () => {
    expect(findProjectCatalog(path.join(tmp, 'pkg'), shipped)).toBeUndefined();
    // The real package too: running inside the mlcache checkout finds nothing.
    const own = shippedCatalogPath();
    expect(findProjectCatalog(path.dirname(path.dirname(own)), own)).toBeUndefined();
  });
});

describe('loadCatalog layering', () => {
  it('shipped ← project ← --catalog (which wins over MLCACHE_CATALOG)', async () => {
    const project = path.join(tmp, 'project');
    const projectCatalog = await write(path.join(project, 'config', 'models.json'), {
      groups: { embeddings: { entries: [{ repo: 'BAAI/bge-m3', purpose: 'embed' }] } },
    });
    const flag = await write(path.join(tmp, 'flag.json'), { pins: { 'facebook/nllb-200-3.3B': 'v-flag' } });
    const env = await write(path.join(tmp, 'env.json'), { pins: { 'facebook/nllb-200-3.3B': 'v-env' } });
    const loaded = await loadCatalog({ cwd: project, catalogPath: '../flag.json', envCatalogPath: env, shippedPath: shipped });
    expect(loaded.sources).toEqual([shipped, projectCatalog, flag]);
    expect(Object.keys(loaded.catalog.groups)).toEqual(['nllb', 'embeddings']);
    expect(loaded.catalog.groups.nllb!.entries[0]).toMatchObject({ revision: 'v-flag' });

    const viaEnv = await loadCatalog({ cwd: project, envCatalogPath: env, shippedPath: shipped });
    expect(viaEnv.catalog.groups.nllb!.entries[0]).toMatchObject({ revision: 'v-env' });
  });

  it('a missing explicit catalog is CONFIG_NOT_FOUND', async () => {
    let caught: unknown;
    try {
      await loadCatalog({ cwd: tmp, catalogPath: 'nope.json', shippedPath: shipped });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MlcacheError);
    expect((caught as MlcacheError).code).toBe('CONFIG_NOT_FOUND');
    expect((caught as MlcacheError).message).toContain(path.join(tmp, 'nope.json'));
  });
});
