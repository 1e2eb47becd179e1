/**
 * `mlcache doctor` as data: facts gathered by gather-doctor-facts.ts go in, one verdict per line
 * (ok / warn / fail + the fix) comes out. Pure, so every rule has a table test.
 */
import path from 'node:path';
import type { ProxySettings } from '../config/settings.js';
import { redactUrl } from '../util/redact.js';

export type DoctorStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  id: string;
  status: DoctorStatus;
  message: string;
  /** What to do; absent when ok. */
  fix?: string | undefined;
}

export interface DirFact {
  label: string;
  path: string;
  /** undefined: not checked. */
  writable: boolean;
  exists: boolean;
  error?: string | undefined;
  /** The path (or an ancestor) is a file or another non-directory. */
  notADirectory?: boolean | undefined;
  /** Free bytes on its volume, when known. */
  freeBytes?: number | undefined;
}

export interface HardwareCacheFact {
  file: string;
  /** Absolute paths from its `cache` block (relative ones resolved against the project root). */
  hfHome?: string | undefined;
  torchHome?: string | undefined;
}

export interface DoctorFacts {
  nodeVersion: string;
  dirs: DirFact[];
  symlinks: boolean | undefined;
  endpoint: { url: string; reachable: boolean; status?: number | undefined; error?: string | undefined; skipped?: string | undefined };
  token: {
    present: boolean;
    source?: string | undefined;
    /** whoami answered: the account name. */
    name?: string | undefined;
    /** whoami said the token is invalid. */
    invalid?: boolean | undefined;
    /** whoami could not be reached. */
    error?: string | undefined;
    /** The token found is not a usable token (whitespace, line break, non-ASCII): the refusal, naming its source. */
    malformed?: string | undefined;
  };
  proxy: ProxySettings;
  offline: boolean;
  hubCache: string;
  hfHome: string;
  torchHome: string;
  /** The few environment variables the conflict rules read. */
  env: {
    TRANSFORMERS_CACHE?: string | undefined;
    HF_HOME?: string | undefined;
    HF_HUB_CACHE?: string | undefined;
    TORCH_HOME?: string | undefined;
    HF_HUB_OFFLINE?: string | undefined;
    TRANSFORMERS_OFFLINE?: string | undefined;
  };
  hardwareCache?: HardwareCacheFact | undefined;
}

export const MIN_NODE: readonly [number, number] = [20, 19];
/** Below this much free space a model download is likely to fail. */
export const FREE_SPACE_WARN = 10 * 1000 ** 3;
export const FREE_SPACE_FAIL = 1000 ** 3;

