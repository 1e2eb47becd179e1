/**
 * Map a failed Hub response to a typed HubHttpError, in the order of huggingface_hub
 * utils/_http.py::hf_raise_for_status:
 *   X-Error-Code RevisionNotFound → EntryNotFound → GatedRepo → "Access to this resource is
 *   disabled." → RepoNotFound (or a 401 on a repo API / resolve URL) → then by status.
 * Messages are one sentence naming the repo, revision or file; the token never appears (URLs go
 * through redactUrl and server text through redact). Pure.
 */
import { HubHttpError, type ErrorCode } from '../errors.js';
import { retryAfterSeconds } from '../util/net.js';
import { redact, redactUrl } from '../util/redact.js';
import { headerGetter, joinedHeaderValue, type HeaderSource } from '../util/http-headers.js';
import { describeRepo, isRepoType, repoWebUrl } from './repo-id.js';
import type { RepoRef } from './types.js';

export interface ErrorResponseInput {
  status: number;
  headers: HeaderSource;
  /** Response body as text (JSON or not); only the first few KB are read. */
  body?: string | undefined;
  url: string;
  method: string;
  hasToken: boolean;
  endpoint: string;
  repo?: RepoRef | undefined;
  revision?: string | undefined;
  /** File path in the repo, for resolve requests. */
  path?: string | undefined;
  /** `Range` header that was sent, for 416 messages. */
  range?: string | undefined;
}

// hf_raise_for_status's _REPO_API_REGEX, on the path only (mlcache also talks http:// to mirrors).
const REPO_API_PATH = /^\/api\/(models|datasets|spaces)\/(.+)$/;
const RESOLVE_PATH = /^\/(.+)\/resolve\/(.+)$/;
const DISABLED_MESSAGE = 'Access to this resource is disabled.';
const INVALID_CREDENTIALS = 'Invalid credentials in Authorization header';
const MAX_SERVER_TEXT = 300;

/** The request id to quote to Hub support (hf_raise_for_status::_format). */
export function requestIdOf(headers: HeaderSource): string | undefined {
  return joinedHeaderValue(headers, 'x-request-id') ?? joinedHeaderValue(headers, 'x-amzn-trace-id') ?? joinedHeaderValue(headers, 'x-amz-cf-id');
}

/** Server-provided explanation: X-Error-Message, then JSON `error`, `error_description`, `errors[].message`. */
export function serverMessageOf(headers: HeaderSource, body: string | undefined): string | undefined {
  const parts: string[] = [];
  const header = joinedHeaderValue(headers, 'x-error-message')?.trim();
  if (header) parts.push(header);
  if (body) {
    try {
      const json = JSON.parse(body.slice(0, 65_536)) as unknown;
      if (json && typeof json === 'object') {
        const { error, error_description: description, errors } = json as Record<string, unknown>;
        for (const candidate of [error, description]) if (typeof candidate === 'string' && candidate.trim()) parts.push(candidate.trim());
        if (Array.isArray(errors)) {
          for (const item of errors) {
            const message = (item as { message?: unknown } | null)?.message;
            if (typeof message === 'string' && message.trim()) parts.push(message.trim());
          }
        }
      }
    } catch {
      // Not JSON: HTML error pages say nothing useful to a user.
    }
  }
  const unique = [...new Set(parts)];
  if (unique.length === 0) return undefined;
  const text = redact(unique.join(' '));
  return text.length > MAX_SERVER_TEXT ? `${text.slice(0, MAX_SERVER_TEXT - 1)}…` : text;
}

