/**
 * The only reader of `process.env`. Everything else receives a `Settings` object (or explicit
 * options), so library code and tests never depend on the ambient environment.
 *
 * Cache locations follow huggingface_hub's constants.py exactly:
 *   HF_HOME      = $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface
 *   HF_HUB_CACHE = $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub
 * each passed through expanduser then expandvars (`~`, `$VAR`, `${VAR}`). One deviation: a
 * variable set to the empty string counts as unset (Python would build a relative `hub` path).
 */
import path from 'node:path';
import { findProjectRoot } from '../util/project-root.js';
import { cacheConflictNotes, readProjectSettings, resolveHubCache, resolveTorchHome } from './cache-location.js';
import { expandPath, isTrue, nonEmpty, resolveHome } from './expand-path.js';
import { MlcacheError } from '../errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export type HubCacheSource =
  | '--cache-dir'
  | 'HF_HUB_CACHE'
  | 'HUGGINGFACE_HUB_CACHE'
  | 'HF_HOME'
  | 'project'
  | 'XDG_CACHE_HOME'
  | 'default';

export type TorchHomeSource = '--torch-home' | 'TORCH_HOME' | 'project' | 'XDG_CACHE_HOME' | 'default';

/**
 * The project found walking up from the working folder (util/project-root.ts) and the cache
 * folders its config/hardware_cache.json names (absolute; undefined when it has none).
 */
export interface ProjectSettings {
  readonly root: string;
  readonly hardwareCacheFile: string | undefined;
  readonly hfHome: string | undefined;
  readonly hubCache: string | undefined;
  readonly torchHome: string | undefined;
  readonly mlxHome: string | undefined;
}

export interface ProxySettings {
  http: string | undefined;
  https: string | undefined;
  noProxy: string | undefined;
}

/** OCI registry settings (docs/registry.md). */
export interface RegistrySettings {
  /** MLCACHE_REGISTRY: the default `oci://host[/prefix]` for registry-first cache-models. */
  readonly default: string | undefined;
  /** MLCACHE_REGISTRY_TOKEN: a bearer token sent to the registry as is. */
  readonly token: string | undefined;
  /** MLCACHE_INSECURE_REGISTRY: comma-separated hosts (`host[:port]`) that may be reached over plain HTTP. */
  readonly insecure: readonly string[];
  /**
   * Credential files, in the order they are read (containers-auth.json(5)): $REGISTRY_AUTH_FILE,
   * $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json, then docker's
   * $DOCKER_CONFIG/config.json (else ~/.docker/config.json).
   */
  readonly authFiles: readonly string[];
}

export interface Settings {
  /** The environment these settings were read from (passed on to child processes by `run`). */
  readonly env: Env;
  readonly cwd: string;
  readonly home: string;
  readonly hfHome: string;
  readonly hubCache: string;
  readonly hubCacheSource: HubCacheSource;
  readonly torchHome: string;
  readonly torchHomeSource: TorchHomeSource;
  /** The nearest project (config/hardware_cache.json or config/models.json), if any. */
  readonly project: ProjectSettings | undefined;
  /**
   * One sentence per cache folder where an explicit variable and the project disagree (the
   * variable wins); the CLI prints each once on stderr.
   */
  readonly cacheNotes: readonly string[];
  /** Hub endpoint without a trailing slash. */
  readonly endpoint: string;
  readonly endpointSource: '--endpoint' | 'HF_ENDPOINT' | 'default';
  /** Where huggingface_hub keeps the token: $HF_TOKEN_PATH, else $HF_HOME/token. */
  readonly tokenPath: string;
  /** HF_HUB_DISABLE_IMPLICIT_TOKEN: only send a token given explicitly with --token. */
  readonly disableImplicitToken: boolean;
  /** HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE. */
  readonly offline: boolean;
  /** HF_HUB_DISABLE_SYMLINKS: copy blobs into snapshots instead of linking. */
  readonly disableSymlinks: boolean;
  readonly proxy: ProxySettings;
  /** MLCACHE_CATALOG: a user catalog merged over the shipped one. */
  readonly catalogPath: string | undefined;
  /** MLCACHE_MODELS / PRELOAD_MODELS: comma lists of REPO[@REV]. */
  readonly presetModels: readonly string[];
  /** MLX_CACHE_DIR as set in the environment. */
  readonly mlxCacheDir: string | undefined;
  /** $GITHUB_ENV, for `mlcache env --format github`. */
  readonly githubEnv: string | undefined;
  /** Running under CI (CI=true and the like): never prompt. */
  readonly ci: boolean;
  /** NO_COLOR set, or TERM=dumb. */
  readonly noColor: boolean;
  readonly registry: RegistrySettings;
}

export interface LoadSettingsOptions {
  /** Defaults to `process.env`. */
  env?: Env;
  cwd?: string;
  /** --cache-dir: overrides every variable. */
  cacheDir?: string | undefined;
  /** --endpoint */
  endpoint?: string | undefined;
  /** --torch-home */
  torchHome?: string | undefined;
  /**
   * Look for the project (walking up from `cwd`) and use its cache folders below the explicit
   * variables. @default true
   */
  project?: boolean;
  /** Skip this folder when looking for the project (tests). @default mlcache's package folder */
  ownRoot?: string | undefined;
}

