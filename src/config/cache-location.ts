/**
 * Where the caches are: the hub cache with huggingface_hub's precedence (constants.py) and the
 * project's `config/hardware_cache.json` between the explicit variables and the defaults, TORCH_HOME
 * the same way (torch.hub `_get_torch_home`), and the note when a variable overrides the project.
 * Pure but for reading the project file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProjectRoot } from '../util/project-root.js';
import { expandPath, nonEmpty } from './expand-path.js';
import type { Env, HubCacheSource, ProjectSettings, TorchHomeSource } from './settings.js';

export interface HubCacheLocation {
  hfHome: string;
  hubCache: string;
  source: HubCacheSource;
}

/** The project's cache folders, as `resolveHubCache` and `resolveTorchHome` take them. */
export interface ProjectCacheFolders {
  hfHome?: string | undefined;
  torchHome?: string | undefined;
}

/**
 * The hub cache directory: --cache-dir, then huggingface_hub's explicit variables (HF_HUB_CACHE,
 * HUGGINGFACE_HUB_CACHE, HF_HOME), then the project's hf_home, then huggingface_hub's defaults
 * ($XDG_CACHE_HOME/huggingface, ~/.cache/huggingface). Without a project this is exactly
 * huggingface_hub's constants.py. Pure.
 */
export function resolveHubCache(
  env: Env,
  options: { cacheDir?: string | undefined; cwd: string; home: string; project?: ProjectCacheFolders | undefined },
): HubCacheLocation {
  const { cwd, home } = options;
  const expand = (p: string) => expandPath(p, env, home, cwd);
  const xdg = nonEmpty(env.XDG_CACHE_HOME);
  const hfHomeVar = nonEmpty(env.HF_HOME);
  const projectHfHome = options.project?.hfHome;
  const hfHome = hfHomeVar !== undefined ? expand(hfHomeVar) : (projectHfHome ?? expand(path.join(xdg ?? path.join(home, '.cache'), 'huggingface')));
  if (options.cacheDir !== undefined) return { hfHome, hubCache: expand(options.cacheDir), source: '--cache-dir' };
  const hubCacheVar = nonEmpty(env.HF_HUB_CACHE);
  if (hubCacheVar !== undefined) return { hfHome, hubCache: expand(hubCacheVar), source: 'HF_HUB_CACHE' };
  const legacy = nonEmpty(env.HUGGINGFACE_HUB_CACHE);
  if (legacy !== undefined) return { hfHome, hubCache: expand(legacy), source: 'HUGGINGFACE_HUB_CACHE' };
  const source: HubCacheSource =
    hfHomeVar !== undefined ? 'HF_HOME' : projectHfHome !== undefined ? 'project' : xdg !== undefined ? 'XDG_CACHE_HOME' : 'default';
  return { hfHome, hubCache: path.join(hfHome, 'hub'), source };
}

/**
 * torch.hub's `_get_torch_home` with the project in between: --torch-home, $TORCH_HOME, the
 * project's torch_home, $XDG_CACHE_HOME/torch, ~/.cache/torch.
 */
export function resolveTorchHome(
  env: Env,
  options: { torchHome?: string | undefined; cwd: string; home: string; project?: ProjectCacheFolders | undefined },
): { torchHome: string; source: TorchHomeSource } {
  const expand = (p: string) => expandPath(p, env, options.home, options.cwd);
  if (options.torchHome !== undefined) return { torchHome: expand(options.torchHome), source: '--torch-home' };
  const torchVar = nonEmpty(env.TORCH_HOME);
  if (torchVar !== undefined) return { torchHome: expand(torchVar), source: 'TORCH_HOME' };
  if (options.project?.torchHome !== undefined) return { torchHome: options.project.torchHome, source: 'project' };
  const xdg = nonEmpty(env.XDG_CACHE_HOME);
  return { torchHome: expand(path.join(xdg ?? path.join(options.home, '.cache'), 'torch')), source: xdg !== undefined ? 'XDG_CACHE_HOME' : 'default' };
}

/**
 * The cache block of the project's config/hardware_cache.json, read leniently: paths relative to
 * the project root, `~` and `$VAR` expanded (as env/cache-variables.ts does for `mlcache env`). A
 * missing or unreadable file, or one without a cache block, gives no folders — `bootstrap` and
 * `doctor` are the commands that report a malformed file.
 */
export function readProjectSettings(project: ProjectRoot, env: Env, home: string): ProjectSettings {
  let cache: Record<string, unknown> | undefined;
  if (project.hardwareCacheFile !== undefined) {
    try {
      const data = JSON.parse(readFileSync(project.hardwareCacheFile, 'utf8')) as { cache?: unknown };
      if (data.cache !== null && typeof data.cache === 'object') cache = data.cache as Record<string, unknown>;
    } catch {
      cache = undefined;
    }
  }
  const folder = (key: string): string | undefined => {
    const value = cache?.[key];
    return typeof value === 'string' && value !== '' ? expandPath(value, env, home, project.root) : undefined;
  };
  const hfHome = folder('hf_home');
  return {
    root: project.root,
    hardwareCacheFile: project.hardwareCacheFile,
    hfHome,
    hubCache: hfHome === undefined ? undefined : path.join(hfHome, 'hub'),
    torchHome: folder('torch_home'),
    mlxHome: folder('mlx_home'),
  };
}

/** The stderr note when an explicit variable sends the hub cache away from the project's. Pure. */
export function cacheConflictNotes(location: HubCacheLocation, project: ProjectSettings | undefined): string[] {
  if (project?.hubCache === undefined || path.resolve(project.hubCache) === path.resolve(location.hubCache)) return [];
  if (location.source !== 'HF_HUB_CACHE' && location.source !== 'HUGGINGFACE_HUB_CACHE' && location.source !== 'HF_HOME') return [];
  return [
    `using the hub cache ${location.hubCache} from ${location.source} (an explicit variable wins), not this project's ${project.hubCache}; unset ${location.source} or run \`eval "$(mlcache env)"\` to use the project's.`,
  ];
}