/** "v20.19.1" / "20.19.1" → [20, 19]; undefined when unparseable. */
export function parseNodeVersion(version: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function gb(bytes: number): string {
  return `${(bytes / 1000 ** 3).toFixed(1)} GB`;
}

function samePath(a: string, b: string): boolean {
  return path.resolve(a).replace(/[\\/]+$/, '') === path.resolve(b).replace(/[\\/]+$/, '');
}

export function evaluateDoctor(facts: DoctorFacts): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const add = (id: string, status: DoctorStatus, message: string, fix?: string) => checks.push({ id, status, message, fix });

  const v = parseNodeVersion(facts.nodeVersion);
  if (v !== undefined && (v[0] > MIN_NODE[0] || (v[0] === MIN_NODE[0] && v[1] >= MIN_NODE[1]))) {
    add('node', 'ok', `Node ${facts.nodeVersion}`);
  } else {
    add('node', 'fail', `Node ${facts.nodeVersion} is too old; mlcache needs ${MIN_NODE.join('.')} or newer`, 'Install Node 20.19+ or 22 LTS (e.g. `nvm install 22`).');
  }

  for (const d of facts.dirs) {
    if (d.writable) add(`writable:${d.label}`, 'ok', `${d.label} is writable: ${d.path}`);
    else
      add(
        `writable:${d.label}`,
        'fail',
        `${d.label} is not writable: ${d.path}${d.error ? ` (${d.error})` : ''}`,
        d.notADirectory === true
          ? `Point mlcache at a folder instead (--cache-dir, HF_HUB_CACHE, TORCH_HOME), or move the file away.`
          : d.exists ? `Fix its permissions (e.g. \`sudo chown -R "$USER" ${d.path}\`) or point mlcache elsewhere.` : `Create it: \`mkdir -p ${d.path}\`, or point mlcache elsewhere.`,
      );
  }

  if (facts.symlinks === true) add('symlinks', 'ok', 'symlinks are supported in the hub cache');
  else if (facts.symlinks === false)
    add('symlinks', 'warn', 'symlinks are not supported in the hub cache: each revision keeps its own copy of every file', 'Use a filesystem with symlinks (on Windows, enable Developer Mode), or accept the extra disk use.');

  const seenVolumes = new Set<number>();
  for (const d of facts.dirs) {
    if (d.freeBytes === undefined || seenVolumes.has(d.freeBytes)) continue;
    seenVolumes.add(d.freeBytes);
    const id = `free-space:${d.label}`;
    if (d.freeBytes < FREE_SPACE_FAIL) add(id, 'fail', `only ${gb(d.freeBytes)} free for ${d.label} (${d.path})`, 'Free space (`mlcache prune`, `mlcache rm REPO`) or move the cache to a larger volume.');
    else if (d.freeBytes < FREE_SPACE_WARN) add(id, 'warn', `${gb(d.freeBytes)} free for ${d.label} (${d.path}); large models need more`, 'Run `mlcache prune` or move the cache to a larger volume.');
    else add(id, 'ok', `${gb(d.freeBytes)} free for ${d.label}`);
  }

  const ep = facts.endpoint;
  if (ep.skipped !== undefined) add('endpoint', 'warn', `endpoint ${ep.url} not checked: ${ep.skipped}`, 'Unset HF_HUB_OFFLINE to check the network.');
  else if (ep.reachable) add('endpoint', 'ok', `endpoint ${ep.url} reachable${ep.status !== undefined ? ` (HTTP ${ep.status})` : ''}`);
  else
    add(
      'endpoint',
      'fail',
      `endpoint ${ep.url} unreachable: ${ep.error ?? 'no answer'}`,
      facts.proxy.https ?? facts.proxy.http ? 'Check the proxy variables and HF_ENDPOINT.' : 'Check the network, HF_ENDPOINT, and whether a proxy (HTTPS_PROXY) is needed.',
    );

  const t = facts.token;
  if (t.malformed !== undefined) add('token', 'fail', t.malformed.replace(/\.$/, ''), `Copy the token again from ${facts.endpoint.url}/settings/tokens, without spaces or line breaks.`);
  else if (!t.present) add('token', 'warn', 'no Hub token: gated repos (pyannote, indictrans2) will fail', 'Set HF_TOKEN or run `hf auth login`.');
  else if (t.invalid === true) add('token', 'fail', `the token from ${t.source ?? '?'} is invalid or expired`, 'Create a new token at https://huggingface.co/settings/tokens and set HF_TOKEN.');
  else if (t.name !== undefined) add('token', 'ok', `token from ${t.source ?? '?'} is valid (user ${t.name})`);
  else add('token', 'warn', `token from ${t.source ?? '?'} could not be checked: ${t.error ?? 'endpoint unreachable'}`, 'Check the network, then run `mlcache doctor` again.');

  const proxies = [
    facts.proxy.https !== undefined ? `HTTPS_PROXY=${redactUrl(facts.proxy.https)}` : undefined,
    facts.proxy.http !== undefined ? `HTTP_PROXY=${redactUrl(facts.proxy.http)}` : undefined,
    facts.proxy.noProxy !== undefined ? `NO_PROXY=${facts.proxy.noProxy}` : undefined,
  ].filter((s): s is string => s !== undefined);
  add('proxy', 'ok', proxies.length > 0 ? `proxy in effect: ${proxies.join(', ')}` : 'no proxy variables set');

  const env = facts.env;
  if (env.TRANSFORMERS_CACHE !== undefined && !samePath(env.TRANSFORMERS_CACHE, facts.hubCache)) {
    add('TRANSFORMERS_CACHE', 'warn', `TRANSFORMERS_CACHE=${env.TRANSFORMERS_CACHE} differs from the hub cache ${facts.hubCache}: transformers writes a second copy there`, `export TRANSFORMERS_CACHE=${facts.hubCache} (or unset it).`);
  }
  const hw = facts.hardwareCache;
  if (hw?.hfHome !== undefined) {
    if (!samePath(hw.hfHome, facts.hfHome)) {
      add('HF_HOME', 'warn', `HF_HOME is ${facts.hfHome} but ${hw.file} says ${hw.hfHome}`, `export HF_HOME=${hw.hfHome} (or eval "$(mlcache env)").`);
    }
    const expectedHub = path.join(hw.hfHome, 'hub');
    if (env.HF_HUB_CACHE !== undefined && !samePath(env.HF_HUB_CACHE, expectedHub)) {
      add('HF_HUB_CACHE', 'warn', `HF_HUB_CACHE=${env.HF_HUB_CACHE} overrides ${expectedHub} from ${hw.file}`, `export HF_HUB_CACHE=${expectedHub} (or unset it).`);
    }
  }
  if (hw?.torchHome !== undefined && !samePath(hw.torchHome, facts.torchHome)) {
    add('TORCH_HOME', 'warn', `TORCH_HOME is ${facts.torchHome} but ${hw.file} says ${hw.torchHome}`, `export TORCH_HOME=${hw.torchHome} (or eval "$(mlcache env)").`);
  }
  if (facts.offline) {
    const which = env.HF_HUB_OFFLINE !== undefined ? `HF_HUB_OFFLINE=${env.HF_HUB_OFFLINE}` : `TRANSFORMERS_OFFLINE=${env.TRANSFORMERS_OFFLINE ?? '1'}`;
    add('offline', 'warn', `${which}: downloads are refused (fine for running pipelines offline)`, 'Unset HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE to download.');
  }
  return checks;
}

/** Exit non-zero only when some check failed. */
export function doctorPassed(checks: readonly DoctorCheck[]): boolean {
  return !checks.some((c) => c.status === 'fail');
}
