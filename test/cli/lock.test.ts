/** What a person sees from `mlcache lock`, `cache-models --frozen`, `cache-key` and `outdated`, and their exit codes. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureBuilt, execCli } from '../helpers/cli.js';
import { EMULATOR_TOKEN, useEmulator } from '../helpers/emulator.js';

const hub = useEmulator({
  repos: [
    {
      id: 'org/tiny',
      revisions: [
        { refs: ['main'], files: [{ path: 'config.json', content: '{"a":1}' }, { path: 'model.bin', generated: { size: 5000, seed: 1 } }] },
        { refs: ['next'], files: [{ path: 'config.json', content: '{"a":2}' }, { path: 'model.bin', generated: { size: 7000, seed: 2 } }, { path: 'extra.json', content: '{}' }] },
      ],
    },
  ],
});

let tmp: string;
let project: string;
let firstCommit = '';

beforeAll(() => {
  ensureBuilt();
  firstCommit = hub().commitOf('org/tiny', 'main');
});

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcache-cli-lock-'));
  project = path.join(tmp, 'project');
  await mkdir(path.join(project, 'config'), { recursive: true });
  await writeCatalog(['*.json', '*.bin']);
});

afterEach(async () => {
  hub().moveRef('org/tiny', 'main', firstCommit);
  await rm(tmp, { recursive: true, force: true });
});

async function writeCatalog(include: string[]): Promise<void> {
  await writeFile(path.join(project, 'config', 'models.json'), JSON.stringify({ groups: { tiny: { entries: [{ repo: 'org/tiny', purpose: 'test', include }] } } }));
}

function run(args: string[]) {
  return execCli(args, {
    cwd: project,
    env: { PATH: process.env.PATH, HOME: tmp, HF_HUB_CACHE: path.join(tmp, 'hub'), TORCH_HOME: path.join(tmp, 'torch'), HF_ENDPOINT: hub().url, HF_TOKEN: EMULATOR_TOKEN, NO_COLOR: '1' },
  });
}

describe('mlcache lock / cache-models --frozen / cache-key / outdated (CLI)', () => {
  it('locks, fetches frozen, refuses a catalog edit with exit 3 and a hint naming `mlcache lock`', async () => {
    const locked = await run(['lock', '--group', 'tiny']);
    expect(locked.code).toBe(0);
    expect(locked.stdout).toContain(`added    tiny/org/tiny @ ${firstCommit.slice(0, 12)} (2 files added, 0 removed, 0 changed;`);
    expect(locked.stdout).toContain(`Wrote ${path.join(project, 'config', 'mlcache.lock')} (1 entry).`);
    const again = await run(['lock']);
    expect(again.stdout).toContain('is up to date (1 entry); not rewritten.');

    const frozen = await run(['cache-models', '--frozen', '--quiet']);
    expect(frozen.stderr).toBe('');
    expect(frozen.code).toBe(0);

    await writeCatalog(['*.json']);
    const refused = await run(['cache-models', '--frozen']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('tiny/org/tiny: include changed in the catalog');
    expect(refused.stderr).toMatch(/hint: Run `mlcache lock`/);
    expect(refused.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const lockedRun = await run(['cache-models', '--locked']);
    expect(lockedRun.code).toBe(3);

    const both = await run(['cache-models', '--frozen', '--locked']);
    expect(both.code).toBe(2);
  });

  it('--help lists the new commands', async () => {
    const help = await run(['--help']);
    for (const command of ['lock', 'cache-key', 'outdated']) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('cache-key prints the key and --paths the folders; outdated names a moved ref and lock --upgrade takes it', async () => {
    expect((await run(['cache-key'])).code).toBe(3); // no lock yet: LOCK_NOT_FOUND
    await run(['lock', '--group', 'tiny']);
    const key = await run(['cache-key']);
    expect(key.stdout).toMatch(new RegExp(`^mlcache-${process.platform}-${process.arch}-[0-9a-f]{16}\\n$`));
    const other = await run(['cache-key', '--platform', 'darwin-arm64']);
    expect(other.stdout).toMatch(/^mlcache-darwin-arm64-/);
    expect((await run(['cache-key', '--platform', 'mac'])).code).toBe(2);
    expect((await run(['cache-key', '--paths'])).stdout).toBe(`${path.join(tmp, 'hub')}\n${path.join(tmp, 'torch')}\n`);

    expect((await run(['outdated'])).stdout).toBe('All 1 locked revisions still point at their locked commits.\n');
    hub().moveRef('org/tiny', 'main', 'next');
    const moved = await run(['outdated']);
    expect(moved.code).toBe(0);
    const next = hub().commitOf('org/tiny', 'next');
    expect(moved.stdout).toContain(`tiny/org/tiny: main moved ${firstCommit.slice(0, 12)} → ${next.slice(0, 12)} (1 files added, 0 removed, 2 changed;`);
    const upgraded = await run(['lock', '--upgrade']);
    expect(upgraded.stdout).toContain(`upgraded tiny/org/tiny ${firstCommit.slice(0, 12)} → ${next.slice(0, 12)} (1 files added, 0 removed, 2 changed;`);
    expect(await readFile(path.join(project, 'config', 'mlcache.lock'), 'utf8')).toContain(next);
    expect((await run(['cache-key'])).stdout).not.toBe(key.stdout);
  });
});
