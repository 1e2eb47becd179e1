/**
 * The secrets a run knows from its settings, so the CLI's output door (src/cli/output.ts) can mask
 * them wherever they appear — named here explicitly instead of being collected as a side effect of
 * creating a client:
 * - the Hub token: --token, HF_TOKEN, HUGGING_FACE_HUB_TOKEN and the token file (all of them, not
 *   only the one in use: huggingface_hub's utils/_auth.py::get_token order decides which is sent,
 *   but any of them on screen is a leak);
 * - the registry token: --registry-token and MLCACHE_REGISTRY_TOKEN;
 * - proxy passwords from HTTPS_PROXY / HTTP_PROXY / ALL_PROXY (either case), raw and percent-decoded,
 *   and the `Proxy-Authorization: Basic` value undici builds from them.
 * Credentials read from a container auth file, and a registry token service's tokens, exist only
 * once a command has fetched them: src/util/redact.ts::registerSecret covers those.
 */
import { readFileSync } from 'node:fs';
import type { Settings } from './settings.js';

export interface SecretFlags {
  /** --token */
  token?: string | undefined;
  /** --registry-token */
  registryToken?: string | undefined;
}

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'];

/** Every secret `settings` and the command's flags name (unfiltered; the door ignores too-short values). */
export function knownSecrets(settings: Pick<Settings, 'env' | 'tokenPath' | 'registry'>, flags: SecretFlags = {}): string[] {
  const env = settings.env;
  const secrets = [flags.token, env.HF_TOKEN, env.HUGGING_FACE_HUB_TOKEN, tokenFile(settings.tokenPath), flags.registryToken, settings.registry.token];
  for (const name of PROXY_VARIABLES) secrets.push(...proxySecrets(env[name]));
  return secrets.filter((s): s is string => s !== undefined && s !== '');
}

/** The token file's content without the trailing newline `echo hf_… > token` writes (config/token.ts). */
function tokenFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch {
    return undefined; // no token file: the normal case for public repos
  }
}

/** The password of a proxy URL, raw and decoded, and the Basic credentials built from it. */
export function proxySecrets(url: string | undefined): string[] {
  if (url === undefined || url === '') return [];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return []; // not a URL: undici refuses it when the agent is built
  }
  if (parsed.password === '') return [];
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const password = decode(parsed.password);
  return [parsed.password, password, Buffer.from(`${decode(parsed.username)}:${password}`).toString('base64')];
}
