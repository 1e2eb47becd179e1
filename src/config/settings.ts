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
import os from 'node:os';
import path from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export type HubCacheSource =
  | '--cache-dir'
  | 'HF_HUB_CACHE'
  | 'HUGGINGFACE_HUB_CACHE'
  | 'HF_HOME'
  | 'XDG_CACHE_HOME'
  | 'default';

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

/** The hub cache directory, with the same precedence as huggingface_hub. Pure. */
export function resolveHubCache(env: Env, options: { cacheDir?: string | undefined; cwd: string; home: string }): HubCacheLocation {
  const { cwd, home } = options;
  const expand = (p: string) => expandPath(p, env, home, cwd);
  const xdg = nonEmpty(env.XDG_CACHE_HOME);
  const hfHomeVar = nonEmpty(env.HF_HOME);
  const hfHome = expand(hfHomeVar ?? path.join(xdg ?? path.join(home, '.cache'), 'huggingface'));
  if (options.cacheDir !== undefined) return { hfHome, hubCache: expand(options.cacheDir), source: '--cache-dir' };
  const hubCacheVar = nonEmpty(env.HF_HUB_CACHE);
  if (hubCacheVar !== undefined) return { hfHome, hubCache: expand(hubCacheVar), source: 'HF_HUB_CACHE' };
  const legacy = nonEmpty(env.HUGGINGFACE_HUB_CACHE);
  if (legacy !== undefined) return { hfHome, hubCache: expand(legacy), source: 'HUGGINGFACE_HUB_CACHE' };
  const source: HubCacheSource = hfHomeVar !== undefined ? 'HF_HOME' : xdg !== undefined ? 'XDG_CACHE_HOME' : 'default';
  return { hfHome, hubCache: path.join(hfHome, 'hub'), source };
}

/** torch.hub's `_get_torch_home`: $TORCH_HOME, else $XDG_CACHE_HOME/torch, else ~/.cache/torch. */
export function resolveTorchHome(env: Env, options: { torchHome?: string | undefined; cwd: string; home: string }): string {
  const chosen =
    options.torchHome ?? nonEmpty(env.TORCH_HOME) ?? path.join(nonEmpty(env.XDG_CACHE_HOME) ?? path.join(options.home, '.cache'), 'torch');
  return expandPath(chosen, env, options.home, options.cwd);
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

export function loadSettings(options: LoadSettingsOptions = {}): Settings {
  const env: Env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const home = resolveHome(env);
  const location = resolveHubCache(env, { cacheDir: options.cacheDir, cwd, home });
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
    torchHome: resolveTorchHome(env, { torchHome: options.torchHome, cwd, home }),
    endpoint: endpointRaw.replace(/\/+$/, ''),
    endpointSource: options.endpoint !== undefined ? '--endpoint' : endpointVar !== undefined ? 'HF_ENDPOINT' : 'default',
    tokenPath: tokenPathVar !== undefined ? expandPath(tokenPathVar, env, home, cwd) : path.join(location.hfHome, 'token'),
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
