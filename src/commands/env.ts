/**
 * `mlcache env`: the cache environment of the project whose config/hardware_cache.json is found
 * (from --root, or walking up from the working directory), rendered for a shell, a dotenv file,
 * JSON, GitHub Actions ($GITHUB_ENV) or a docker compose service.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Settings } from '../config/settings.js';
import { cacheDirectories, cacheVariables, type CacheVariables } from '../env/cache-variables.js';
import { formatEnvironment, type EnvFormat } from '../env/format-environment.js';
import { locateHardwareCache } from '../config/hardware-cache.js';
import { MlcacheError } from '../errors.js';

export interface EnvOptions {
  settings: Settings;
  /** Project root holding config/hardware_cache.json. @default found by walking up from settings.cwd */
  root?: string | undefined;
  /** @default 'sh' */
  format?: EnvFormat | undefined;
  /** Add HF_HUB_OFFLINE=1 and TRANSFORMERS_OFFLINE=1. */
  offline?: boolean | undefined;
  /** For `compose`: the service of the user's compose.yaml this override extends. @default 'app' */
  service?: string | undefined;
}

export interface EnvResult {
  root: string;
  configFile: string;
  format: EnvFormat;
  variables: CacheVariables;
  /** The rendered text (for `github`: what was appended). */
  output: string;
  /** For `github`: the file appended to. */
  githubEnvFile: string | undefined;
}

/**
 * The user's token file when the project's HF_HOME would hide it: huggingface_hub reads
 * `$HF_HOME/token` unless HF_TOKEN_PATH says otherwise (constants.py `HF_TOKEN_PATH`), so once
 * HF_HOME points into the project, the token `hf auth login` saved is no longer found. Not when a
 * token variable is set (it wins anyway) or the file does not exist.
 */
async function hiddenUserToken(settings: Settings, hfHome: string): Promise<string | undefined> {
  if (settings.env.HF_TOKEN || settings.env.HUGGING_FACE_HUB_TOKEN) return undefined;
  if (path.resolve(settings.tokenPath) === path.join(hfHome, 'token')) return undefined;
  const found = await fs.stat(settings.tokenPath).catch(() => undefined);
  return found?.isFile() ? settings.tokenPath : undefined;
}

/**
 * The cache variables of a project, absolute. Shared by `env` and `run`. On this machine (not for
 * a container: `userToken: false`) they also keep the user's Hub token reachable (HF_TOKEN_PATH).
 */
export async function projectEnvironment(options: { settings: Settings; root?: string | undefined; offline?: boolean | undefined; userToken?: boolean | undefined }) {
  const located = await locateHardwareCache({ root: options.root, cwd: options.settings.cwd });
  const dirs = cacheDirectories(located.data.cache, { root: located.root, env: options.settings.env, home: options.settings.home });
  const variables = cacheVariables(dirs, { offline: options.offline });
  const token = options.userToken === false ? undefined : await hiddenUserToken(options.settings, dirs.hfHome);
  if (token !== undefined) variables.HF_TOKEN_PATH = token;
  return { located, dirs, variables };
}

export async function env(options: EnvOptions): Promise<EnvResult> {
  const format = options.format ?? 'sh';
  // A compose service runs in a container, where this machine's token file does not exist.
  const { located, dirs, variables } = await projectEnvironment({ ...options, userToken: format !== 'compose' });
  if (options.service !== undefined && !/^[a-zA-Z0-9._-]+$/.test(options.service)) {
    // compose-spec: service names match ^[a-zA-Z0-9._-]+$.
    throw new MlcacheError('USAGE', `"${options.service}" is not a valid compose service name.`, { hint: 'Use letters, digits, ".", "_" and "-", as in your compose.yaml.' });
  }
  const output = formatEnvironment(variables, format, { dirs, service: options.service });
  let githubEnvFile: string | undefined;
  if (format === 'github') {
    githubEnvFile = options.settings.githubEnv;
    if (githubEnvFile === undefined) {
      throw new MlcacheError('USAGE', '--format github appends to $GITHUB_ENV, which is not set.', {
        hint: 'Use it inside a GitHub Actions step, or use --format sh / dotenv elsewhere.',
      });
    }
    try {
      await fs.appendFile(githubEnvFile, output);
    } catch (error) {
      throw new MlcacheError('FILESYSTEM', `Cannot append to $GITHUB_ENV (${githubEnvFile}).`, { cause: error, hint: 'Check that the file is writable.' });
    }
  }
  return { root: located.root, configFile: located.file, format, variables, output, githubEnvFile };
}
