/**
 * The registry emulator's token service (distribution docs/spec/auth/token.md and oauth.md): GET
 * with Basic credentials (or none) and `scope`s, POST with an identity (refresh) token; it grants
 * the scopes the user may have and answers a token that expires early when `tokenValidSec` says so.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { basicUser, userAllowed } from '../access.js';
import { readBody, sendError, type Action, type RegistryState } from '../state.js';

export async function handleToken(state: RegistryState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { options, service } = state;
  const url = new URL(req.url ?? '/', state.tokenUrl);
  if (url.pathname !== '/token') return sendError(res, 404, 'NOT_FOUND', 'no such endpoint');
  let user: string | undefined;
  let scopes: string[];
  let requestedService: string | null;
  if (req.method === 'POST') {
    const body = await readBody(req, 64 * 1024);
    const form = new URLSearchParams(body?.toString('utf8') ?? '');
    if (form.get('grant_type') !== 'refresh_token') return sendError(res, 400, 'UNSUPPORTED', 'only grant_type=refresh_token is supported');
    user = options.identityTokens?.[form.get('refresh_token') ?? ''];
    if (user === undefined) return sendError(res, 401, 'UNAUTHORIZED', 'invalid refresh token');
    scopes = (form.get('scope') ?? '').split(' ').filter((s) => s.length > 0);
    requestedService = form.get('service');
  } else {
    const basic = basicUser(state, req.headers.authorization);
    if (basic === null) return sendError(res, 401, 'UNAUTHORIZED', 'invalid username or password');
    user = basic;
    scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter((s) => s.length > 0);
    requestedService = url.searchParams.get('service');
  }
  if (requestedService !== service) return sendError(res, 400, 'UNSUPPORTED', 'unknown service');
  const grants = new Map<string, Set<string>>();
  for (const scope of scopes) {
    const m = /^repository:(.+):([a-z,*]+)$/.exec(scope);
    if (!m) continue;
    const name = m[1]!;
    const allowed = m[2]!.split(',').filter((a): a is Action => (a === 'pull' || a === 'push') && userAllowed(state, user, name, a));
    if (allowed.length > 0) grants.set(name, new Set([...(grants.get(name) ?? []), ...allowed]));
  }
  const token = `emu_${randomBytes(16).toString('hex')}`;
  state.tokens.set(token, { user, grants, expiresAt: Date.now() + state.validSec * 1000 });
  state.tokensIssued++;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ [options.tokenField ?? 'token']: token, expires_in: state.lifetimeSec, issued_at: new Date().toISOString() }));
}
