/** The one project finder and the cache precedence it feeds: flag > explicit variable > project > huggingface_hub default. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSettings, type Env } from '../../../src/config/settings.js';
import { findProjectRoot, ownPackageRoot } from '../../../src/util/project-root.js';

let tmp: string;
let project: string;
let deep: string;
const NO_OWN = '/nonexistent-mlcache-package';

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcache-project-settings-'));
  project = path.join(tmp, 'project');
  deep = path.join(project, 'a', 'b');
  await mkdir(path.join(project, 'config'), { recursive: true });
  await mkdir(deep, { recursive: true });
  await writeFile(
    path.join(project, 'config', 'hardware_cache.json'),
    JSON.stringify({ cache: { base_dir: '.cache', hf_home: '.cache/hf', torch_home: '$PROJECT_TORCH', mlx_home: '.cache/mlx' } }),
  );
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('findProjectRoot', () => {
  it('finds the nearest folder with config/hardware_cache.json or config/models.json, skipping mlcache’s own folder', async () => {
    expect(findProjectRoot(deep, { ownRoot: NO_OWN })).toEqual({
      root: project,
      configDir: path.join(project, 'config'),
      hardwareCacheFile: path.join(project, 'config', 'hardware_cache.json'),
      catalogFile: undefined,
    });
    // A nested project with only a catalog is nearer: it wins.
    await mkdir(path.join(project, 'a', 'config'));
    await writeFile(path.join(project, 'a', 'config', 'models.json'), '{}');
    expect(findProjectRoot(deep, { ownRoot: NO_OWN })?.root).toBe(path.join(project, 'a'));
    // mlcache's own checkout is never a project (its config/models.json is the shipped catalog).
    expect(findProjectRoot(deep, { ownRoot: path.join(project, 'a') })?.root).toBe(project);
    expect(findProjectRoot(ownPackageRoot())).toBeUndefined();
    expect(findProjectRoot(tmp, { ownRoot: NO_OWN })).toBeUndefined();
  });
});

describe('loadSettings with a project', () => {
  const HOME = '/home/u';
  const load = (env: Env, extra: { cacheDir?: string; torchHome?: string; cwd?: string } = {}) =>
    loadSettings({ env: { HOME, PROJECT_TORCH: '/data/torch', ...env }, cwd: extra.cwd ?? deep, cacheDir: extra.cacheDir, torchHome: extra.torchHome, ownRoot: NO_OWN });

  it('the precedence table: flag > explicit variable > project > default', () => {
    const projectHub = path.join(project, '.cache', 'hf', 'hub');
    const rows: Array<[string, Env, { cacheDir?: string }, string, string, number]> = [
      ['flag', { HF_HUB_CACHE: '/var/hub' }, { cacheDir: '/flag/hub' }, '/flag/hub', '--cache-dir', 0],
      ['HF_HUB_CACHE', { HF_HUB_CACHE: '/var/hub', HF_HOME: '/hf' }, {}, '/var/hub', 'HF_HUB_CACHE', 1],
      ['HUGGINGFACE_HUB_CACHE', { HUGGINGFACE_HUB_CACHE: '/legacy' }, {}, '/legacy', 'HUGGINGFACE_HUB_CACHE', 1],
      ['HF_HOME', { HF_HOME: '/hf' }, {}, '/hf/hub', 'HF_HOME', 1],
      ['a variable that agrees with the project', { HF_HOME: path.join(project, '.cache', 'hf') }, {}, projectHub, 'HF_HOME', 0],
      ['project over XDG_CACHE_HOME', { XDG_CACHE_HOME: '/xdg' }, {}, projectHub, 'project', 0],
      ['project', {}, {}, projectHub, 'project', 0],
    ];
    for (const [name, env, flags, hubCache, source, notes] of rows) {
      const settings = load(env, flags);
      expect({ name, hubCache: settings.hubCache, source: settings.hubCacheSource, notes: settings.cacheNotes.length }).toEqual({ name, hubCache, source, notes });
    }
    const outside = load({}, { cwd: tmp });
    expect([outside.hubCache, outside.hubCacheSource, outside.project]).toEqual(['/home/u/.cache/huggingface/hub', 'default', undefined]);
  });

  it('the note names the variable, both folders and the fix', () => {
    const [note] = load({ HF_HUB_CACHE: '/var/hub' }).cacheNotes;
    expect(note).toBe(
      `using the hub cache /var/hub from HF_HUB_CACHE (an explicit variable wins), not this project's ${path.join(project, '.cache', 'hf', 'hub')}; unset HF_HUB_CACHE or run \`eval "$(mlcache env)"\` to use the project's.`,
    );
  });

  it('TORCH_HOME follows the same order; the project’s paths expand $VARS; the token stays the user’s', () => {
    expect(load({}).torchHome).toBe('/data/torch');
    expect(load({}).torchHomeSource).toBe('project');
    expect(load({ TORCH_HOME: '/t' }).torchHome).toBe('/t');
    expect(load({ TORCH_HOME: '/t' }, { torchHome: '/flag' }).torchHome).toBe('/flag');
    expect(load({}).project?.mlxHome).toBe(path.join(project, '.cache', 'mlx'));
    // `hf auth login` wrote the token under the user's HF_HOME, not the project's.
    expect(load({}).tokenPath).toBe('/home/u/.cache/huggingface/token');
    expect(load({ HF_HOME: '/hf' }).tokenPath).toBe('/hf/token');
  });

  it('a malformed hardware_cache.json gives no project folders (doctor and bootstrap report it), and project: false ignores the project', async () => {
    await writeFile(path.join(project, 'config', 'hardware_cache.json'), '{ not json');
    const settings = load({});
    expect(settings.project?.root).toBe(project);
    expect(settings.hubCacheSource).toBe('default');
    expect(loadSettings({ env: { HOME }, cwd: deep, ownRoot: NO_OWN, project: false }).project).toBeUndefined();
  });
});
