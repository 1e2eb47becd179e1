import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandVars, loadSettings, resolveHubCache, resolveTorchHome, type Env } from '../../../src/config/settings.js';

const HOME = '/home/u';
const CWD = '/work/project';

/** huggingface_hub constants.py precedence: HF_HUB_CACHE > HUGGINGFACE_HUB_CACHE > HF_HOME/hub > XDG_CACHE_HOME/huggingface/hub > ~/.cache/huggingface/hub */
const PRECEDENCE: Array<[name: string, env: Env, cacheDir: string | undefined, expected: string, source: string]> = [
  ['nothing set', { HOME }, undefined, '/home/u/.cache/huggingface/hub', 'default'],
  ['XDG_CACHE_HOME', { HOME, XDG_CACHE_HOME: '/xdg' }, undefined, '/xdg/huggingface/hub', 'XDG_CACHE_HOME'],
  ['HF_HOME beats XDG', { HOME, XDG_CACHE_HOME: '/xdg', HF_HOME: '/hf' }, undefined, '/hf/hub', 'HF_HOME'],
  ['legacy beats HF_HOME', { HOME, HF_HOME: '/hf', HUGGINGFACE_HUB_CACHE: '/legacy' }, undefined, '/legacy', 'HUGGINGFACE_HUB_CACHE'],
  ['HF_HUB_CACHE beats all', { HOME, HF_HOME: '/hf', HUGGINGFACE_HUB_CACHE: '/legacy', HF_HUB_CACHE: '/hub' }, undefined, '/hub', 'HF_HUB_CACHE'],
  ['--cache-dir beats every variable', { HOME, HF_HUB_CACHE: '/hub' }, '/flag', '/flag', '--cache-dir'],
  ['~ is expanded', { HOME, HF_HOME: '~/hf' }, undefined, '/home/u/hf/hub', 'HF_HOME'],
  ['$VAR is expanded', { HOME, DATA: '/data', HF_HUB_CACHE: '$DATA/cache' }, undefined, '/data/cache', 'HF_HUB_CACHE'],
  ['${VAR} is expanded', { HOME, DATA: '/data', HF_HUB_CACHE: '${DATA}/c' }, undefined, '/data/c', 'HF_HUB_CACHE'],
  ['unknown $VAR stays as written', { HOME, HF_HUB_CACHE: '/x/$NOPE' }, undefined, '/x/$NOPE', 'HF_HUB_CACHE'],
  ['relative paths resolve from cwd', { HOME, HF_HOME: 'rel' }, undefined, '/work/project/rel/hub', 'HF_HOME'],
  ['empty variables count as unset', { HOME, HF_HUB_CACHE: '', HF_HOME: '' }, undefined, '/home/u/.cache/huggingface/hub', 'default'],
  ['--cache-dir with ~', { HOME }, '~/c', '/home/u/c', '--cache-dir'],
];

describe('hub cache location', () => {
  it.each(PRECEDENCE)('%s', (_name, env, cacheDir, expected, source) => {
    const location = resolveHubCache(env, { cacheDir, cwd: CWD, home: HOME });
    expect(location.hubCache).toBe(path.normalize(expected));
    expect(location.source).toBe(source);
  });
});

describe('TORCH_HOME', () => {
  it('follows torch.hub: TORCH_HOME, else XDG_CACHE_HOME/torch, else ~/.cache/torch', () => {
    expect(resolveTorchHome({ HOME }, { cwd: CWD, home: HOME }).torchHome).toBe('/home/u/.cache/torch');
    expect(resolveTorchHome({ XDG_CACHE_HOME: '/xdg' }, { cwd: CWD, home: HOME }).torchHome).toBe('/xdg/torch');
    expect(resolveTorchHome({ TORCH_HOME: '/t', XDG_CACHE_HOME: '/xdg' }, { cwd: CWD, home: HOME }).torchHome).toBe('/t');
    expect(resolveTorchHome({ TORCH_HOME: '/t' }, { torchHome: '/flag', cwd: CWD, home: HOME }).torchHome).toBe('/flag');
  });
});

describe('loadSettings', () => {
  it('reads endpoint, offline, symlink, proxy and preset variables from the given env only', () => {
    const s = loadSettings({
      env: {
        HOME,
        HF_ENDPOINT: 'https://mirror.example/',
        HF_HUB_OFFLINE: 'yes',
        HF_HUB_DISABLE_SYMLINKS: '1',
        https_proxy: 'http://proxy:3128',
        NO_PROXY: 'localhost',
        MLCACHE_MODELS: 'a/b, c/d@v1',
        PRELOAD_MODELS: 'e/f',
      },
      cwd: CWD,
    });
    expect(s.endpoint).toBe('https://mirror.example');
    expect(s.endpointSource).toBe('HF_ENDPOINT');
    expect(s.offline).toBe(true);
    expect(s.disableSymlinks).toBe(true);
    expect(s.proxy).toEqual({ http: undefined, https: 'http://proxy:3128', noProxy: 'localhost' });
    expect(s.presetModels).toEqual(['a/b', 'c/d@v1', 'e/f']);
    expect(s.tokenPath).toBe('/home/u/.cache/huggingface/token');
  });

  it('TRANSFORMERS_OFFLINE counts only when HF_HUB_OFFLINE is unset (huggingface_hub uses `or`)', () => {
    expect(loadSettings({ env: { HOME, TRANSFORMERS_OFFLINE: '1' }, cwd: CWD }).offline).toBe(true);
    expect(loadSettings({ env: { HOME, HF_HUB_OFFLINE: '0', TRANSFORMERS_OFFLINE: '1' }, cwd: CWD }).offline).toBe(false);
  });

  it('HF_TOKEN_PATH overrides the token location', () => {
    expect(loadSettings({ env: { HOME, HF_TOKEN_PATH: '~/tok' }, cwd: CWD }).tokenPath).toBe('/home/u/tok');
  });

  it('--endpoint beats HF_ENDPOINT', () => {
    const s = loadSettings({ env: { HOME, HF_ENDPOINT: 'https://a' }, endpoint: 'http://127.0.0.1:9/', cwd: CWD });
    expect(s.endpoint).toBe('http://127.0.0.1:9');
    expect(s.endpointSource).toBe('--endpoint');
  });
});

describe('expandVars', () => {
  it('expands like os.path.expandvars', () => {
    expect(expandVars('$A/${B}/$C', { A: '1', B: '2' })).toBe('1/2/$C');
  });
});
