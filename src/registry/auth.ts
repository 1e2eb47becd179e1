/**
 * Registry authentication as the container tools do it (distribution docs/spec/auth/token.md and
 * oauth.md; oras-go registry/remote/auth/client.go):
 *
 * 1. A request goes out anonymously (or with what this registry already asked for).
 * 2. A 401 carries `WWW-Authenticate`: `Basic realm=…` → send the credentials as Basic;
 *    `Bearer realm=…,service=…,scope=…` → ask the realm for a token for the scopes the request
 *    needs (GET with Basic credentials, or anonymously; POST `grant_type=refresh_token` with an
 *    identity token), then repeat the request with `Authorization: Bearer <token>`.
 * 3. Tokens are cached per scope set until `expires_in` (default 60 s, token.md) runs out; one token
 *    request per scope set is in flight at a time; a 401 with a cached token (it expired early,
 *    e.g. during a long upload) fetches a fresh one once.
 *
 * Passwords and tokens are registered for redaction; no credential ever goes to a host other than
 * the registry and its token realm.
 */
import type { Dispatcher } from 'undici';
import { MlcacheError } from '../errors.js';
import { redact, registerSecret } from '../util/redact.js';
import { pickChallenge, parseChallenges, type AuthChallenge } from './challenge.js';
import { registerCredentials } from './credentials.js';
import { firstHeaderValue } from '../util/http-headers.js';
import { registryNetworkError, send } from './http.js';
import { describeRegistryError, parseRegistryErrorBody } from './registry-error.js';
import { normalizeScopes, scopeKey } from './scope.js';
import type { RegistryCredentials } from './types.js';

/** token.md: "When omitted, this defaults to 60 seconds." */
export const DEFAULT_TOKEN_LIFETIME_SEC = 60;
const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;

export interface TokenResponse {
  token: string;
  /** Seconds. */
  expiresIn: number;
}

/** The token service's JSON answer: `token` or `access_token`, `expires_in`. Pure. */
export function parseTokenResponse(body: string): TokenResponse | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { token, access_token: accessToken, expires_in: expiresIn } = parsed as Record<string, unknown>;
  const value = typeof token === 'string' && token.length > 0 ? token : typeof accessToken === 'string' && accessToken.length > 0 ? accessToken : undefined;
  if (value === undefined) return undefined;
  const seconds = typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : DEFAULT_TOKEN_LIFETIME_SEC;
  return { token: value, expiresIn: seconds };
}

/**
 * How long before its expiry a cached token is renewed: a fifth of its lifetime, at most 10 s, so a
 * 60 s token is renewed at 50 s and a 2 s test token at 1.6 s.
 */
export function renewalMargin(lifetimeMs: number): number {
  return Math.min(10_000, lifetimeMs / 5);
}

export interface AuthenticatorOptions {
  dispatcher: Dispatcher;
  /** `host[:port]`, for messages. */
  registry: string;
  /** `http(s)://host[:port]`. */
  baseUrl: string;
  credentials?: RegistryCredentials | undefined;
  userAgent: string;
  /**
   * Whether plain HTTP may carry credentials to `host[:port]` (a token realm): the same rule as for
   * registries — loopback, or named by --insecure-registry / MLCACHE_INSECURE_REGISTRY. A plain-HTTP
   * registry does not make its token service on another host safe to send a password to.
   */
  plainHttpAllowed: (host: string) => boolean;
  /** Controllers for the caller's abort signal (the client's single listener). */
  signal: () => AbortSignal | undefined;
  now?: () => number;
}

export interface Authenticator {
  /**
   * The Authorization value for a request needing `scopes`, from what the registry already asked
   * for (a cached or fresh bearer token, Basic, or the static bearer token); undefined = anonymous.
   */
  authorization(scopes: readonly string[]): Promise<string | undefined>;
  /**
   * After a 401: the challenge is learned and a new Authorization value returned for one repeat.
   * Throws REGISTRY_AUTH when there is nothing new to try (the same credentials were just refused).
   */
  unauthorized(wwwAuthenticate: string | string[] | undefined, scopes: readonly string[], rejected: string | undefined, what: string): Promise<string>;
  /** Learn the scheme from the `/v2/` ping's 401 without fetching anything. */
  learn(wwwAuthenticate: string | string[] | undefined): void;
  /** How many tokens were fetched (for tests and stats). */
  readonly tokensFetched: number;
}

