/**
 * Who may do what on the registry emulator: repository patterns, Basic credentials, issued and
 * static bearer tokens, and the 401 challenges (distribution docs/spec/auth/token.md) that send a
 * client to the token service.
 */
import type http from 'node:http';
import { errorBody, type Action, type RegistryState } from './state.js';
import type { RepositoryPattern } from './types.js';

/** Whether `repository` falls under `pattern` (an exact name, `prefix/*`, or `*`; types.ts RepositoryPattern). */
export function repositoryMatches(pattern: RepositoryPattern, repository: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('/*')) return repository.startsWith(pattern.slice(0, -1));
  return pattern === repository;
}

export function userAllowed(state: RegistryState, user: string | undefined, repository: string, action: Action): boolean {
  if (user === undefined) return action === 'pull' && state.anonymousPull.some((p) => repositoryMatches(p, repository));
  const u = state.users[user];
  if (!u) return false;
  const patterns = (action === 'pull' ? u.pull : u.push) ?? ['*'];
  return patterns.some((p) => repositoryMatches(p, repository));
}

/** `user` for valid Basic credentials, null for invalid ones, undefined for none. */
export function basicUser(state: RegistryState, authorization: string | undefined): string | null | undefined {
  if (authorization === undefined || !/^basic /i.test(authorization)) return undefined;
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const name = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  return colon > 0 && state.users[name]?.password === password ? name : null;
}

/** Whether the request may do `actions` on `repository`; answers 401/403 itself when not. */
export function authorize(state: RegistryState, req: http.IncomingMessage, res: http.ServerResponse, repository: string, actions: Action[]): boolean {
  const { mode, options } = state;
  if (mode === 'none') return true;
  const authorization = req.headers.authorization;
  const scope = `repository:${repository}:${actions.join(',')}`;
  if (mode === 'basic') {
    const user = basicUser(state, authorization);
    if (user === null || (user === undefined && !actions.every((a) => userAllowed(state, undefined, repository, a)))) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="mlcache registry emulator"', 'content-type': 'application/json' });
      res.end(errorBody('UNAUTHORIZED', 'authentication required'));
      return false;
    }
    if (!actions.every((a) => userAllowed(state, user, repository, a))) {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(errorBody('DENIED', 'requested access to the resource is denied'));
      return false;
    }
    return true;
  }
  // Bearer.
  const bearer = authorization !== undefined && /^bearer /i.test(authorization) ? authorization.slice(7).trim() : undefined;
  if (bearer !== undefined && options.staticTokens?.[bearer] !== undefined) {
    const user = options.staticTokens[bearer];
    if (actions.every((a) => userAllowed(state, user, repository, a))) return true;
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(errorBody('DENIED', 'requested access to the resource is denied'));
    return false;
  }
  const issued = bearer !== undefined ? state.tokens.get(bearer) : undefined;
  if (issued !== undefined && Date.now() < issued.expiresAt && actions.every((a) => issued.grants.get(repository)?.has(a) === true)) return true;
  const error = issued === undefined ? 'invalid_token' : Date.now() >= issued.expiresAt ? 'invalid_token' : 'insufficient_scope';
  res.writeHead(401, {
    'www-authenticate': `Bearer realm="${state.tokenUrl}/token",service="${state.service}",scope="${scope}",error="${error}"`,
    'content-type': 'application/json',
  });
  res.end(errorBody('UNAUTHORIZED', 'authentication required'));
  return false;
}

/** Whether the caller may pull from `from` (a cross-repository blob mount). */
export function mayPullFrom(state: RegistryState, req: http.IncomingMessage, from: string): boolean {
  const { mode, options } = state;
  const authorization = req.headers.authorization;
  if (mode === 'basic') return userAllowed(state, basicUser(state, authorization) ?? undefined, from, 'pull');
  const bearer = authorization?.replace(/^bearer /i, '');
  if (bearer === undefined) return false;
  const staticUser = options.staticTokens?.[bearer];
  if (staticUser !== undefined) return userAllowed(state, staticUser, from, 'pull');
  return state.tokens.get(bearer)?.grants.get(from)?.has('pull') === true;
}