export { expandPath, expandUser, expandVars, isTrue, resolveHome } from './expand-path.js';
export { cacheConflictNotes, readProjectSettings, resolveHubCache, resolveTorchHome, type HubCacheLocation, type ProjectCacheFolders } from './cache-location.js';

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Where registry credentials are read from, in order. containers-auth.json(5) (containers/image
 * docs): the primary file ($REGISTRY_AUTH_FILE as the explicit override, else
 * $XDG_RUNTIME_DIR/containers/auth.json), then ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json,
 * then docker's config.json ($DOCKER_CONFIG/config.json, else ~/.docker/config.json). Pure.
 */
export function resolveRegistryAuthFiles(env: Env, home: string, cwd: string): string[] {
  const files: string[] = [];
  const authFile = nonEmpty(env.REGISTRY_AUTH_FILE);
  const runtimeDir = nonEmpty(env.XDG_RUNTIME_DIR);
  if (authFile !== undefined) files.push(expandPath(authFile, env, home, cwd));
  else if (runtimeDir !== undefined) files.push(path.join(runtimeDir, 'containers', 'auth.json'));
  files.push(path.join(nonEmpty(env.XDG_CONFIG_HOME) ?? path.join(home, '.config'), 'containers', 'auth.json'));
  const dockerConfig = nonEmpty(env.DOCKER_CONFIG);
  files.push(dockerConfig !== undefined ? path.join(expandPath(dockerConfig, env, home, cwd), 'config.json') : path.join(home, '.docker', 'config.json'));
  return files;
}

/**
 * The Hub endpoint as an http(s) URL without a trailing slash. Anything else (`ftp://…`, a bare host
 * name) is a usage error at once, not five network retries of a request undici cannot make.
 */
function checkedEndpoint(raw: string, source: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new MlcacheError('USAGE', `The Hub endpoint from ${source} is not an http(s) URL: ${raw}`, {
      hint: 'Give the Hub or mirror as a full URL, e.g. --endpoint https://huggingface.co or HF_ENDPOINT=http://mirror.internal:8080.',
    });
  }
  return raw.replace(/\/+$/, '');
}

export function loadSettings(options: LoadSettingsOptions = {}): Settings {
  const env: Env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const home = resolveHome(env);
  const found = options.project === false ? undefined : findProjectRoot(cwd, { ownRoot: options.ownRoot });
  const project = found === undefined ? undefined : readProjectSettings(found, env, home);
  const location = resolveHubCache(env, { cacheDir: options.cacheDir, cwd, home, project });
  const torch = resolveTorchHome(env, { torchHome: options.torchHome, cwd, home, project });
  // The token is the user's, not the project's: without HF_HOME it stays where `hf auth login`
  // put it ($XDG_CACHE_HOME/huggingface/token or ~/.cache/huggingface/token), project or not.
  const userHfHome = resolveHubCache(env, { cwd, home }).hfHome;
  const endpointVar = nonEmpty(env.HF_ENDPOINT);
  const endpointRaw = options.endpoint ?? endpointVar ?? DEFAULT_ENDPOINT;
  const tokenPathVar = nonEmpty(env.HF_TOKEN_PATH);
  return {
    env,
    cwd,
    home,
    hfHome: location.hfHome,
    hubCache: location.hubCache,
    hubCacheSource: location.source,
    torchHome: torch.torchHome,
    torchHomeSource: torch.source,
    project,
    cacheNotes: cacheConflictNotes(location, project),
    endpoint: checkedEndpoint(endpointRaw, options.endpoint !== undefined ? '--endpoint' : 'HF_ENDPOINT'),
    endpointSource: options.endpoint !== undefined ? '--endpoint' : endpointVar !== undefined ? 'HF_ENDPOINT' : 'default',
    tokenPath: tokenPathVar !== undefined ? expandPath(tokenPathVar, env, home, cwd) : path.join(userHfHome, 'token'),
    disableImplicitToken: isTrue(env.HF_HUB_DISABLE_IMPLICIT_TOKEN),
    // huggingface_hub: `_is_true(HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE)`.
    offline: isTrue(nonEmpty(env.HF_HUB_OFFLINE) ?? env.TRANSFORMERS_OFFLINE),
    disableSymlinks: isTrue(env.HF_HUB_DISABLE_SYMLINKS),
    proxy: {
      http: nonEmpty(env.HTTP_PROXY) ?? nonEmpty(env.http_proxy),
      https: nonEmpty(env.HTTPS_PROXY) ?? nonEmpty(env.https_proxy),
      noProxy: nonEmpty(env.NO_PROXY) ?? nonEmpty(env.no_proxy),
    },
    catalogPath: nonEmpty(env.MLCACHE_CATALOG),
    presetModels: [...splitList(env.MLCACHE_MODELS), ...splitList(env.PRELOAD_MODELS)],
    mlxCacheDir: nonEmpty(env.MLX_CACHE_DIR),
    githubEnv: nonEmpty(env.GITHUB_ENV),
    ci: isTrue(env.CI) || nonEmpty(env.GITHUB_ACTIONS) !== undefined,
    noColor: nonEmpty(env.NO_COLOR) !== undefined || env.TERM === 'dumb',
    registry: {
      default: nonEmpty(env.MLCACHE_REGISTRY),
      token: nonEmpty(env.MLCACHE_REGISTRY_TOKEN),
      insecure: splitList(env.MLCACHE_INSECURE_REGISTRY).map((h) => h.toLowerCase()),
      authFiles: resolveRegistryAuthFiles(env, home, cwd),
    },
  };
}
