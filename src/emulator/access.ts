/**
 * Who may see a repo on the Hub emulator: bearer tokens, and the Hub's answers for private, disabled
 * and gated repos and for a bad token (the statuses and messages huggingface_hub
 * utils/_http.py::hf_raise_for_status tells apart).
 */
import type http from 'node:http';
import { findRevision, type StoredRepo, type StoredRevision } from './repo-store.js';
import { sendHubError } from './respond.js';
import type { EmulatorState, RequestContext } from './state.js';
import type { RepoType } from './types.js';

/** The exact message Python matches to tell a bad token from a hidden repo (utils/_http.py::hf_raise_for_status). */
export const INVALID_CREDENTIALS = 'Invalid credentials in Authorization header';
/** The exact message Python maps to DisabledRepoError (utils/_http.py::hf_raise_for_status). */
export const DISABLED_MESSAGE = 'Access to this resource is disabled.';

export interface Auth {
  present: boolean;
  valid: boolean;
  token: string | undefined;
}

export function authOf(state: EmulatorState, req: http.IncomingMessage): Auth {
  const header = req.headers.authorization;
  if (!header) return { present: false, valid: false, token: undefined };
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  const token = match?.[1]?.trim();
  if (!token) return { present: true, valid: false, token: undefined };
  return { present: true, valid: state.acceptAnyToken || state.tokens.has(token), token };
}

function hasRepoAccess(repo: StoredRepo, auth: Auth): boolean {
  if (!auth.valid) return false;
  return repo.accessTokens === undefined || (auth.token !== undefined && repo.accessTokens.includes(auth.token));
}

/** Answers the request and returns false when the caller may not see this repo. */
export function checkAccess(state: EmulatorState, ctx: RequestContext, repo: StoredRepo | undefined, type: RepoType, id: string, auth: Auth): repo is StoredRepo {
  if (auth.present && !auth.valid) {
    sendHubError(ctx, 401, undefined, INVALID_CREDENTIALS);
    return false;
  }
  const notFound = () => sendHubError(ctx, auth.valid ? 404 : 401, 'RepoNotFound', 'Repository not found');
  if (!repo) {
    // A missing repo is 404 whatever the token: simpler for tests. (The Hub answers 401 without a
    // token; both map to RepositoryNotFoundError in Python.)
    sendHubError(ctx, 404, 'RepoNotFound', 'Repository not found');
    return false;
  }
  if (repo.private && !hasRepoAccess(repo, auth)) {
    // 401 without a token, 404 with a token that can't see it: the Hub never confirms a private repo exists.
    notFound();
    return false;
  }
  if (repo.disabled) {
    sendHubError(ctx, 403, undefined, DISABLED_MESSAGE);
    return false;
  }
  if (repo.gated && !hasRepoAccess(repo, auth)) {
    const label = `${type} ${id}`;
    if (!auth.valid) {
      sendHubError(ctx, 401, 'GatedRepo', `Access to ${label} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
    } else {
      sendHubError(ctx, 403, 'GatedRepo', `Access to ${label} is restricted and you are not in the authorized list. Visit ${state.hubUrl}/${id} to ask for access.`);
    }
    return false;
  }
  return true;
}

export function revisionOr404(ctx: RequestContext, repo: StoredRepo, revision: string): StoredRevision | undefined {
  const rev = findRevision(repo, revision);
  if (!rev) sendHubError(ctx, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
  return rev;
}
