/**
 * Reading catalogs from disk: the shipped config/models.json, the project's config/models.json,
 * and an explicit user catalog (--catalog FILE, else MLCACHE_CATALOG), merged in that order
 * (merge-catalogs.ts). The thin I/O edge around the pure parse/validate/merge functions.
 */
import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MlcacheError } from '../errors.js';
import { findProjectRoot } from '../util/project-root.js';
import type { Catalog } from './catalog-schema.js';
import { applyPins, mergeCatalogs } from './merge-catalogs.js';
import { parseCatalogText } from './validate-catalog.js';

/**
 * config/models.json of this mlcache install. src/catalog/ and dist/catalog/ sit at the same depth
 * under the package root, so one relative URL works from sources and from the build.
 */
export function shippedCatalogPath(): string {
  return fileURLToPath(new URL('../../config/models.json', import.meta.url));
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return path.resolve(a) === path.resolve(b);
  }
}

/**
 * The project's config/models.json, when the nearest project (util/project-root.ts: the nearest
 * ancestor of `cwd` with config/hardware_cache.json or config/models.json, mlcache's own package
 * folder excepted) has one.
 */
export function findProjectCatalog(cwd: string, shippedPath: string = shippedCatalogPath()): string | undefined {
  return findProjectRoot(cwd, { ownRoot: path.dirname(path.dirname(shippedPath)) })?.catalogFile;
}

export async function readCatalogFile(file: string): Promise<Catalog> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new MlcacheError('CONFIG_NOT_FOUND', `Cannot read catalog ${file}${code ? ` (${code})` : ''}.`, {
      hint: code === 'ENOENT' ? 'Check the path given with --catalog or MLCACHE_CATALOG.' : 'Check the file permissions.',
      cause: error,
      details: { file },
    });
  }
  return parseCatalogText(text, file);
}

export interface LoadCatalogOptions {
  /** Resolves relative paths and finds the project catalog. */
  cwd: string;
  /** --catalog FILE; wins over `envCatalogPath`. */
  catalogPath?: string | undefined;
  /** Settings.catalogPath (MLCACHE_CATALOG). */
  envCatalogPath?: string | undefined;
  /** Look for the project's config/models.json (default true). */
  projectCatalog?: boolean;
  /** Override the shipped catalog (tests). @default shippedCatalogPath() */
  shippedPath?: string;
}

export interface LoadedCatalog {
  catalog: Catalog;
  /** Files merged, in order (shipped first). */
  sources: string[];
}

export async function loadCatalog(options: LoadCatalogOptions): Promise<LoadedCatalog> {
  const shipped = options.shippedPath ?? shippedCatalogPath();
  const sources = [shipped];
  let catalog = await readCatalogFile(shipped);
  const layers: string[] = [];
  if (options.projectCatalog !== false) {
    const project = findProjectCatalog(options.cwd, shipped);
    if (project !== undefined) layers.push(project);
  }
  const explicit = options.catalogPath ?? options.envCatalogPath;
  if (explicit !== undefined) {
    const file = path.resolve(options.cwd, explicit);
    if (!layers.some((f) => sameFile(f, file)) && !sameFile(file, shipped)) layers.push(file);
  }
  for (const file of layers) {
    catalog = mergeCatalogs(catalog, await readCatalogFile(file));
    sources.push(file);
  }
  return { catalog: applyPins(catalog), sources };
}
