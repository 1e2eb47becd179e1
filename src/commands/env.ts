/**
 * `mlcache env`: the cache environment of the project whose config/hardware_cache.json is found
 * (from --root, or walking up from the working directory), rendered for a shell, a dotenv file,
 * JSON, GitHub Actions ($GITHUB_ENV) or a docker compose service.
 */
import fs from 'node:fs/promises';
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

/** The cache variables of a project, absolute. Shared by `env` and `run`. */
export async function projectEnvironment(options: { settings: Settings; root?: string | undefined; offline?: boolean | undefined }) {
  const located = await locateHardwareCache({ root: options.root, cwd: options.settings.cwd });
  const dirs = cacheDirectories(located.data.cache, { root: located.root, env: options.settings.env, home: options.settings.home });
  return { located, dirs, variables: cacheVariables(dirs, { offline: options.offline }) };
}

export async function env(options: EnvOptions): Promise<EnvResult> {
  const format = options.format ?? 'sh';
  const { located, dirs, variables } = await projectEnvironment(options);
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
