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
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findProjectRoot, type ProjectRoot } from '../util/project-root.js';
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

const TRUE_VALUES = new Set(['1', 'on', 'yes', 'true']);

/** huggingface_hub's `_is_true`: 1/ON/YES/TRUE, case-insensitive. */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && TRUE_VALUES.has(value.trim().toLowerCase());
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Python's os.path.expanduser for `~` and `~/…` (not `~user`). */
export function expandUser(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/') || p.startsWith('~\\')) return path.join(home, p.slice(2));
  return p;
}

/** Python's os.path.expandvars: `$VAR` and `${VAR}`; unknown variables are left as written. */
export function expandVars(p: string, env: Env): string {
  return p.replace(/\$(\w+|\{[^}]*\})/g, (whole, name: string) => {
    const key = name.startsWith('{') ? name.slice(1, -1) : name;
    const value = env[key];
    return value === undefined ? whole : value;
  });
}

/** expanduser then expandvars, as huggingface_hub's constants.py does; the result is absolute. */
export function expandPath(p: string, env: Env, home: string, cwd: string): string {
  return path.resolve(cwd, expandVars(expandUser(p, home), env));
}

export function resolveHome(env: Env): string {
  return nonEmpty(env.HOME) ?? nonEmpty(env.USERPROFILE) ?? os.homedir();
}

export interface HubCacheLocation {
  hfHome: string;
  hubCache: string;
  source: HubCacheSource;
}

/** The project's cache folders, as `resolveHubCache` and `resolveTorchHome` take them. */
export interface ProjectCacheFolders {
  hfHome?: string | undefined;
  torchHome?: string | undefined;
}

/**
 * The hub cache directory: --cache-dir, then huggingface_hub's explicit variables (HF_HUB_CACHE,
 * HUGGINGFACE_HUB_CACHE, HF_HOME), then the project's hf_home, then huggingface_hub's defaults
 * ($XDG_CACHE_HOME/huggingface, ~/.cache/huggingface). Without a project this is exactly
 * huggingface_hub's constants.py. Pure.
 */
export function resolveHubCache(
  env: Env,
  options: { cacheDir?: string | undefined; cwd: string; home: string; project?: ProjectCacheFolders | undefined },
): HubCacheLocation {
  const { cwd, home } = options;
  const expand = (p: string) => expandPath(p, env, home, cwd);
  const xdg = nonEmpty(env.XDG_CACHE_HOME);
  const hfHomeVar = nonEmpty(env.HF_HOME);
  const projectHfHome = options.project?.hfHome;
  const hfHome = hfHomeVar !== undefined ? expand(hfHomeVar) : (projectHfHome ?? expand(path.join(xdg ?? path.join(home, '.cache'), 'huggingface')));
  if (options.cacheDir !== undefined) return { hfHome, hubCache: expand(options.cacheDir), source: '--cache-dir' };
  const hubCacheVar = nonEmpty(env.HF_HUB_CACHE);
  if (hubCacheVar !== undefined) return { hfHome, hubCache: expand(hubCacheVar), source: 'HF_HUB_CACHE' };
  const legacy = nonEmpty(env.HUGGINGFACE_HUB_CACHE);
  if (legacy !== undefined) return { hfHome, hubCache: expand(legacy), source: 'HUGGINGFACE_HUB_CACHE' };
  const source: HubCacheSource =
    hfHomeVar !== undefined ? 'HF_HOME' : projectHfHome !== undefined ? 'project' : xdg !== undefined ? 'XDG_CACHE_HOME' : 'default';
  return { hfHome, hubCache: path.join(hfHome, 'hub'), source };
}

/**
 * torch.hub's `_get_torch_home` with the project in between: --torch-home, $TORCH_HOME, the
 * project's torch_home, $XDG_CACHE_HOME/torch, ~/.cache/torch.
 */
export function resolveTorchHome(
  env: Env,
  options: { torchHome?: string | undefined; cwd: string; home: string; project?: ProjectCacheFolders | undefined },
): { torchHome: string; source: TorchHomeSource } {
  const expand = (p: string) => expandPath(p, env, options.home, options.cwd);
  if (options.torchHome !== undefined) return { torchHome: expand(options.torchHome), source: '--torch-home' };
  const torchVar = nonEmpty(env.TORCH_HOME);
  if (torchVar !== undefined) return { torchHome: expand(torchVar), source: 'TORCH_HOME' };
  if (options.project?.torchHome !== undefined) return { torchHome: options.project.torchHome, source: 'project' };
  const xdg = nonEmpty(env.XDG_CACHE_HOME);
  return { torchHome: expand(path.join(xdg ?? path.join(options.home, '.cache'), 'torch')), source: xdg !== undefined ? 'XDG_CACHE_HOME' : 'default' };
}

/**
 * The cache block of the project's config/hardware_cache.json, read leniently: paths relative to
 * the project root, `~` and `$VAR` expanded (as env/cache-variables.ts does for `mlcache env`). A
 * missing or unreadable file, or one without a cache block, gives no folders — `bootstrap` and
 * `doctor` are the commands that report a malformed file.
 */
export function readProjectSettings(project: ProjectRoot, env: Env, home: string): ProjectSettings {
  let cache: Record<string, unknown> | undefined;
  if (project.hardwareCacheFile !== undefined) {
    try {
      const data = JSON.parse(readFileSync(project.hardwareCacheFile, 'utf8')) as { cache?: unknown };
      if (data.cache !== null && typeof data.cache === 'object') cache = data.cache as Record<string, unknown>;
    } catch {
      cache = undefined;
    }
  }
  const folder = (key: string): string | undefined => {
    const value = cache?.[key];
    return typeof value === 'string' && value !== '' ? expandPath(value, env, home, project.root) : undefined;
  };
  const hfHome = folder('hf_home');
  return {
    root: project.root,
    hardwareCacheFile: project.hardwareCacheFile,
    hfHome,
    hubCache: hfHome === undefined ? undefined : path.join(hfHome, 'hub'),
    torchHome: folder('torch_home'),
    mlxHome: folder('mlx_home'),
  };
}

/** The stderr note when an explicit variable sends the hub cache away from the project's. Pure. */
export function cacheConflictNotes(location: HubCacheLocation, project: ProjectSettings | undefined): string[] {
  if (project?.hubCache === undefined || path.resolve(project.hubCache) === path.resolve(location.hubCache)) return [];
  if (location.source !== 'HF_HUB_CACHE' && location.source !== 'HUGGINGFACE_HUB_CACHE' && location.source !== 'HF_HOME') return [];
  return [
    `using the hub cache ${location.hubCache} from ${location.source} (an explicit variable wins), not this project's ${project.hubCache}; unset ${location.source} or run \`eval "$(mlcache env)"\` to use the project's.`,
  ];
}

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
