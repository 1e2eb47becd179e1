/**
 * The CI recipes in docs/ci.md run as written: each block marked `<!-- recipe: NAME -->` is
 * extracted, and its shell steps run in order in a temp project against the Hub emulator, with
 * `mlcache` = `node bin/mlcache.js` (a shim on PATH). Left out: the steps that install mlcache
 * (`npm install -g ./vendor/mlcache-<version>.tgz`) and the one that runs the user's own pipeline (`python …`); the test
 * checks that nothing else is. Each recipe runs cold (files fetched by commit, no API request) and
 * warm (no request at all), so the docs cannot drift from the tool.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIN, REPO_ROOT, ensureBuilt, execCli } from '../helpers/cli.js';
import { EMULATOR_TOKEN, useEmulator } from '../helpers/emulator.js';

const execFileAsync = promisify(execFile);

const hub = useEmulator({
  repos: [
    {
      id: 'org/ci-model',
      revisions: [
        { refs: ['main'], files: [{ path: 'config.json', content: '{"ci":1}' }, { path: 'model.safetensors', generated: { size: 30_000, seed: 7 } }, { path: 'notes.md', content: 'x' }] },
        { refs: ['next'], files: [{ path: 'config.json', content: '{"ci":2}' }, { path: 'model.safetensors', generated: { size: 31_000, seed: 8 } }] },
      ],
    },
  ],
});

const SKIPPED = [/^npm install -g "?(?:\.\/vendor|\/tmp)\/mlcache-/, /^python /];
const PLATFORM_KEY = new RegExp(`^mlcache-${process.platform}-${process.arch}-[0-9a-f]{16}$`);

let tmp: string;
let project: string;
let shimDir: string;

beforeAll(() => {
  ensureBuilt();
});

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcache-ci-recipes-'));
  project = path.join(tmp, 'project');
  shimDir = path.join(tmp, 'bin');
  await mkdir(path.join(project, 'config'), { recursive: true });
  await mkdir(shimDir);
  await mkdir(path.join(tmp, 'home'));
  const shim = path.join(shimDir, 'mlcache');
  await writeFile(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`);
  await chmod(shim, 0o755);
  await writeFile(
    path.join(project, 'config', 'models.json'),
    JSON.stringify({ version: 1, groups: { ci: { entries: [{ repo: 'org/ci-model', purpose: 'the model CI needs', include: ['*.json', '*.safetensors'] }] } } }),
  );
  hub().resetStats();
});

afterEach(async () => {
  hub().moveRef('org/ci-model', 'main', firstCommit);
  await rm(tmp, { recursive: true, force: true });
});

let firstCommit = '';
beforeAll(() => {
  firstCommit = hub().commitOf('org/ci-model', 'main');
});

/** The fenced block after `<!-- recipe: NAME -->` in docs/ci.md. */
async function recipe(name: string): Promise<string> {
  const doc = await readFile(path.join(REPO_ROOT, 'docs', 'ci.md'), 'utf8');
  const marker = `<!-- recipe: ${name} -->`;
  const at = doc.indexOf(marker);
  if (at === -1) throw new Error(`docs/ci.md has no ${marker}`);
  const open = doc.indexOf('```', at);
  const bodyStart = doc.indexOf('\n', open) + 1;
  return doc.slice(bodyStart, doc.indexOf('\n```', bodyStart));
}

interface Step {
  run: string;
  env: Record<string, string>;
}

/** What the developer does once: lock the selection and commit config/mlcache.lock. */
async function lockProject(): Promise<void> {
  const result = await execCli(['lock', '--group', 'ci'], { cwd: project, env: baseEnv() });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: `${shimDir}:${process.env.PATH ?? ''}`, HOME: path.join(tmp, 'home'), HF_ENDPOINT: hub().url, NO_COLOR: '1' };
}

async function runShell(script: string, env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  try {
    await execFileAsync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd, env });
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    throw new Error(`step failed (exit ${e.code}):\n${script}\n--- stdout\n${e.stdout}\n--- stderr\n${e.stderr}`);
  }
}

