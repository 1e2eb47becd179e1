/**
 * Repo folder names in the HF hub cache: `models--org--name`, `datasets--org--name`, `models--gpt2`.
 * Source: huggingface_hub file_download.py::repo_folder_name (`"--".join([f"{type}s", *id.split("/")])`)
 * and @huggingface/hub lib/cache-management.ts::getRepoFolderName.
 */
import { MlcacheError } from '../errors.js';

export type CacheRepoType = 'model' | 'dataset' | 'space';

/** A repo as the cache sees it. Structurally identical to src/hub's RepoRef. */
export interface CacheRepo {
  /** `org/name`, or a bare `name` for legacy models such as `gpt2`. Case is preserved. */
  id: string;
  type: CacheRepoType;
}

export const REPO_ID_SEPARATOR = '--';

const TYPES: readonly CacheRepoType[] = ['model', 'dataset', 'space'];

/** One id segment: what the Hub allows in a user/org or repo name (letters, digits, `-_.`). */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/**
 * Throws INVALID_REPO_ID unless `id` is `name` or `org/name` and each part is a safe folder-name
 * segment. A `--` inside a part is refused: the folder name would not parse back to the same id
 * (huggingface_hub's validate_repo_id refuses `--` and `..` too).
 */
export function verifyRepoId(id: string): void {
  const parts = id.split('/');
  const ok =
    parts.length >= 1 &&
    parts.length <= 2 &&
    parts.every((p) => SEGMENT.test(p) && !p.includes(REPO_ID_SEPARATOR) && !p.includes('..') && p.length <= 96);
  if (!ok) {
    throw new MlcacheError('INVALID_REPO_ID', `Invalid repo id ${JSON.stringify(id)}.`, {
      hint: 'Use `name` or `org/name` (letters, digits, "-", "_", "."; no "--" and no "..").',
    });
  }
}

/** `{id: "org/name", type: "model"}` → `models--org--name`. */
export function repoFolderName(repo: CacheRepo): string {
  verifyRepoId(repo.id);
  if (!TYPES.includes(repo.type)) {
    throw new MlcacheError('INVALID_REPO_ID', `Unknown repo type ${JSON.stringify(repo.type)}.`, {
      hint: 'Use one of: model, dataset, space.',
    });
  }
  return [`${repo.type}s`, ...repo.id.split('/')].join(REPO_ID_SEPARATOR);
}

/**
 * Inverse of repoFolderName. Mirrors huggingface_hub utils/_cache_manager.py::_scan_cached_repo
 * (split on the first `--`, strip the plural `s`, turn the remaining `--` into `/`). Returns
 * undefined for names that are not repo folders, including types this cache does not handle
 * (`kernels--…`, `buckets--…`, which @huggingface/hub accepts but huggingface_hub flags).
 */
export function parseRepoFolderName(name: string): CacheRepo | undefined {
  const at = name.indexOf(REPO_ID_SEPARATOR);
  if (at <= 0) return undefined;
  const prefix = name.slice(0, at);
  const rest = name.slice(at + REPO_ID_SEPARATOR.length);
  if (!prefix.endsWith('s') || rest === '') return undefined;
  const type = prefix.slice(0, -1) as CacheRepoType;
  if (!TYPES.includes(type)) return undefined;
  const id = rest.split(REPO_ID_SEPARATOR).join('/');
  if (id.split('/').some((p) => p === '')) return undefined;
  return { id, type };
}