interface CachedToken {
  value: string;
  expiresAt: number;
  lifetimeMs: number;
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const now = options.now ?? Date.now;
  const credentials = options.credentials;
  registerCredentials(credentials);
  let challenge: AuthChallenge | undefined;
  const tokens = new Map<string, CachedToken>();
  const inflight = new Map<string, Promise<CachedToken>>();
  let tokensFetched = 0;

  const basicHeader = (): string | undefined =>
    credentials?.kind === 'basic' ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : undefined;

  function scopeText(scopes: readonly string[]): string {
    return scopes.length > 0 ? normalizeScopes(scopes).join(' ') : '(none)';
  }

  function authError(message: string, hint: string, cause?: unknown): MlcacheError {
    return new MlcacheError('REGISTRY_AUTH', redact(message), { hint, cause });
  }

  const loginHint = (scopes: readonly string[]) =>
    `Log in to ${options.registry} (docker login / podman login) or pass --registry-token, and check the account may ${scopes.some((s) => s.includes('push')) ? 'push to' : 'pull from'} that repository.`;

  async function fetchToken(scopes: readonly string[]): Promise<CachedToken> {
    if (challenge === undefined || challenge.scheme !== 'bearer') throw new Error('fetchToken without a bearer challenge');
    const realm = challenge.params.realm;
    if (realm === undefined || realm.length === 0) {
      throw new MlcacheError('REGISTRY_UNSUPPORTED', `${options.registry} asked for a bearer token but named no realm to get it from.`, {
        hint: 'The registry broke the token protocol (distribution token.md); report it to its operator.',
      });
    }
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch {
      throw new MlcacheError('REGISTRY_UNSUPPORTED', `${options.registry} named a token realm that is not a URL.`, { hint: 'Report it to the registry operator.' });
    }
    if (realmUrl.protocol !== 'https:' && !(realmUrl.protocol === 'http:' && options.plainHttpAllowed(realmUrl.host))) {
      throw new MlcacheError('INSECURE_REGISTRY', `${options.registry} sends mlcache to a token service over plain HTTP (${realmUrl.host}); credentials would travel unencrypted.`, {
        hint: `Use the registry over HTTPS, or name ${realmUrl.host} in --insecure-registry if this is intended.`,
      });
    }
    const normalized = normalizeScopes(scopes);
    const service = challenge.params.service;
    const headers: Record<string, string> = { 'user-agent': options.userAgent, accept: 'application/json' };
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    if (credentials?.kind === 'identity-token') {
      // oauth.md: POST a form with grant_type=refresh_token.
      method = 'POST';
      const form = new URLSearchParams();
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', credentials.token);
      if (service !== undefined) form.set('service', service);
      if (normalized.length > 0) form.set('scope', normalized.join(' '));
      form.set('client_id', 'mlcache');
      body = form.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (service !== undefined) realmUrl.searchParams.set('service', service);
      // token.md: one `scope` parameter per scope.
      for (const scope of normalized) realmUrl.searchParams.append('scope', scope);
      const basic = basicHeader();
      if (basic !== undefined) headers.authorization = basic;
    }
    let reply;
    try {
      reply = await send(options.dispatcher, { method, url: realmUrl.toString(), headers, body, maxBody: MAX_TOKEN_RESPONSE_BYTES, signal: options.signal() });
    } catch (error) {
      if (options.signal()?.aborted) throw error;
      throw registryNetworkError(error, realmUrl.host);
    }
    if (reply.status === 401 || reply.status === 403) {
      const said = describeRegistryError(parseRegistryErrorBody(reply.body));
      throw authError(
        `The token service of ${options.registry} (${realmUrl.host}) refused ${credentials ? 'the credentials' : 'anonymous access'} for scope ${scopeText(scopes)} (${reply.status})${said}.`,
        loginHint(scopes),
      );
    }
    if (reply.status < 200 || reply.status >= 300) {
      throw new MlcacheError('REGISTRY_ERROR', redact(`The token service of ${options.registry} (${realmUrl.host}) answered ${reply.status}${describeRegistryError(parseRegistryErrorBody(reply.body))}.`), {
        hint: 'Retry later; if it persists, report it to the registry operator.',
      });
    }
    const parsed = reply.truncated ? undefined : parseTokenResponse(reply.body.toString('utf8'));
    if (parsed === undefined) {
      throw new MlcacheError('REGISTRY_UNSUPPORTED', `The token service of ${options.registry} (${realmUrl.host}) answered without a token.`, {
        hint: 'The registry broke the token protocol (distribution token.md); report it to its operator.',
      });
    }
    registerSecret(parsed.token);
    tokensFetched++;
    const lifetimeMs = parsed.expiresIn * 1000;
    return { value: parsed.token, expiresAt: now() + lifetimeMs, lifetimeMs };
  }

