/** `mlcache env` through the spawned CLI, each format checked by using it. */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapProject, defaultCacheVariables, ensureBuilt, execCli } from '../helpers/cli.js';

let home: string;
let root: string;

beforeAll(async () => {
  ensureBuilt();
  home = await mkdtemp(path.join(os.tmpdir(), 'mlcache-env-'));
  // A root whose path needs quoting in every shell.
  root = path.join(home, `my "project" it's $HOME`);
  await mkdir(path.join(root, 'sub', 'dir'), { recursive: true });
  await bootstrapProject(root, home);
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

function mlcache(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  return execCli(args, { cwd: options.cwd ?? home, env: { PATH: process.env.PATH, HOME: home, ...options.env } });
}

const expected = () => defaultCacheVariables(root);

describe('mlcache env', () => {
  it('keeps the token `hf auth login` saved reachable (HF_TOKEN_PATH) once HF_HOME points into the project; never in compose, never the token itself', async () => {
    const tokenHome = await mkdtemp(path.join(os.tmpdir(), 'mlcache-env-token-'));
    try {
      const tokenFile = path.join(tokenHome, '.cache', 'huggingface', 'token');
      await mkdir(path.dirname(tokenFile), { recursive: true });
      await writeFile(tokenFile, 'hf_savedbyloginxxxxxxxxxxxxxxxxxxxx\n');
      const env = { HOME: tokenHome };
      const json = await mlcache(['env', '--format', 'json', '--root', root], { env });
      expect(json.code, json.stderr).toBe(0);
      const vars = JSON.parse(json.stdout) as Record<string, string>;
      expect(vars).toEqual({ ...expected(), HF_TOKEN_PATH: tokenFile });
      // In the shell that evaluated it (HF_HOME is the project's now), it stays the user's file.
      const again = await mlcache(['env', '--format', 'json', '--root', root], { env: { ...env, ...vars } });
      expect((JSON.parse(again.stdout) as Record<string, string>).HF_TOKEN_PATH).toBe(tokenFile);
      // `run` gives it to the command.
      const seen = await mlcache(['run', '--root', root, '--', process.execPath, '-e', 'process.stdout.write(process.env.HF_TOKEN_PATH ?? "unset")'], { env });
      expect(seen.stdout).toBe(tokenFile);
      // A container does not have this machine's file; a token variable wins without it.
      const compose = await mlcache(['env', '--format', 'compose', '--root', root], { env });
      expect(compose.stdout).not.toContain('HF_TOKEN_PATH');
      const withVar = await mlcache(['env', '--format', 'json', '--root', root], { env: { ...env, HF_TOKEN: 'hf_fromvariablexxxxxxxxxxxxxxxxxxxx' } });
      expect(JSON.parse(withVar.stdout)).toEqual(expected());
      for (const r of [json, again, seen, compose, withVar]) expect(r.stdout + r.stderr).not.toMatch(/hf_savedbylogin|hf_fromvariable/);
    } finally {
      await rm(tokenHome, { recursive: true, force: true });
    }
  });

  it('sh (default), found by walking up from a subdirectory: bash evals it', async () => {
    const r = await mlcache(['env'], { cwd: path.join(root, 'sub', 'dir') });
    expect(r.code, r.stderr).toBe(0);
    const seen = JSON.parse(execFileSync('bash', ['-c', `eval "$1"; "$2" -e 'process.stdout.write(JSON.stringify(process.env))'`, 'bash', r.stdout, process.execPath], { encoding: 'utf8' })) as Record<string, string>;
    expect(seen).toMatchObject(expected());
    expect(seen.HF_HUB_OFFLINE).toBeUndefined();
  });

  it('json with --offline', async () => {
    const r = await mlcache(['env', '--format', 'json', '--offline', '--root', root]);
    expect(JSON.parse(r.stdout)).toEqual({ ...expected(), HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' });
  });

  it('dotenv is read back exactly by python-dotenv', async () => {
    const r = await mlcache(['env', '--format', 'dotenv', '--root', root]);
    const file = path.join(home, '.env.cache');
    await writeFile(file, r.stdout);
    const py = 'import sys, json\nfrom dotenv import dotenv_values\nprint(json.dumps(dotenv_values(sys.argv[1], interpolate=False)))';
    const parsed = JSON.parse(execFileSync('python3', ['-c', py, file], { encoding: 'utf8' })) as Record<string, string>;
    // This root has both ' and $, so values are double-quoted with $ doubled, which docker compose
    // reads as one literal $ (python-dotenv keeps $$: undo that the way compose does).
    expect(Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v.replace(/\$\$/g, '$')]))).toEqual(expected());
    expect(r.stdout).toContain('$$HOME');
  });

  it('github appends KEY=value lines to $GITHUB_ENV, and refuses when it is unset', async () => {
    const file = path.join(home, 'github_env');
    await writeFile(file, 'EXISTING=1\n');
    const r = await mlcache(['env', '--format', 'github', '--root', root], { env: { GITHUB_ENV: file } });
    expect(r.code, r.stderr).toBe(0);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines[0]).toBe('EXISTING=1');
    expect(Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))).toEqual(expected());
    const refused = await mlcache(['env', '--format', 'github', '--root', root]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('GITHUB_ENV');
  });

  it('compose prints a service with the user, the environment and the volumes', async () => {
    const r = await mlcache(['env', '--format', 'compose', '--root', root]);
    const doc = JSON.parse(execFileSync('python3', ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))'], { input: r.stdout, encoding: 'utf8' }));
    expect(doc.services.app.user).toBe('${UID}:${GID}');
    expect(doc.services.app.environment.HF_HUB_CACHE).toBe('/cache/huggingface/hub');
    expect(doc.services.app.volumes[1]).toEqual({ type: 'bind', source: `${root}/.cache/torch`.replace(/\$/g, '$$$$'), target: '/cache/torch' });
  });

  it('without a hardware cache: CONFIG_NOT_FOUND (exit 3) with the bootstrap hint', async () => {
    const r = await mlcache(['env'], { cwd: os.tmpdir() === home ? '/' : os.tmpdir() });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('mlcache bootstrap');
  });
});
