/**
 * The precedence table of docs/cache-layout.md ("Which cache a command uses"), run as a person
 * does: every cache-touching command spawned from a subfolder of a bootstrapped project, with the
 * cache chosen by a flag, an explicit variable, the project's config/hardware_cache.json, or
 * huggingface_hub's default. Each row first downloads a repo into the cache it expects, so a
 * command that looked anywhere else would find nothing there and fail its check.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapProject, ensureBuilt, runCli } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';
import { closedPort } from '../helpers/net.js';

const hub = useEmulator({
  repos: [{ id: 'acme/tiny', revisions: [{ refs: ['main'], files: [{ path: 'config.json', content: '{"a":1}\n' }, { path: 'w.bin', generated: { size: 3000, seed: 3 } }] }] }],
});

let tmp: string;
let home: string;
let project: string;
let subfolder: string;
let outside: string;
let closed: string;

beforeAll(async () => {
  ensureBuilt();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcache-project-cache-'));
  home = path.join(tmp, 'home');
  project = path.join(tmp, 'project');
  subfolder = path.join(project, 'src', 'deep');
  outside = path.join(tmp, 'elsewhere');
  await mkdir(home, { recursive: true });
  await mkdir(outside, { recursive: true });
  await bootstrapProject(project, home);
  await mkdir(subfolder, { recursive: true });
  // A small project catalog, so `status`, `offline-check` and `cache-models` select one repo.
  await writeFile(path.join(project, 'config', 'models.json'), JSON.stringify({ groups: { tiny: { entries: [{ repo: 'acme/tiny', purpose: 'test' }] } } }));
  // The lock from the subfolder, as the team commits it: lands in the project's config/.
  const locked = await runCli(['lock', '--group', 'tiny'], { env: baseEnv(), cwd: subfolder });
  expect(locked.exitCode, locked.stderr).toBe(0);
  expect(locked.stdout).toContain(`Wrote ${path.join(project, 'config', 'mlcache.lock')}`);
  closed = (await closedPort()).replace('http://', '');
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function baseEnv(): Record<string, string> {
  return { HOME: home, PATH: process.env.PATH ?? '', HF_ENDPOINT: hub().url, NO_COLOR: '1' };
}

interface Row {
  name: string;
  cwd: () => string;
  env: () => Record<string, string>;
  flags: () => string[];
  /** The hub cache every command must use. */
  expected: () => string;
  /** How `Cache:` names its source. */
  label: () => string;
  /** The stderr note about a variable overriding the project, when there is one. */
  note: string | undefined;
}

const catalog = () => path.join(project, 'config', 'models.json');
const projectHub = () => path.join(project, '.cache', 'huggingface', 'hub');

const ROWS: Row[] = [
  {
    name: 'flag: --cache-dir beats HF_HUB_CACHE and the project',
    cwd: () => subfolder,
    env: () => ({ ...baseEnv(), HF_HUB_CACHE: path.join(tmp, 'var-hub-ignored') }),
    flags: () => ['--cache-dir', path.join(tmp, 'flag-hub')],
    expected: () => path.join(tmp, 'flag-hub'),
    label: () => `${path.join(tmp, 'flag-hub')} (--cache-dir)`,
    note: undefined,
  },
  {
    name: 'variable: HF_HUB_CACHE beats the project, with a note',
    cwd: () => subfolder,
    env: () => ({ ...baseEnv(), HF_HUB_CACHE: path.join(tmp, 'var-hub') }),
    flags: () => [],
    expected: () => path.join(tmp, 'var-hub'),
    label: () => `${path.join(tmp, 'var-hub')} (HF_HUB_CACHE)`,
    note: 'from HF_HUB_CACHE (an explicit variable wins), not this project',
  },
  {
    name: 'variable: HF_HOME beats the project, with a note',
    cwd: () => subfolder,
    env: () => ({ ...baseEnv(), HF_HOME: path.join(tmp, 'hf-home') }),
    flags: () => [],
    expected: () => path.join(tmp, 'hf-home', 'hub'),
    label: () => `${path.join(tmp, 'hf-home', 'hub')} (HF_HOME)`,
    note: 'from HF_HOME (an explicit variable wins), not this project',
  },
  {
    name: 'project: config/hardware_cache.json beats XDG_CACHE_HOME and the default',
    cwd: () => subfolder,
    env: () => ({ ...baseEnv(), XDG_CACHE_HOME: path.join(tmp, 'xdg') }),
    flags: () => [],
    expected: projectHub,
    label: () => `${projectHub()} (project ${project})`,
    note: undefined,
  },
  {
    name: 'default: outside any project, huggingface_hub’s ~/.cache/huggingface/hub',
    cwd: () => outside,
    env: baseEnv,
    flags: () => [],
    expected: () => path.join(home, '.cache', 'huggingface', 'hub'),
    label: () => path.join(home, '.cache', 'huggingface', 'hub'),
    note: undefined,
  },
];

