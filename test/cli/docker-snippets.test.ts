/**
 * The Docker snippets of docs/ci.md work as written. docker may not run here, so each is checked
 * for what would break it: every Dockerfile takes Node >= 20.19 from the official `node` image
 * (never Debian's `nodejs`, 18 on bookworm) and the stage that runs mlcache has it; every compose
 * file — the doc's, and `mlcache env --format compose --service NAME` merged over it as
 * `docker compose -f compose.yaml -f mlcache.compose.yaml` would — passes the checks that the
 * compose-spec JSON Schema (compose-spec/compose-spec, schema/compose-spec.json; not vendored)
 * makes on the keys used. YAML is read by PyYAML (python3, as the bootstrap pty test uses).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, bootstrapProject, ensureBuilt, execCli } from '../helpers/cli.js';

const execFileAsync = promisify(execFile);

/** The fenced block after `<!-- MARKER -->` in docs/ci.md. */
async function block(marker: string): Promise<string> {
  const doc = await readFile(path.join(REPO_ROOT, 'docs', 'ci.md'), 'utf8');
  const at = doc.indexOf(`<!-- ${marker} -->`);
  if (at === -1) throw new Error(`docs/ci.md has no <!-- ${marker} -->`);
  const open = doc.indexOf('```', at);
  const start = doc.indexOf('\n', open) + 1;
  return doc.slice(start, doc.indexOf('\n```', start));
}

async function parseYaml(text: string): Promise<unknown> {
  const script = 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)';
  const child = execFileAsync('python3', ['-c', script]);
  child.child.stdin?.end(text);
  const { stdout } = await child;
  return JSON.parse(stdout) as unknown;
}

// --- Dockerfile --------------------------------------------------------------------------------

interface Stage {
  image: string;
  alias: string | undefined;
  body: string;
}

/** FROM lines split the file into stages (line continuations joined). Pure. */
function stages(dockerfile: string): Stage[] {
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n');
  const out: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line.trim());
    if (from) out.push({ image: from[1]!, alias: from[2], body: '' });
    else if (out.length > 0) out[out.length - 1]!.body += `${line}\n`;
  }
  return out;
}

/** An official node image tag with Node >= 20.19 (22-bookworm-slim, 20.19-slim, 24 …). Pure. */
function nodeImageOk(image: string): boolean {
  const m = /^node:(\d+)(?:\.(\d+))?/.exec(image);
  if (!m) return false;
  const major = Number(m[1]);
  const minor = m[2] === undefined ? undefined : Number(m[2]);
  return major > 20 || (major === 20 && minor !== undefined && minor >= 19);
}

function dockerfileProblems(text: string): string[] {
  const problems: string[] = [];
  const all = stages(text);
  if (all.length === 0) problems.push('no FROM');
  if (/apt-get install[^\n]*\bnodejs\b/.test(text.replace(/\\\n/g, ' '))) problems.push("installs Debian's nodejs (18 on bookworm)");
  // mlcache is not on the public npm registry: installing it by name there gets someone else's package.
  if (/npm install -g "?mlcache(?:@|"|\s|$)/m.test(text)) problems.push('installs mlcache by name from the public registry');
  const nodeStages = new Set(all.filter((s) => nodeImageOk(s.image)).map((s) => s.alias));
  for (const s of all) {
    if (s.image.startsWith('node:') && !nodeImageOk(s.image)) problems.push(`${s.image} is older than Node 20.19`);
    if (!/\bmlcache\b/.test(s.body)) continue;
    const hasNode = nodeImageOk(s.image) || [...s.body.matchAll(/COPY --from=(\S+) \/usr\/local\/bin\/node /g)].some((m) => nodeStages.has(m[1]));
    if (!hasNode) problems.push(`stage ${s.alias ?? s.image} uses mlcache without Node >= 20.19`);
    // mlcache copied from a node stage must be where `npm install -g` puts it there, with a bin link.
    if (!nodeImageOk(s.image) && /node_modules\/mlcache/.test(s.body)) {
      if (!s.body.includes('COPY --from=') || !s.body.includes('/usr/local/lib/node_modules/mlcache /usr/local/lib/node_modules/mlcache')) problems.push('mlcache not copied from the global node_modules');
      if (!s.body.includes('ln -s ../lib/node_modules/mlcache/bin/mlcache.js /usr/local/bin/mlcache')) problems.push('no mlcache on PATH');
    }
  }
  return problems;
}

// --- compose (the compose-spec schema's checks on what these files use) -----------------------