/** Best effort: which repo a Hub URL is about, when the caller did not say. */
export function repoFromUrl(url: string): RepoRef | undefined {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const api = REPO_API_PATH.exec(path);
  if (api) {
    const type = (api[1] ?? 'models').slice(0, -1);
    const segments = (api[2] ?? '').split('/');
    // /api/models/{id}/revision/... or /tree/...: the id is one or two segments before the verb.
    const verb = segments.findIndex((s) => s === 'revision' || s === 'tree' || s === 'paths-info');
    const idParts = verb === -1 ? segments.slice(0, 2) : segments.slice(0, verb);
    if (isRepoType(type) && idParts.length > 0) return { type, id: decodeURIComponent(idParts.join('/')) };
  }
  const resolve = RESOLVE_PATH.exec(path);
  if (resolve) {
    const segments = (resolve[1] ?? '').split('/');
    const first = segments[0];
    if ((first === 'datasets' || first === 'spaces') && segments.length > 1) {
      return { type: first === 'datasets' ? 'dataset' : 'space', id: segments.slice(1).join('/') };
    }
    return { type: 'model', id: segments.join('/') };
  }
  return undefined;
}

function isRepoUrl(url: string): boolean {
  try {
    const path = new URL(url).pathname;
    return REPO_API_PATH.test(path) || RESOLVE_PATH.test(path);
  } catch {
    return false;
  }
}

function subject(input: ErrorResponseInput, repo: RepoRef | undefined): string {
  if (input.path !== undefined && repo) return `'${input.path}' in ${describeRepo(repo)}${input.revision ? ` at ${input.revision}` : ''}`;
  if (repo) return `${describeRepo(repo)}${input.revision ? ` at ${input.revision}` : ''}`;
  return redactUrl(input.url);
}