function skipped(run: string): boolean {
  return SKIPPED.some((re) => re.test(run.trim()));
}

// ---- GitHub Actions: the subset of YAML the recipe uses (job env, steps with run/env/uses) ----

function yamlValue(raw: string, expressions: Record<string, string>): string {
  const value = raw.replace(/\s+#.*$/, '').trim();
  return value.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (whole, expr: string) => {
    const replaced = expressions[expr];
    if (replaced === undefined) throw new Error(`the test does not know ${whole}`);
    return replaced;
  });
}

function parseGithub(text: string, expressions: Record<string, string>): { env: Record<string, string>; steps: Step[]; uses: string[] } {
  const lines = text.split('\n');
  const env: Record<string, string> = {};
  const steps: Step[] = [];
  const uses: string[] = [];
  let i = lines.findIndex((l) => l === '    env:');
  for (i++; i < lines.length && lines[i]!.startsWith('      '); i++) {
    const m = /^ {6}([A-Z_]+): (.*)$/.exec(lines[i]!);
    if (m) env[m[1]!] = yamlValue(m[2]!, expressions);
  }
  const start = lines.findIndex((l) => l === '    steps:');
  const items: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('      - ')) items.push([`        ${line.slice(8)}`]);
    else if (items.length > 0) items[items.length - 1]!.push(line);
  }
  for (const item of items) {
    const step: Step = { run: '', env: {} };
    for (let j = 0; j < item.length; j++) {
      const line = item[j]!;
      const uses_ = /^ {8}uses: (.*)$/.exec(line);
      if (uses_) uses.push(uses_[1]!);
      if (line === '        env:') {
        for (j++; j < item.length && item[j]!.startsWith('          '); j++) {
          const m = /^ {10}([A-Z_]+): (.*)$/.exec(item[j]!);
          if (m) step.env[m[1]!] = yamlValue(m[2]!, expressions);
        }
        j--;
        continue;
      }
      const run = /^ {8}run: (.*)$/.exec(line);
      if (run && run[1] === '|') {
        const body: string[] = [];
        for (j++; j < item.length && (item[j]!.startsWith('          ') || item[j]!.trim() === ''); j++) body.push(item[j]!.slice(10));
        j--;
        step.run = body.join('\n').trim();
      } else if (run) {
        step.run = run[1]!;
      }
    }
    if (step.run !== '') steps.push(step);
  }
  return { env, steps, uses };
}

/** `$GITHUB_ENV` / `$GITHUB_OUTPUT` file syntax: NAME=value lines and NAME<<DELIM heredocs. */
function parseGithubFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([A-Za-z_][A-Za-z0-9_]*)<<(.+)$/.exec(line);
    if (heredoc) {
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) body.push(lines[i]!);
      out[heredoc[1]!] = body.join('\n');
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

async function runGithub(text: string): Promise<{ outputs: Record<string, string>; exported: Record<string, string> }> {
  const { env, steps, uses } = parseGithub(text, { 'github.workspace': project, 'secrets.HF_TOKEN': EMULATOR_TOKEN });
  expect(uses).toEqual(['actions/checkout@v4', 'actions/setup-node@v4', 'actions/cache@v4']);
  const ran = steps.filter((s) => !skipped(s.run));
  expect(steps.filter((s) => skipped(s.run)).map((s) => s.run.split(' ')[0])).toEqual(['npm', 'python']);
  const githubEnv = path.join(tmp, `github-env-${Date.now()}`);
  const githubOutput = path.join(tmp, `github-output-${Date.now()}`);
  await writeFile(githubEnv, '');
  await writeFile(githubOutput, '');
  for (const step of ran) {
    const exported = parseGithubFile(await readFile(githubEnv, 'utf8'));
    await runShell(step.run, { ...baseEnv(), CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: project, GITHUB_ENV: githubEnv, GITHUB_OUTPUT: githubOutput, ...env, ...exported, ...step.env }, project);
  }
  return { outputs: parseGithubFile(await readFile(githubOutput, 'utf8')), exported: parseGithubFile(await readFile(githubEnv, 'utf8')) };
}