const TOP_LEVEL = new Set(['version', 'name', 'include', 'services', 'models', 'networks', 'volumes', 'secrets', 'configs']);
// compose-spec.json definitions.service.properties (additionalProperties: false, patternProperties ^x-).
const SERVICE_KEYS = new Set(
  (
    'annotations attach build blkio_config cap_add cap_drop cgroup cgroup_parent command configs container_name cpu_count cpu_percent ' +
    'cpu_shares cpu_quota cpu_period cpu_rt_period cpu_rt_runtime cpus cpuset credential_spec depends_on deploy develop ' +
    'device_cgroup_rules devices dns dns_opt dns_search domainname entrypoint env_file label_file environment expose extends ' +
    'external_links extra_hosts gpus group_add healthcheck hostname image init ipc isolation labels links logging mac_address ' +
    'mem_limit mem_reservation mem_swappiness memswap_limit network_mode models networks oom_kill_disable oom_score_adj pid ' +
    'pids_limit platform ports post_start pre_stop privileged profiles provider pull_policy pull_refresh_after read_only restart ' +
    'runtime scale secrets security_opt shm_size stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits ' +
    'use_api_socket user userns_mode uts volumes volumes_from working_dir'
  ).split(' '),
);
const VOLUME_KEYS = new Set(['type', 'source', 'target', 'read_only', 'consistency', 'bind', 'volume', 'tmpfs', 'image']);
const VOLUME_TYPES = new Set(['bind', 'volume', 'tmpfs', 'cluster', 'npipe', 'image']);
const NAME = /^[a-zA-Z0-9._-]+$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

function composeProblems(doc: unknown, options: { standalone: boolean }): string[] {
  const problems: string[] = [];
  if (!isObject(doc)) return ['not a mapping'];
  for (const key of Object.keys(doc)) if (!TOP_LEVEL.has(key) && !key.startsWith('x-')) problems.push(`unknown top-level key ${key}`);
  const services = doc.services;
  if (!isObject(services)) return [...problems, 'services is not a mapping'];
  for (const [name, service] of Object.entries(services)) {
    const at = `services.${name}`;
    if (!NAME.test(name)) problems.push(`${at}: bad service name`);
    if (!isObject(service)) {
      problems.push(`${at}: not a mapping`);
      continue;
    }
    for (const key of Object.keys(service)) if (!SERVICE_KEYS.has(key) && !key.startsWith('x-')) problems.push(`${at}.${key}: not a service property`);
    // compose refuses to run a service with neither (docker compose: "has neither an image nor a build context").
    if (options.standalone && service.image === undefined && service.build === undefined) problems.push(`${at}: neither image nor build`);
    if (service.image !== undefined && typeof service.image !== 'string') problems.push(`${at}.image: not a string`);
    if (service.build !== undefined && typeof service.build !== 'string' && !isObject(service.build)) problems.push(`${at}.build: not a string or mapping`);
    if (service.user !== undefined && typeof service.user !== 'string') problems.push(`${at}.user: not a string`);
    const env = service.environment;
    if (env !== undefined) {
      if (isObject(env)) {
        for (const [k, v] of Object.entries(env)) if (!isScalar(v)) problems.push(`${at}.environment.${k}: not a string, number, boolean or null`);
      } else if (!Array.isArray(env) || env.some((v) => typeof v !== 'string')) problems.push(`${at}.environment: not a mapping or a list of strings`);
    }
    const command = service.command;
    if (command !== undefined && command !== null && typeof command !== 'string' && !(Array.isArray(command) && command.every((c) => typeof c === 'string'))) {
      problems.push(`${at}.command: not a string or a list of strings`);
    }
    if (service.profiles !== undefined && !(Array.isArray(service.profiles) && service.profiles.every((p) => typeof p === 'string' && NAME.test(p)))) problems.push(`${at}.profiles: bad`);
    const volumes = service.volumes;
    if (volumes !== undefined) {
      if (!Array.isArray(volumes)) problems.push(`${at}.volumes: not a list`);
      else
        volumes.forEach((v, i) => {
          if (typeof v === 'string') return;
          if (!isObject(v)) return problems.push(`${at}.volumes[${i}]: not a string or mapping`);
          for (const key of Object.keys(v)) if (!VOLUME_KEYS.has(key) && !key.startsWith('x-')) problems.push(`${at}.volumes[${i}].${key}: unknown`);
          if (typeof v.type !== 'string' || !VOLUME_TYPES.has(v.type)) problems.push(`${at}.volumes[${i}].type: missing or unknown`);
          if (v.target !== undefined && typeof v.target !== 'string') problems.push(`${at}.volumes[${i}].target: not a string`);
          if (v.type === 'bind' && typeof v.source !== 'string') problems.push(`${at}.volumes[${i}].source: a bind mount needs a source`);
        });
    }
  }
  return problems;
}

