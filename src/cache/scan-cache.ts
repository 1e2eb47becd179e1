/**
 * Read-only scan of an HF hub cache written by any tool (huggingface_hub, @huggingface/hub,
 * mlcache). No network. Mirrors huggingface_hub utils/_cache_manager.py::scan_cache_dir and
 * flags the same conditions (plus a few more), but keeps scanning a repo after the first problem
 * instead of dropping it, so a person sees everything at once. This file reads the cache root;
 * scan-repo.ts reads each repo folder; scan-types.ts has the shapes (cache/index.ts exports them).
 */
import type { Dirent, Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { MlcacheError } from '../errors.js';
import { parseRepoFolderName } from './repo-folder-name.js';
import { mapLimit, scanRepo, warn } from './scan-repo.js';
import type { CacheScan, CacheWarning, ScannedRepo } from './scan-types.js';

/** Root entries that are not repos (huggingface_hub FILES_TO_IGNORE + .locks + CACHEDIR.TAG). */
const ROOT_IGNORED = new Set(['.locks', 'CACHEDIR.TAG', '.DS_Store', 'Thumbs.db', 'desktop.ini']);
const REPO_CONCURRENCY = 8;

export async function scanCache(cacheDir: string): Promise<CacheScan> {
  const root = path.resolve(cacheDir);
  let st: Stats;
  try {
    st = await fs.stat(root);
  } catch (error) {
    throw new MlcacheError('CACHE_NOT_FOUND', `Cache directory not found: ${root}.`, {
      cause: error,
      hint: 'Pass the cache folder explicitly or set HF_HUB_CACHE / HF_HOME; nothing has been downloaded there yet.',
    });
  }
  if (!st.isDirectory()) {
    throw new MlcacheError('CACHE_NOT_FOUND', `The cache path is a file, not a directory: ${root}.`, {
      hint: 'Point HF_HUB_CACHE at a directory.',
    });
  }

  const entries = (await fs.readdir(root, { withFileTypes: true })).filter(
    (e) => !ROOT_IGNORED.has(e.name) && !e.name.startsWith('.mlcache-symlink-probe-'),
  );
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const warnings: CacheWarning[] = [];
  const results = await mapLimit(entries, REPO_CONCURRENCY, (entry) => scanEntry(root, entry, warnings));
  const repos = results.filter((r): r is ScannedRepo => r !== undefined);
  for (const repo of repos) warnings.push(...repo.warnings);
  return {
    cacheDir: root,
    repos,
    sizeOnDisk: repos.reduce((sum, r) => sum + r.sizeOnDisk, 0),
    blobsSize: repos.reduce((sum, r) => sum + r.blobsSize, 0),
    partialFiles: repos.flatMap((r) => r.partialFiles),
    warnings,
  };
}

async function scanEntry(root: string, entry: Dirent, rootWarnings: CacheWarning[]): Promise<ScannedRepo | undefined> {
  const full = path.join(root, entry.name);
  const isDir = entry.isDirectory() || (entry.isSymbolicLink() && (await fs.stat(full).then((s) => s.isDirectory(), () => false)));
  if (!isDir) {
    rootWarnings.push(warn('NOT_A_DIRECTORY', full, `Not a repo folder (a file sits at the cache root): ${full}.`, entry.name));
    return undefined;
  }
  const repo = parseRepoFolderName(entry.name);
  if (repo === undefined) {
    const dash = entry.name.indexOf('--');
    if (dash > 0) {
      rootWarnings.push(
        warn('UNKNOWN_REPO_TYPE', full, `Repo type must be model, dataset or space, found "${entry.name.slice(0, dash)}" (${full}); huggingface_hub reports it as corrupted and mlcache leaves it alone.`, entry.name),
      );
    } else {
      rootWarnings.push(warn('NOT_A_REPO_FOLDER', full, `Not a Hugging Face cache folder (no "--" in the name): ${full}.`, entry.name));
    }
    return undefined;
  }
  return scanRepo(full, entry.name, repo);
}
