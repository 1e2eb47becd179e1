/**
 * Repo ids and `REPO[@REV]` specs, validated like huggingface_hub's
 * utils/_validators.py::validate_repo_id so that mlcache never asks the Hub for an id Python
 * would refuse (and never builds a cache folder name from one).
 */
import { MlcacheError } from '../errors.js';
import { cutValue } from '../util/cut-value.js';
import type { RepoRef, RepoType } from './types.js';

const REPO_TYPES: readonly RepoType[] = ['model', 'dataset', 'space'];

/*
 * validate_repo_id's REPO_ID_REGEX: `^(\b[\w\-.]+\b/)?\b[\w\-.]{1,96}\b$`. The `\b` anchors mean
 * each segment starts and ends with a word character. Python's `\w` is Unicode-aware; the Hub only
 * accepts ASCII names, so ASCII `\w` is used here (a deliberate, stricter deviation).
 */
const SEGMENT = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const MAX_NAME_LENGTH = 96;

const ID_HINT =
  "Use 'name' or 'namespace/name' (letters, digits, '-', '_', '.'; no '--' or '..'; not starting or ending with '-' or '.'), e.g. openai-community/gpt2.";

/** The id is echoed once, cut to a readable length (a 300-character argument stays a one-line error). */
function invalid(text: string, why: string): MlcacheError {
  return new MlcacheError('INVALID_REPO_ID', `Invalid repo id '${cutValue(text)}': ${why}.`, { hint: ID_HINT, details: { repoId: cutValue(text) } });
}

export function isRepoType(value: string): value is RepoType {
  return (REPO_TYPES as readonly string[]).includes(value);
}

/** Parse and validate a repo id (`name` or `namespace/name`). Throws INVALID_REPO_ID. */
export function parseRepoId(text: string, type: RepoType = 'model'): RepoRef {
  const id = text.trim();
  if (id === '') throw invalid(text, 'it is empty');
  const parts = id.split('/');
  if (parts.length > 2) throw invalid(id, "it has more than one '/'");
  // validate_repo_id checks these before the regex, with the same wording in spirit.
  if (id.includes('--')) throw invalid(id, "'--' is not allowed");
  if (id.includes('..')) throw invalid(id, "'..' is not allowed");
  if (id.endsWith('.git')) throw invalid(id, "it cannot end with '.git'");
  const name = parts[parts.length - 1] ?? '';
  if (name.length > MAX_NAME_LENGTH) throw invalid(id, `the name is longer than ${MAX_NAME_LENGTH} characters`);
  for (const segment of parts) {
    if (segment === '') throw invalid(id, 'it has an empty part');
    if (!SEGMENT.test(segment)) {
      throw invalid(id, /^[A-Za-z0-9_.-]+$/.test(segment) ? "a part starts or ends with '-' or '.'" : 'it contains characters other than letters, digits, -, _ and .');
    }
  }
  return { id, type };
}

export interface RepoSpec {
  repo: RepoRef;
  revision?: string | undefined;
}

/** `org/name@rev` → repo and revision (revisions may contain '/', e.g. `refs/pr/1`). */
export function parseRepoSpec(text: string, type: RepoType = 'model'): RepoSpec {
  const trimmed = text.trim();
  const at = trimmed.indexOf('@');
  if (at === -1) return { repo: parseRepoId(trimmed, type) };
  const repo = parseRepoId(trimmed.slice(0, at), type);
  const revision = trimmed.slice(at + 1);
  if (revision === '' || /\s/.test(revision)) {
    throw new MlcacheError('INVALID_REPO_ID', `Invalid revision in '${cutValue(trimmed)}': expected REPO@REVISION with a branch, tag or commit after '@'.`, {
      hint: 'Write e.g. openai-community/gpt2@main or openai-community/gpt2@<40-hex commit>, or drop the @ to use main.',
      details: { spec: cutValue(trimmed) },
    });
  }
  return { repo, revision };
}

export { isCommitHash } from '../util/commit-hash.js';

/** URL prefix for a repo type (constants.py::REPO_TYPES_URL_PREFIXES): models have none. */
export function repoUrlPrefix(type: RepoType): string {
  return type === 'model' ? '' : `${type}s/`;
}

/** The repo's page on the Hub, e.g. https://huggingface.co/datasets/org/name. */
export function repoWebUrl(endpoint: string, repo: RepoRef): string {
  return `${endpoint.replace(/\/+$/, '')}/${repoUrlPrefix(repo.type)}${repo.id}`;
}

/** "model org/name", "dataset org/name": how messages name a repo. */
export function describeRepo(repo: RepoRef): string {
  return `${repo.type} ${repo.id}`;
}