export function errorFromResponse(input: ErrorResponseInput): HubHttpError {
  const { status, headers, endpoint } = input;
  const repo = input.repo ?? repoFromUrl(input.url);
  const errorCode = joinedHeaderValue(headers, 'x-error-code');
  const errorMessage = joinedHeaderValue(headers, 'x-error-message');
  const server = serverMessageOf(headers, input.body);
  const what = subject(input, repo);
  const repoPage = repo ? repoWebUrl(endpoint, repo) : endpoint;
  const tokenFlag = 'pass a token with --token or HF_TOKEN';

  let code: ErrorCode;
  let message: string;
  let hint: string | undefined;
  let retryAfter: number | undefined;

  if (errorCode === 'RevisionNotFound') {
    code = 'REVISION_NOT_FOUND';
    message = `Revision '${input.revision ?? '?'}' was not found in ${repo ? describeRepo(repo) : redactUrl(input.url)}.`;
    hint = `Check the branch, tag or commit name; the repo's branches are listed at ${repoPage}/tree/main.`;
  } else if (errorCode === 'EntryNotFound') {
    code = 'ENTRY_NOT_FOUND';
    message = input.path !== undefined ? `File ${what} does not exist.` : `${capitalize(what)}: the requested path does not exist.`;
    hint = `Check the file name against the repo's files at ${repoPage}.`;
  } else if (errorCode === 'GatedRepo') {
    code = 'GATED_REPO';
    message = `${capitalize(repo ? describeRepo(repo) : what)} is gated: you must accept its conditions to download it.`;
    hint = input.hasToken
      ? `Accept the conditions at ${repoPage} with the account that owns your token (some repos need the author's approval), then run the command again.`
      : `Accept the conditions at ${repoPage}, then ${tokenFlag}.`;
  } else if (errorMessage === DISABLED_MESSAGE) {
    code = 'REPO_DISABLED';
    message = `${capitalize(repo ? describeRepo(repo) : what)} has been disabled on ${endpoint}.`;
    hint = 'Disabled repos cannot be downloaded; choose another repo or revision.';
  } else if (status === 401 && (errorMessage === INVALID_CREDENTIALS || server === INVALID_CREDENTIALS)) {
    code = 'TOKEN_INVALID';
    message = `The token was rejected by ${endpoint} while requesting ${what}.`;
    hint = `Create or refresh a token at ${endpoint}/settings/tokens, then ${tokenFlag}.`;
  } else if (errorCode === 'RepoNotFound' || (status === 401 && isRepoUrl(input.url)) || (status === 404 && errorCode === undefined && isRepoUrl(input.url))) {
    code = 'REPO_NOT_FOUND';
    message = `${capitalize(repo ? describeRepo(repo) : what)} was not found on ${endpoint}${input.hasToken ? ' (or your token has no access to it)' : ''}.`;
    hint = input.hasToken
      ? `Check the id, and that the account that owns your token can see ${repoPage}.`
      : `Check the id; if it is private or gated, ${tokenFlag}.`;
  } else if (status === 401) {
    code = input.hasToken ? 'TOKEN_INVALID' : 'TOKEN_MISSING';
    message = input.hasToken ? `The token was rejected by ${endpoint} while requesting ${what}.` : `${endpoint} requires a token for ${what}.`;
    hint = input.hasToken ? `Create or refresh a token at ${endpoint}/settings/tokens, then ${tokenFlag}.` : `Create a token at ${endpoint}/settings/tokens, then ${tokenFlag}.`;
  } else if (status === 400) {
    code = 'BAD_REQUEST';
    message = `${endpoint} rejected the request for ${what} as invalid (400).`;
    hint = 'Check the repo id, revision and file name; if they are right, this may be an mlcache bug: please report it.';
  } else if (status === 403) {
    code = 'FORBIDDEN';
    message = `Access to ${what} was refused (403).`;
    hint = input.hasToken
      ? `Check that your token has read access (fine-grained tokens need it per repo): ${endpoint}/settings/tokens.`
      : `If the repo is private or gated, ${tokenFlag}.`;
  } else if (status === 407) {
    code = 'NETWORK_PROXY';
    message = `The proxy refused the request for ${what} (407 Proxy Authentication Required).`;
    hint = 'Put the proxy credentials in HTTPS_PROXY / HTTP_PROXY (http://user:password@proxy:port).';
  } else if (status === 408) {
    code = 'NETWORK_TIMEOUT';
    message = `${endpoint} timed out waiting for the request for ${what} (408).`;
    hint = 'Run the command again; check your connection if it keeps happening.';
  } else if (status === 429) {
    code = 'RATE_LIMITED';
    retryAfter = retryAfterSeconds(headerGetter(headers));
    message = `${endpoint} rate-limited the request for ${what} (429).`;
    hint =
      retryAfter === undefined
        ? `Wait a few minutes and run the command again${input.hasToken ? '' : '; authenticated requests get a higher quota (--token or HF_TOKEN)'}.`
        : `Run the command again in ${formatSeconds(retryAfter)}${input.hasToken ? '' : '; authenticated requests get a higher quota (--token or HF_TOKEN)'}.`;
  } else if (status === 416) {
    code = 'PROTOCOL';
    const contentRange = joinedHeaderValue(headers, 'content-range');
    message = `${endpoint} refused the byte range${input.range ? ` ${input.range}` : ''} for ${what} (416${contentRange ? `, Content-Range ${contentRange}` : ''}).`;
    hint = 'The file changed or the partial download is stale: run the command again to restart it.';
  } else if (status >= 500) {
    code = 'SERVER_ERROR';
    message = `${endpoint} failed with ${status} while serving ${what}.`;
    hint = 'The Hub is having trouble: wait a moment and run the command again (see https://status.huggingface.co).';
  } else {
    code = 'PROTOCOL';
    message = `Unexpected ${status} answer from ${endpoint} for ${what}.`;
    hint = 'Check the endpoint (--endpoint / HF_ENDPOINT); if it is right, please report this with the request id.';
  }

  if (server && !message.includes(server)) message = `${message.slice(0, -1)}: ${server}${/[.!?]$/.test(server) ? '' : '.'}`;
  const requestId = requestIdOf(headers);
  const url = redactUrl(input.url);
  return new HubHttpError(
    code,
    redact(message),
    { status, url, requestId, retryAfter },
    {
      hint: hint === undefined ? undefined : redact(hint),
      details: { status, url, method: input.method, requestId, errorCode, repo: repo?.id, repoType: repo?.type, revision: input.revision, path: input.path },
    },
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** 75 → "1 min 15 s". */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.ceil(seconds % 60);
  if (minutes < 60) return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}
