/**
 * Registry credentials from the files `docker login` and `podman login` write: docker's
 * `config.json` and containers' `auth.json` (containers/image docs/containers-auth.json.5.md).
 * Both hold `{"auths": {"<key>": {"auth": base64("user:password")}}}`, optionally with
 * `identitytoken` (an OAuth2 refresh token, docker/cli cli/config/types/authconfig.go) or
 * `registrytoken` (a bearer token sent as is). Keys may be written `host`, `host:port`,
 * `https://host/v1/`, or (containers) `host/namespace/repo`, matched most specific first.
 *
 * Credential helpers (`credHelpers`, `credsStore`) are NOT run: mlcache executes no programs named
 * by a config file. Their entries are ignored (docs/registry.md says so). The file order comes from
 * `Settings.registry.authFiles`; the first file holding an entry for the registry wins.
 */
import { readFile } from 'node:fs/promises';
import { MlcacheError } from '../errors.js';
import { registerSecret } from '../util/redact.js';
import type { RegistryCredentials } from './types.js';

const MAX_AUTH_FILE_BYTES = 4 * 1024 * 1024;

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
  registrytoken?: unknown;
}

/**
 * The `host[:port][/path]` a key of `auths` stands for: scheme and a trailing `/v1/` or `/v2/`
 * dropped (docker writes `https://index.docker.io/v1/`), host lower-cased. Pure.
 */
export function normalizeAuthKey(key: string): string {
  let k = key.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(k);
  if (scheme) k = k.slice(scheme[0].length);
  k = k.replace(/\/+$/, '').replace(/\/v[12]$/, '');
  const slash = k.indexOf('/');
  const host = (slash < 0 ? k : k.slice(0, slash)).toLowerCase();
  const rest = slash < 0 ? '' : k.slice(slash);
  return host + rest;
}

/** Docker Hub's registry is written three ways; all mean the same credentials. */
function hostAliases(registry: string): string[] {
  const host = registry.toLowerCase();
  if (host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io') return ['docker.io', 'index.docker.io', 'registry-1.docker.io'];
  return [host];
}

/**
 * The lookup keys for a registry (and optionally a repository), most specific first:
 * `host/a/b/c`, `host/a/b`, `host/a`, `host` (containers-auth.json(5)). Pure.
 */
export function authLookupKeys(registry: string, repository?: string): string[] {
  const keys: string[] = [];
  for (const host of hostAliases(registry)) {
    const parts = repository ? repository.split('/') : [];
    for (let i = parts.length; i > 0; i--) keys.push(`${host}/${parts.slice(0, i).join('/')}`);
    keys.push(host);
  }
  return keys;
}

/** An `auths` entry as credentials, or undefined when it holds none mlcache can use. Pure. */
export function credentialsFromEntry(entry: AuthEntry): RegistryCredentials | undefined {
  if (typeof entry.registrytoken === 'string' && entry.registrytoken.length > 0) return { kind: 'bearer', token: entry.registrytoken };
  if (typeof entry.identitytoken === 'string' && entry.identitytoken.length > 0) return { kind: 'identity-token', token: entry.identitytoken };
  if (typeof entry.auth === 'string' && entry.auth.length > 0) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    return undefined;
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username.length > 0) {
    return { kind: 'basic', username: entry.username, password: entry.password };
  }
  return undefined;
}

/** Find credentials for `registry` in one parsed config/auth file. Pure. */
export function findCredentials(config: unknown, registry: string, repository?: string): RegistryCredentials | undefined {
  if (config === null || typeof config !== 'object') return undefined;
  const auths = (config as { auths?: unknown }).auths;
  if (auths === null || typeof auths !== 'object') return undefined;
  const byKey = new Map<string, AuthEntry>();
  for (const [key, value] of Object.entries(auths as Record<string, unknown>)) {
    if (value !== null && typeof value === 'object') {
      const normalized = normalizeAuthKey(key);
      // An exact key wins over a normalized duplicate written later (`host` vs `https://host`).
      if (!byKey.has(normalized) || key === normalized) byKey.set(normalized, value);
    }
  }
  for (const key of authLookupKeys(registry, repository)) {
    const entry = byKey.get(key);
    if (entry === undefined) continue;
    const credentials = credentialsFromEntry(entry);
    if (credentials !== undefined) return credentials;
  }
  return undefined;
}

export interface ReadRegistryCredentialsOptions {
  /** `host[:port]`. */
  registry: string;
  repository?: string | undefined;
  /** `Settings.registry.authFiles`, in order. */
  authFiles: readonly string[];
}

/**
 * Credentials for a registry from the first auth file that has an entry for it. A missing file is
 * skipped; an unreadable or malformed one is a CONFIG_INVALID error naming the file (never its
 * content). The password or token found is registered for redaction.
 */
export async function readRegistryCredentials(options: ReadRegistryCredentialsOptions): Promise<RegistryCredentials | undefined> {
  for (const file of options.authFiles) {
    let text: string;
    try {
      const bytes = await readFile(file);
      if (bytes.length > MAX_AUTH_FILE_BYTES) throw new MlcacheError('CONFIG_INVALID', `The registry credentials file ${file} is larger than 4 MiB.`, { hint: 'Check the file.' });
      text = bytes.toString('utf8');
    } catch (error) {
      if (error instanceof MlcacheError) throw error;
      const code = (error as { code?: unknown }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new MlcacheError('CONFIG_INVALID', `The registry credentials file ${file} cannot be read (${typeof code === 'string' ? code : 'error'}).`, {
        hint: 'Check its permissions, or point REGISTRY_AUTH_FILE / DOCKER_CONFIG elsewhere.',
        cause: error,
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      // The JSON error message may quote the file's content (a password): never pass it on.
      void error;
      throw new MlcacheError('CONFIG_INVALID', `The registry credentials file ${file} is not valid JSON.`, {
        hint: 'Fix the file, or log in again (docker login / podman login) to rewrite it.',
      });
    }
    const credentials = findCredentials(parsed, options.registry, options.repository);
    if (credentials !== undefined) {
      registerCredentials(credentials);
      return credentials;
    }
  }
  return undefined;
}

/** Register every secret in `credentials` with the redactor. */
export function registerCredentials(credentials: RegistryCredentials | undefined): void {
  if (credentials === undefined) return;
  if (credentials.kind === 'basic') {
    registerSecret(credentials.password);
    registerSecret(Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64'));
  } else registerSecret(credentials.token);
}
