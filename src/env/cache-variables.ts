/**
 * The environment every pipeline stage runs in, from the hardware cache's `cache` block. Paths
 * are made absolute (relative ones against the project root, `~` and `$VAR` expanded as
 * huggingface_hub's constants.py does), so the values work from any working directory.
 *
 * - HF_HUB_CACHE is set explicitly: it outranks HF_HOME, so an HF_HUB_CACHE inherited from the
 *   shell would otherwise send downloads elsewhere.
 * - TRANSFORMERS_CACHE (legacy) must equal the hub cache, or transformers writes a second layout.
 * - PYANNOTE_CACHE: pyannote.audio 3.x defaults to ~/.cache/torch/pyannote and ignores TORCH_HOME.
 */
import path from 'node:path';
import { expandPath, type Env } from '../config/settings.js';
import type { CacheBlock } from '../config/hardware-cache.js';

export type CacheVariables = Record<string, string>;

export interface CacheDirectories {
  base: string;
  torchHome: string;
  hfHome: string;
  hubCache: string;
  mlxHome: string;
}

export function cacheDirectories(cache: CacheBlock, options: { root: string; env?: Env; home?: string }): CacheDirectories {
  const env = options.env ?? {};
  const home = options.home ?? env.HOME ?? options.root;
  const abs = (p: string) => expandPath(p, env, home, options.root);
  const hfHome = abs(cache.hf_home);
  return {
    base: abs(cache.base_dir),
    torchHome: abs(cache.torch_home),
    hfHome,
    hubCache: path.join(hfHome, 'hub'),
    mlxHome: abs(cache.mlx_home),
  };
}

export function cacheVariables(dirs: CacheDirectories, options: { offline?: boolean } = {}): CacheVariables {
  const vars: CacheVariables = {
    TORCH_HOME: dirs.torchHome,
    HF_HOME: dirs.hfHome,
    HF_HUB_CACHE: dirs.hubCache,
    TRANSFORMERS_CACHE: dirs.hubCache,
    MLX_CACHE_DIR: dirs.mlxHome,
    PYANNOTE_CACHE: path.join(dirs.torchHome, 'pyannote'),
  };
  if (options.offline) {
    vars.HF_HUB_OFFLINE = '1';
    vars.TRANSFORMERS_OFFLINE = '1';
  }
  return vars;
}