// ---- GitLab CI: variables and script lines ----

function parseGitlab(text: string): { variables: Record<string, string>; script: string[]; cacheFiles: string[]; cachePaths: string[] } {
  const lines = text.split('\n');
  const block = (header: string, indent: number): string[] => {
    const at = lines.findIndex((l) => l === header);
    if (at === -1) throw new Error(`no ${header.trim()} in the GitLab recipe`);
    const out: string[] = [];
    for (const line of lines.slice(at + 1)) {
      if (line.trim() !== '' && !line.startsWith(' '.repeat(indent))) break;
      out.push(line);
    }
    return out;
  };
  const variables: Record<string, string> = {};
  for (const line of block('  variables:', 4)) {
    const m = /^ {4}([A-Z_]+): (.*)$/.exec(line);
    if (m) variables[m[1]!] = m[2]!.replace(/\s+#.*$/, '').trim();
  }
  const items = (lines_: string[]) => lines_.map((l) => /^\s+- (.*)$/.exec(l)?.[1]).filter((l): l is string => l !== undefined);
  const cache = block('  cache:', 4);
  const filesAt = cache.findIndex((l) => l.trim() === 'files:');
  const pathsAt = cache.findIndex((l) => l.trim() === 'paths:');
  return {
    variables,
    script: items(block('  script:', 4)),
    cacheFiles: items(cache.slice(filesAt + 1, cache.findIndex((l, k) => k > filesAt && !l.trim().startsWith('-')))),
    cachePaths: items(cache.slice(pathsAt + 1)),
  };
}

// ---- Dockerfile: the first stage, with /app, /cache and /models mapped into the temp folder ----

async function runDockerStage(text: string): Promise<string[]> {
  const map = (s: string) => s.replace(/(^|[\s=:])\/(app|cache|models)(?=\/|\s|$)/g, (_m, pre: string, root: string) => `${pre}${path.join(tmp, 'image', root)}`);
  const instructions: string[] = [];
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    instructions.push(line.trim());
  }
  const stageEnd = instructions.findIndex((l, k) => k > 0 && l.startsWith('FROM '));
  const stage = instructions.slice(0, stageEnd);
  expect(stage[0]).toBe('FROM node:22-bookworm-slim AS models');
  const env: Record<string, string> = {};
  let workdir = '';
  const ran: string[] = [];
  for (const instruction of stage.slice(1)) {
    const [op, ...rest] = instruction.split(' ');
    const arg = rest.join(' ');
    if (op === 'ARG') {
      const [name, value] = arg.split('=');
      env[name!] = value ?? '';
    } else if (op === 'ENV') {
      for (const m of arg.matchAll(/([A-Z_]+)=(\S+)/g)) env[m[1]!] = map(m[2]!);
    } else if (op === 'WORKDIR') {
      workdir = map(arg);
      await mkdir(workdir, { recursive: true });
    } else if (op === 'COPY') {
      const parts = arg.split(/\s+/);
      // The mlcache tarball (docs/ci.md "Installing"): the test runs the built CLI instead.
      if (parts.some((p) => p.startsWith('vendor/mlcache-'))) continue;
      const dest = path.resolve(workdir, parts.pop()!);
      await mkdir(dest, { recursive: true });
      for (const source of parts) await cp(path.join(project, source), path.join(dest, path.basename(source)));
    } else if (op === 'RUN') {
      const script = arg.replace(/--mount=\S+\s+/g, '');
      if (skipped(script)) continue;
      ran.push(script);
      await runShell(map(script), { ...baseEnv(), HF_TOKEN: EMULATOR_TOKEN, ...env }, workdir);
    } else {
      throw new Error(`the test does not know the instruction ${op}`);
    }
  }
  return ran;
}

const apiRequests = () => hub().stats.requests.filter((r) => r.url.startsWith('/api/'));

