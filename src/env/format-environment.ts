/**
 * Pure renderers of the cache variables for each consumer. Every value is quoted for its target
 * so paths with spaces, quotes or `$` survive: POSIX sh single quotes (a `'` becomes `'\''`),
 * fish single quotes (`\'` and `\\`), PowerShell single quotes (`''`), compose/dotenv single
 * quotes when possible (literal in docker compose and python-dotenv), GitHub's `name<<delimiter`
 * form for values with a newline (docs: "Multiline strings" in workflow-commands).
 */
import type { CacheDirectories, CacheVariables } from './cache-variables.js';

export const ENV_FORMATS = ['sh', 'fish', 'powershell', 'dotenv', 'json', 'github', 'compose'] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

export function quoteSh(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function quoteFish(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

export function quotePowerShell(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * docker compose env_file (compose-go dotenv) and python-dotenv: bare when plain, single-quoted
 * (no interpolation) when possible, else double-quoted with escapes; `$` is doubled there so
 * compose does not interpolate it.
 */
export function quoteDotenv(value: string): string {
  if (/^[\w/.:@%+,=-]*$/.test(value)) return value;
  if (!value.includes("'") && !value.includes('\n')) return `'${value}'`;
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\$/g, '$$$$')}"`;
}

/** YAML double-quoted scalar (JSON strings are valid YAML); `$` doubled against compose interpolation. */
function yamlComposeString(value: string): string {
  return JSON.stringify(value).replace(/\$/g, '$$$$');
}

export interface FormatEnvironmentOptions {
  /** For `compose`: the cache directories on the host, mounted into the container. */
  dirs?: CacheDirectories;
  /** For `compose`: where the caches live inside the container. @default '/cache' */
  containerBase?: string;
  /** For `compose`: the service name. @default 'app' */
  service?: string;
  /** For `github` values with newlines. */
  delimiter?: string;
}

export function formatEnvironment(vars: CacheVariables, format: EnvFormat, options: FormatEnvironmentOptions = {}): string {
  const entries = Object.entries(vars);
  switch (format) {
    case 'sh':
      return entries.map(([k, v]) => `export ${k}=${quoteSh(v)}\n`).join('');
    case 'fish':
      return entries.map(([k, v]) => `set -gx ${k} ${quoteFish(v)};\n`).join('');
    case 'powershell':
      return entries.map(([k, v]) => `$env:${k} = ${quotePowerShell(v)}\n`).join('');
    case 'dotenv':
      return entries.map(([k, v]) => `${k}=${quoteDotenv(v)}\n`).join('');
    case 'json':
      return `${JSON.stringify(vars, null, 2)}\n`;
    case 'github': {
      const delimiter = options.delimiter ?? 'MLCACHE_EOF';
      return entries.map(([k, v]) => (v.includes('\n') ? `${k}<<${delimiter}\n${v}\n${delimiter}\n` : `${k}=${v}\n`)).join('');
    }
    case 'compose':
      return formatCompose(vars, options);
  }
}

/**
 * A compose override file (compose-spec "Merge": a second `-f` file whose service mapping is merged
 * into the first's): the caches bind-mounted at fixed container paths, the variables pointing
 * there, and the host user's ids so files written into the bind mounts belong to the host user
 * (seed 000). No image or build: the user's compose.yaml has them for the service named by
 * `--service`. Long volume syntax, because a host path may contain `:`.
 */
function formatCompose(vars: CacheVariables, options: FormatEnvironmentOptions): string {
  const base = (options.containerBase ?? '/cache').replace(/\/+$/, '');
  const service = options.service ?? 'app';
  const dirs = options.dirs;
  const mounts: Array<[string, string]> = dirs
    ? [
        [dirs.hfHome, `${base}/huggingface`],
        [dirs.torchHome, `${base}/torch`],
        [dirs.mlxHome, `${base}/mlx`],
      ]
    : [];
  const inContainer: Record<string, string> = { ...vars };
  if (dirs) {
    const map = (value: string) => {
      for (const [host, target] of mounts) {
        if (value === host || value.startsWith(`${host}/`)) return target + value.slice(host.length);
      }
      return value;
    };
    for (const [k, v] of Object.entries(inContainer)) inContainer[k] = map(v);
  }
  const lines = [
    `# A compose override: docker compose -f compose.yaml -f <this file> up (compose.yaml defines "${service}" with its image or build).`,
    '# Set UID and GID for compose (bash does not export UID): export UID GID=$(id -g)',
    'services:',
    `  ${service}:`,
    '    user: "${UID}:${GID}"',
    '    environment:',
    ...Object.entries(inContainer).map(([k, v]) => `      ${k}: ${yamlComposeString(v)}`),
  ];
  if (mounts.length > 0) {
    lines.push('    volumes:');
    for (const [source, target] of mounts) {
      lines.push('      - type: bind', `        source: ${yamlComposeString(source)}`, `        target: ${target}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