/** compose-spec merge.md: mappings merged key by key, `volumes` by target, `environment` by name, the rest replaced. Pure. */
function mergeCompose(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const prior = merged[key];
    if (key === 'volumes' && Array.isArray(prior) && Array.isArray(value)) {
      const target = (v: unknown) => (typeof v === 'string' ? v.split(':')[1] : (v as { target?: string }).target);
      const byTarget = new Map(prior.map((v) => [target(v), v] as const));
      for (const v of value) byTarget.set(target(v), v);
      merged[key] = [...byTarget.values()];
    } else if (isObject(prior) && isObject(value)) merged[key] = mergeCompose(prior, value);
    else merged[key] = value;
  }
  return merged;
}

let tmp: string;
beforeAll(async () => {
  ensureBuilt();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcache-docker-snippets-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('Docker snippets in docs/ci.md', () => {
  it('the checks catch what broke before: Debian nodejs, an old node image, mlcache by name from the public registry, an override with no image', () => {
    expect(dockerfileProblems('FROM python:3.11-slim\nRUN apt-get update && apt-get install -y nodejs npm \\\n && npm install -g mlcache\n')).toEqual([
      "installs Debian's nodejs (18 on bookworm)",
      'installs mlcache by name from the public registry',
      'stage python:3.11-slim uses mlcache without Node >= 20.19',
    ]);
    expect(dockerfileProblems('FROM node:18-slim\nRUN npm install -g mlcache\n')).toContain('node:18-slim is older than Node 20.19');
    expect(dockerfileProblems('FROM node:22-slim\nRUN npm install -g mlcache\n')).toEqual(['installs mlcache by name from the public registry']);
    expect(dockerfileProblems('FROM node:22-slim\nCOPY vendor/mlcache-0.1.0.tgz /tmp/\nRUN npm install -g /tmp/mlcache-0.1.0.tgz\n')).toEqual([]);
    expect(nodeImageOk('node:20.18-slim')).toBe(false);
    expect(nodeImageOk('node:20.19-slim')).toBe(true);
    expect(composeProblems({ services: { app: { user: '1:1' } } }, { standalone: true })).toEqual(['services.app: neither image nor build']);
    expect(composeProblems({ services: { app: { image: 'x', volumes: [{ source: '/a', target: '/b' }], bogus: 1 } } }, { standalone: true })).toEqual([
      'services.app.bogus: not a service property',
      'services.app.volumes[0].type: missing or unknown',
    ]);
  });

  it('every Dockerfile takes Node >= 20.19 from the official node image, where mlcache runs', async () => {
    for (const marker of ['docker: dockerfile', 'recipe: dockerfile']) {
      const text = await block(marker);
      expect(dockerfileProblems(text), marker).toEqual([]);
      expect(stages(text).some((s) => nodeImageOk(s.image)), marker).toBe(true);
    }
    // The bin link in the Dockerfile points at the file package.json publishes as `mlcache`.
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; bin: Record<string, string> };
    expect(pkg.name).toBe('mlcache');
    expect(path.normalize(pkg.bin.mlcache ?? '')).toBe(path.join('bin', 'mlcache.js'));
  });

  it('the doc’s compose file, and `env --format compose --service` merged over it, pass the compose-spec checks', async () => {
    const base = (await parseYaml(await block('docker: compose'))) as Record<string, unknown>;
    expect(composeProblems(base, { standalone: true })).toEqual([]);

    const home = path.join(tmp, 'home');
    const project = path.join(tmp, 'project');
    await bootstrapProject(project, home);
    const result = await execCli(['env', '--format', 'compose', '--service', 'pipeline', '--offline'], { cwd: project, env: { PATH: process.env.PATH, HOME: home } });
    expect(result.code, result.stderr).toBe(0);
    const override = (await parseYaml(result.stdout)) as { services: Record<string, Record<string, unknown>> };
    // An override: valid on its own terms, extends exactly the named service, brings no image of its own.
    expect(composeProblems(override, { standalone: false })).toEqual([]);
    expect(Object.keys(override.services)).toEqual(['pipeline']);
    expect(override.services.pipeline).not.toHaveProperty('image');

    const merged = mergeCompose(base, override);
    expect(composeProblems(merged, { standalone: true })).toEqual([]);
    const pipeline = (merged.services as Record<string, Record<string, unknown>>).pipeline!;
    expect(pipeline.build).toBe('.');
    expect(pipeline.environment).toMatchObject({ HF_HUB_CACHE: '/cache/huggingface/hub', HF_HUB_OFFLINE: '1' });
    expect(pipeline.volumes).toEqual(
      expect.arrayContaining([{ type: 'bind', source: path.join(project, '.cache', 'huggingface'), target: '/cache/huggingface' }]),
    );

    const bad = await execCli(['env', '--format', 'compose', '--service', 'no spaces'], { cwd: project, env: { PATH: process.env.PATH, HOME: home } });
    expect(bad.code).toBe(2);
    const misplaced = await execCli(['env', '--service', 'pipeline'], { cwd: project, env: { PATH: process.env.PATH, HOME: home } });
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain('--service only applies to --format compose');
  });
});