  /** A token for `scopes`: the cached one while fresh, else one fetch shared by every caller. */
  async function tokenFor(scopes: readonly string[], force: string | undefined): Promise<string> {
    const key = scopeKey(scopes);
    const cached = tokens.get(key);
    if (cached !== undefined && cached.value !== force && now() < cached.expiresAt - renewalMargin(cached.lifetimeMs)) return cached.value;
    let pending = inflight.get(key);
    if (pending === undefined) {
      pending = fetchToken(scopes).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    const fresh = await pending;
    tokens.set(key, fresh);
    return fresh.value;
  }

  function learn(wwwAuthenticate: string | string[] | undefined): void {
    const picked = pickChallenge(parseChallenges(wwwAuthenticate));
    if (picked !== undefined) challenge = picked;
  }

  return {
    get tokensFetched() {
      return tokensFetched;
    },
    learn,
    async authorization(scopes) {
      if (credentials?.kind === 'bearer') return `Bearer ${credentials.token}`;
      if (challenge === undefined) return undefined;
      if (challenge.scheme === 'basic') return basicHeader();
      if (challenge.scheme === 'bearer') return `Bearer ${await tokenFor(scopes, undefined)}`;
      return undefined;
    },
    async unauthorized(wwwAuthenticate, scopes, rejected, what) {
      const challenges = parseChallenges(wwwAuthenticate);
      const picked = pickChallenge(challenges);
      if (picked === undefined) {
        if (challenges.length > 0) {
          throw new MlcacheError('REGISTRY_UNSUPPORTED', `${options.registry} asks for ${challenges[0]!.scheme} authentication, which mlcache does not support.`, {
            hint: 'mlcache speaks Basic and Bearer (token) authentication, as docker and podman do.',
          });
        }
        throw authError(`${options.registry} refused ${what}: not authorized for scope ${scopeText(scopes)}.`, loginHint(scopes));
      }
      challenge = picked;
      if (credentials?.kind === 'bearer') {
        throw authError(`${options.registry} refused the registry token for ${what} (scope ${scopeText(scopes)}).`, 'The token may have expired or lack this scope: pass a new --registry-token.');
      }
      if (picked.scheme === 'basic') {
        const basic = basicHeader();
        if (basic === undefined) {
          throw authError(
            credentials?.kind === 'identity-token'
              ? `${options.registry} asks for a user name and password for ${what}, but only an identity token is stored for it.`
              : `${options.registry} needs credentials for ${what} (scope ${scopeText(scopes)}) and none were found.`,
            loginHint(scopes),
          );
        }
        if (rejected === basic) throw authError(`${options.registry} refused the credentials for ${what} (scope ${scopeText(scopes)}).`, loginHint(scopes));
        return basic;
      }
      // Bearer: the scope the registry names in the challenge joins the ones we asked for.
      const wanted = picked.params.scope !== undefined ? normalizeScopes([...scopes, ...picked.params.scope.split(' ').filter((s) => s.length > 0)]) : normalizeScopes(scopes);
      const rejectedToken = rejected?.startsWith('Bearer ') ? rejected.slice('Bearer '.length) : undefined;
      if (rejectedToken !== undefined && tokens.get(scopeKey(wanted))?.value !== rejectedToken && tokens.get(scopeKey(scopes))?.value !== rejectedToken) {
        // Another caller already replaced the token that was refused: use the new one.
        return `Bearer ${await tokenFor(wanted, undefined)}`;
      }
      const token = await tokenFor(wanted, rejectedToken);
      if (token === rejectedToken) throw authError(`${options.registry} refused ${what}: not authorized for scope ${scopeText(wanted)}.`, loginHint(wanted));
      if (scopeKey(wanted) !== scopeKey(scopes)) tokens.set(scopeKey(scopes), tokens.get(scopeKey(wanted))!);
      return `Bearer ${token}`;
    },
  };
}

/** The challenge's header value, for callers that hold a reply. */
export function wwwAuthenticateOf(headers: Record<string, string | string[] | undefined>): string | string[] | undefined {
  return headers['www-authenticate'] ?? firstHeaderValue(headers, 'www-authenticate');
}