describe('which cache each command uses, from a subfolder of a bootstrapped project', () => {
  for (const row of ROWS) {
    it(row.name, { timeout: 120_000 }, async () => {
      const run = (args: string[]) => runCli([...args, ...row.flags()], { env: row.env(), cwd: row.cwd() });
      const expected = row.expected();
      const seen = (result: { stderr: string }, command: string) => {
        expect(result.stderr.split('\n'), command).toContain(`Cache: ${row.label()}`);
        if (row.note === undefined) expect(result.stderr, command).not.toContain('note: ');
        else expect(result.stderr.split('\n').filter((l) => l.startsWith('note: ') && l.includes(row.note ?? '')), command).toHaveLength(1);
      };

      const download = await run(['download', 'acme/tiny']);
      expect(download.exitCode, download.stderr).toBe(0);
      expect(download.stdout.startsWith(path.join(expected, 'models--acme--tiny', 'snapshots'))).toBe(true);
      seen(download, 'download');

      const status = await run(['status', '--group', 'tiny', '--catalog', catalog()]);
      expect(status.exitCode, status.stderr).toBe(0);
      expect(status.stdout).not.toMatch(/missing/);
      seen(status, 'status');

      const verify = await run(['verify', 'acme/tiny']);
      expect(verify.exitCode, verify.stdout).toBe(0);
      expect(verify.stdout).toContain('2 files');
      seen(verify, 'verify');

      const offline = await run(['offline-check', '--model', 'acme/tiny']);
      expect(offline.exitCode, offline.stdout).toBe(0);
      seen(offline, 'offline-check');

      const plan = await run(['cache-models', '--model', 'acme/tiny', '--dry-run']);
      expect(plan.exitCode, plan.stderr).toBe(0);
      expect(plan.stdout).toMatch(/acme\/tiny.*cached/);
      seen(plan, 'cache-models');

      const prune = await run(['prune', '--dry-run']);
      expect(prune.exitCode, prune.stderr).toBe(0);
      seen(prune, 'prune');

      const removal = await run(['rm', 'acme/tiny', '--dry-run']);
      expect(removal.exitCode, removal.stderr).toBe(0);
      expect(removal.stdout).toContain('Would remove acme/tiny');
      seen(removal, 'rm');

      // export reads the snapshot from the cache (a wrong cache has none); import writes it back.
      const bundle = path.join(tmp, `${row.name.split(':')[0]!}.tar`);
      const exported = await run(['export', 'acme/tiny', bundle]);
      expect(exported.exitCode, exported.stderr).toBe(0);
      seen(exported, 'export');
      const imported = await run(['import', bundle]);
      expect(imported.exitCode, imported.stderr).toBe(0);
      expect(imported.stdout).toContain(path.join(expected, 'models--acme--tiny'));
      seen(imported, 'import');

      // push reads the snapshot from the cache before it talks to the registry: a closed port
      // fails on the network (exit 6), a wrong cache would fail first with "does not hold" (11).
      const push = await run(['push', 'acme/tiny', `oci://${closed}/acme/tiny`]);
      expect(push.stderr).toContain(`Reading acme/tiny from ${expected}`);
      expect(push.stderr).not.toContain('does not hold');
      expect(push.exitCode).toBe(6);
      seen(push, 'push');

      const pull = await run(['pull', `oci://${closed}/acme/tiny:main`, '--dry-run']);
      expect(pull.exitCode).toBe(6);
      seen(pull, 'pull');

      const registryStatus = await run(['status', '--group', 'tiny', '--catalog', catalog(), '--registry', `oci://${closed}`]);
      seen(registryStatus, 'status --registry');
      expect(registryStatus.stdout).not.toMatch(/missing/);

      // The lock is the project's wherever the cache is: lock, cache-key and outdated find
      // config/mlcache.lock from the subfolder (outside a project there is none).
      const lockArgs = (args: string[]) => runCli(args, { env: row.env(), cwd: row.cwd() });
      const key = await lockArgs(['cache-key']);
      const outdated = await lockArgs(['outdated']);
      if (row.cwd() === subfolder) {
        const lock = await lockArgs(['lock', '--group', 'tiny']);
        expect(key.exitCode, key.stderr).toBe(0);
        expect(key.stdout).toMatch(/^mlcache-/);
        expect(outdated.exitCode, outdated.stderr).toBe(0);
        expect(outdated.stdout).toContain('still point at their locked commits');
        expect(lock.exitCode, lock.stderr).toBe(0);
        expect(`${lock.stdout}${lock.stderr}`).toContain(path.join(project, 'config', 'mlcache.lock'));
      } else {
        expect(key.exitCode).not.toBe(0);
        expect(key.stderr).toContain(path.join(outside, 'mlcache.lock'));
      }
    });
  }
});

describe('the Cache: line leads real output, never a usage or catalog error', () => {
  for (const args of [
    ['status', '--group', 'nosuch'],
    ['verify', '--group', 'nosuch'],
    ['offline-check', '--group', 'nosuch'],
    ['cache-models', '--group', 'nosuch', '--dry-run'],
    ['cache-models', '--model', 'x y', '--dry-run'],
  ]) {
    it(`${args.join(' ')}: the error is the only thing said`, async () => {
      const result = await runCli(args, { env: baseEnv(), cwd: subfolder });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).not.toContain('Cache:');
      expect(result.stderr.split('\n').filter((l) => l !== '')[0]).toMatch(/^error: /);
    });
  }

  it('a command that runs says Cache: first', async () => {
    const result = await runCli(['status', '--group', 'tiny'], { env: baseEnv(), cwd: subfolder });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr.split('\n')[0]).toBe(`Cache: ${path.join(project, '.cache', 'huggingface', 'hub')} (project ${project})`);
  });
});
