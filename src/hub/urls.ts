/**
 * Hub URLs, encoded exactly as huggingface_hub builds them (hf_api.py::model_info / list_repo_tree,
 * file_download.py::hf_hub_url): revisions with `quote(rev, safe='')`, file paths with `quote(path)`
 * (default safe='/'). Pure.
 */
import { repoUrlPrefix } from './repo-id.js';
import type { RepoRef } from './types.js';

// Python's urllib.parse.quote never encodes these (RFC 3986 unreserved; '~' since Python 3.7).
const ALWAYS_SAFE = /[A-Za-z0-9_.\-~]/;
const encoder = new TextEncoder();

/** Python's `urllib.parse.quote(text, safe)`: UTF-8 bytes, upper-case %XX. */
export function quote(text: string, safe = '/'): string {
  let out = '';
  for (const char of text) {
    if (char.length === 1 && char.charCodeAt(0) < 0x80 && (ALWAYS_SAFE.test(char) || safe.includes(char))) {
      out += char;
      continue;
    }
    for (const byte of encoder.encode(char)) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function base(endpoint: string): string {
  return endpoint.replace(/\/+$/, '');
}

/** `/api/{type}s/{id}/revision/{quote(revision, safe='')}` (hf_api.py::model_info). */
export function apiRevisionUrl(endpoint: string, repo: RepoRef, revision: string): string {
  return `${base(endpoint)}/api/${repo.type}s/${repo.id}/revision/${quote(revision, '')}`;
}

/** `/api/{type}s/{id}/tree/{rev}[/{path}]?recursive=true&expand=false` (hf_api.py::list_repo_tree). */
export function apiTreeUrl(endpoint: string, repo: RepoRef, revision: string, path?: string): string {
  const sub = path ? `/${quote(path, '')}` : '';
  return `${base(endpoint)}/api/${repo.type}s/${repo.id}/tree/${quote(revision, '')}${sub}?recursive=true&expand=false`;
}

/** `{prefix}{id}/resolve/{quote(rev, safe='')}/{quote(path)}` (file_download.py::hf_hub_url). */
export function resolveFileUrl(endpoint: string, repo: RepoRef, revision: string, path: string): string {
  return `${base(endpoint)}/${repoUrlPrefix(repo.type)}${repo.id}/resolve/${quote(revision, '')}/${quote(path)}`;
}

export function whoamiUrl(endpoint: string): string {
  return `${base(endpoint)}/api/whoami-v2`;
}

/** Same scheme, host and port: the only URLs that may receive the Hub token (src/util/same-origin.ts). */
export { isSameOrigin } from '../util/same-origin.js';
