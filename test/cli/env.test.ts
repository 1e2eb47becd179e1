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