describe('docs/ci.md recipes', () => {
  it('GitHub Actions: cold fetch by commit with no API request, warm run with no request at all, even after main moved', async () => {
    await lockProject();
    const text = await recipe('github');
    hub().moveRef('org/ci-model', 'main', 'next'); // CI keeps what the lock says
    hub().resetStats();
    const cold = await runGithub(text);
    expect(apiRequests()).toEqual([]);
    expect(hub().stats.requestCount).toBeGreaterThan(0);
    expect(cold.outputs.key).toMatch(PLATFORM_KEY);
    expect(cold.outputs.paths?.split('\n')).toEqual([path.join(project, '.cache', 'huggingface', 'hub'), path.join(project, '.cache', 'torch')]);
    expect(cold.exported.HF_HUB_OFFLINE).toBe('1');
    const repo = path.join(project, '.cache', 'huggingface', 'hub', 'models--org--ci-model');
    expect((await readFile(path.join(repo, 'refs', 'main'), 'utf8')).trim()).toBe(firstCommit);
    expect(await readFile(path.join(repo, 'snapshots', firstCommit, 'config.json'), 'utf8')).toBe('{"ci":1}');

    hub().resetStats();
    const warm = await runGithub(text);
    expect(hub().stats.requestCount).toBe(0);
    expect(warm.outputs.key).toBe(cold.outputs.key);
  });

  it('GitLab CI: the script runs as written; the cache key file and paths are the lock and the cache folders', async () => {
    await lockProject();
    const { variables, script, cacheFiles, cachePaths } = parseGitlab(await recipe('gitlab'));
    expect(cacheFiles).toEqual(['config/mlcache.lock']);
    await readFile(path.join(project, cacheFiles[0]!)); // the file GitLab hashes exists where `mlcache lock` writes it
    const ran = script.filter((line) => !skipped(line));
    expect(script.filter(skipped).map((l) => l.split(' ')[0])).toEqual(['npm', 'python']);
    const env: NodeJS.ProcessEnv = { ...baseEnv(), CI: 'true', CI_PROJECT_DIR: project, CI_JOB_NAME: 'models-test', HF_TOKEN: EMULATOR_TOKEN };
    for (const [name, value] of Object.entries(variables)) env[name] = value.replace(/\$([A-Z_]+)/g, (_m, v: string) => env[v] ?? '');
    for (const round of ['cold', 'warm']) {
      hub().resetStats();
      // GitLab runs the script lines in one shell, so `eval "$(mlcache env --offline)"` reaches the lines after it.
      await runShell([...ran, 'test "$HF_HUB_OFFLINE" = 1'].join('\n'), env, project);
      expect(apiRequests()).toEqual([]);
      if (round === 'warm') expect(hub().stats.requestCount).toBe(0);
    }
    // The cached folders are where the variables put the caches.
    expect(cachePaths.map((p) => path.join(project, p))).toEqual([path.join(env.HF_HOME!, 'hub'), env.TORCH_HOME]);
    expect(await readdir(path.join(project, cachePaths[0]!))).toContain('models--org--ci-model');
  });

  it('Dockerfile stage: the RUN steps fetch into the cache mount and copy the locked snapshot into the stage', async () => {
    await lockProject();
    const text = await recipe('dockerfile');
    hub().resetStats();
    const ran = await runDockerStage(text);
    expect(ran.length).toBe(1);
    expect(apiRequests()).toEqual([]);
    const copied = path.join(tmp, 'image', 'models', 'huggingface', 'hub', 'models--org--ci-model');
    expect(await readFile(path.join(copied, 'snapshots', firstCommit, 'config.json'), 'utf8')).toBe('{"ci":1}');
    expect((await readFile(path.join(copied, 'refs', 'main'), 'utf8')).trim()).toBe(firstCommit);
    // A rebuild with the cache mount kept: no request at all.
    await rm(path.join(tmp, 'image', 'models'), { recursive: true });
    hub().resetStats();
    await runDockerStage(text);
    expect(hub().stats.requestCount).toBe(0);
  });
});
