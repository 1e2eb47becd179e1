/**
 * The one project finder every command shares (settings' cache paths, the project catalog, the
 * lock file, `env`, `run` and `doctor`): the nearest folder, walking up from the working folder
 * (itself included), with `config/hardware_cache.json` (written by `mlcache bootstrap`) or
 * `config/models.json` (a project catalog) — as npm finds the nearest package.json. mlcache's own
 * package folder is never a project: its config/models.json is the shipped catalog.
 */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HARDWARE_CACHE_NAME = 'hardware_cache.json';
export const PROJECT_CATALOG_NAME = 'models.json';

export interface ProjectRoot {
  /** The project folder (absolute). */
  root: string;
  /** `<root>/config`. */
  configDir: string;
  /** `<root>/config/hardware_cache.json` when it exists. */
  hardwareCacheFile: string | undefined;
  /** `<root>/config/models.json` when it exists. */
  catalogFile: string | undefined;
}

/**
 * mlcache's own package folder. src/util/ and dist/util/ sit at the same depth under it, so one
 * relative URL works from the sources and from the build.
 */
export function ownPackageRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url)).replace(/[\\/]+$/, '');
}

function sameDir(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return path.resolve(a) === path.resolve(b);
  }
}

/**
 * The nearest project at or above `cwd`, or undefined. `ownRoot` (default: this install's
 * package folder) is skipped, so running mlcache from its own checkout finds no project.
 */
export function findProjectRoot(cwd: string, options: { ownRoot?: string | undefined } = {}): ProjectRoot | undefined {
  const ownRoot = options.ownRoot ?? ownPackageRoot();
  for (let dir = path.resolve(cwd); ; ) {
    const configDir = path.join(dir, 'config');
    const hardware = path.join(configDir, HARDWARE_CACHE_NAME);
    const catalog = path.join(configDir, PROJECT_CATALOG_NAME);
    const hasHardware = existsSync(hardware);
    const hasCatalog = existsSync(catalog);
    if ((hasHardware || hasCatalog) && !sameDir(dir, ownRoot)) {
      return { root: dir, configDir, hardwareCacheFile: hasHardware ? hardware : undefined, catalogFile: hasCatalog ? catalog : undefined };
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
