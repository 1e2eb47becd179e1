/**
 * A Hub entry's `local_dir` (docs/cache-models.md "Catalog format"): where it points, and whether
 * that is allowed. Relative values resolve against the project root (the folder holding config/,
 * util/project-root.ts), else — no project — against the working folder; absolute values are kept.
 * A folder inside the hub cache (or the cache itself) is refused: files written there would sit
 * among blobs and snapshots that `prune`, `verify` and huggingface_hub own. Pure.
 */
import path from 'node:path';
import { MlcacheError } from '../errors.js';
import { entryName, isHubEntry, type Catalog } from './catalog-schema.js';
import { checkLocalDirValue } from './validate-catalog.js';

export interface LocalDirBase {
  /** The project root, else the working folder. */
  base: string;
  hubCache: string;
}

/** `inner` is `outer` or below it (lexically; both absolute). */
function within(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The absolute folder a `local_dir` value names, or why it cannot be used. */
export function resolveLocalDir(value: string, where: LocalDirBase): { path: string } | { problem: string } {
  const why = checkLocalDirValue(value);
  if (why !== undefined) return { problem: why };
  const resolved = path.resolve(where.base, value);
  const hubCache = path.resolve(where.hubCache);
  if (within(resolved, hubCache)) return { problem: `resolves to ${resolved}, inside the hub cache ${hubCache}: pick a folder outside it` };
  return { path: resolved };
}

/**
 * Every Hub entry's `local_dir` in a merged catalog, resolved; CATALOG_INVALID naming each
 * entry whose folder cannot be used. Keys are `<group>/<entry name>`.
 */
export function resolveLocalDirs(catalog: Catalog, where: LocalDirBase & { sources: readonly string[] }): Map<string, string> {
  const resolved = new Map<string, string>();
  const problems: Array<{ path: string; message: string }> = [];
  for (const [groupName, group] of Object.entries(catalog.groups)) {
    for (const entry of group.entries) {
      if (!isHubEntry(entry) || entry.local_dir === undefined) continue;
      const name = entryName(entry);
      const result = resolveLocalDir(entry.local_dir, where);
      if ('path' in result) resolved.set(`${groupName}/${name}`, result.path);
      else problems.push({ path: `groups.${groupName} entry '${name}'.local_dir`, message: `'${entry.local_dir}' ${result.problem}` });
    }
  }
  if (problems.length > 0) {
    const files = where.sources.slice(1).join(', ') || where.sources.join(', ');
    throw new MlcacheError('CATALOG_INVALID', problems.map((p) => `${files}: ${p.path}: ${p.message}`).join('\n'), {
      hint: `Fix local_dir in ${files}: a folder outside the hub cache, absolute or relative to ${where.base}.`,
      details: { files: where.sources, problems },
    });
  }
  return resolved;
}
