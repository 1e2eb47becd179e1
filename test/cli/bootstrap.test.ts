/**
 * `mlcache bootstrap` end to end: the spawned CLI (node bin/mlcache.js, built by `npm run build`)
 * in a temp root, with the prompt driven through a real pseudo-terminal (python3's pty module).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HardwareCacheSchema } from '../../src/config/hardware-cache.js';
import { BIN, ensureBuilt, execCli } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';


/** Drives a command in a pty, answers `answer` once the question appears, prints what the terminal showed. */
const PTY_DRIVER = String.raw`
import os, pty, sys, select, time
answer, cmd = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
out, sent, deadline = b'', False, time.time() + 25
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if fd in r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
        if not sent and b'Cache models now? [y/N]' in out:
            os.write(fd, (answer + '\r').encode())
            sent = True
if time.time() >= deadline:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf8', 'replace'))
sys.exit(os.waitstatus_to_exitcode(status))
`;

const hub = useEmulator({
  repos: [{ id: 'org/tiny-model', revisions: [{ refs: ['main'], files: [{ path: 'config.json', content: '{"tiny":true}' }, { path: 'model.bin', generated: { size: 20_000 } }] }] }],
});

let root: string;
let home: string;
let catalog: string;

beforeAll(() => {
  ensureBuilt();
});

beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'mlcache-bs-home-'));
  root = path.join(home, 'project root');
  catalog = path.join(home, 'catalog.json');
  await writeFile(catalog, JSON.stringify({ version: 1, groups: { testgroup: { description: 'test', entries: [{ repo: 'org/tiny-model', purpose: 'a tiny stand-in' }] } } }));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

/** A clean environment: no CI markers, no ambient caches or tokens, PATH without GPU tools. */
function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, HF_ENDPOINT: hub().url, MLCACHE_CATALOG: catalog, ...extra };
}

function mlcache(args: string[], extra: Record<string, string> = {}) {
  return execCli(args, { env: cliEnv(extra), cwd: home });
}

/** Run through the pty driver, asynchronously: the emulator lives in this process and must keep answering. */
function inTerminal(answer: string, args: string[], extra: Record<string, string> = {}): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn('python3', ['-c', PTY_DRIVER, answer, process.execPath, BIN, ...args], { env: cliEnv(extra), cwd: home });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('close', (status) => resolve({ status, stdout }));
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the file's loose JSON, edited freely by the tests
type ConfigJson = Record<string, any>;

const configFile = () => path.join(root, 'config', 'hardware_cache.json');
const readConfig = async () => JSON.parse(await readFile(configFile(), 'utf8')) as ConfigJson;

describe('mlcache bootstrap', () => {
  it('creates the tree and a valid hardware_cache.json with the pipeline cache block; off a TTY it never prompts', async () => {
    const r = await mlcache(['bootstrap', '--root', root]);
    expect(r.code, r.stderr).toBe(0);
    for (const d of ['.cache/torch', '.cache/huggingface/hub', '.cache/mlx']) expect(existsSync(path.join(root, d)), d).toBe(true);
    const config = await readConfig();
    expect(HardwareCacheSchema.safeParse(config).success).toBe(true);
    expect(config.cache).toEqual({ base_dir: '.cache', torch_home: '.cache/torch', hf_home: '.cache/huggingface', mlx_home: '.cache/mlx', application_caches: {} });
    expect(config.hardware).toMatchObject({ platform: process.platform, has_cuda: expect.any(Boolean), has_mps: expect.any(Boolean), has_mlx: expect.any(Boolean) });
    expect(config.recommendations.device.reason).toEqual(expect.any(String));
    // Not a TTY: no question, and the command to run later.
    expect(r.stdout).not.toContain('Cache models now?');
    expect(r.stdout).toContain(`mlcache bootstrap --root '${root}' --cache-models --all`);
    expect(r.stdout).toContain(`HF_HUB_CACHE=${root}/.cache/huggingface/hub`);
    expect(existsSync(path.join(root, '.cache/huggingface/hub/models--org--tiny-model'))).toBe(false);
    // The disk line on the screen is in the unit of the file beside it (GiB, disk_free_gb).
    if (typeof config.hardware.disk_free_gb === 'number') expect(r.stdout).toContain(`Disk     ${(config.hardware.disk_free_gb as number).toFixed(1)} GiB free`);
  });

  it('a second run refreshes the hardware and keeps the user edits and unknown keys', async () => {
    expect((await mlcache(['bootstrap', '--root', root, '--skip-cache'])).code).toBe(0);
    const first = await readConfig();
    first.cache.torch_home = 'shared/torch';
    first.cache.application_caches = { tmdb: 'out/tmdb_cache' };
    first.environments = { whisperx: { path: 'venv/whisperx' } };
    first.created_at = '2020-01-01T00:00:00Z';
    first.hardware.cpu_brand = 'edited by hand';
    await writeFile(configFile(), JSON.stringify(first));
    const r = await mlcache(['bootstrap', '--root', root, '--skip-cache', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { configAction: string; environment: Record<string, string> };
    expect(result.configAction).toBe('updated');
    expect(result.environment.TORCH_HOME).toBe(path.join(root, 'shared/torch'));
    const second = await readConfig();
    expect(second.cache.torch_home).toBe('shared/torch');
    expect(second.cache.application_caches).toEqual({ tmdb: 'out/tmdb_cache' });
    expect(second.environments).toEqual({ whisperx: { path: 'venv/whisperx' } });
    expect(second.created_at).toBe('2020-01-01T00:00:00Z');
    expect(second.updated_at).not.toBe('2020-01-01T00:00:00Z');
    expect(second.hardware.cpu_brand).not.toBe('edited by hand');
    expect(existsSync(path.join(root, 'shared/torch'))).toBe(true);
  });

  it('refuses a malformed file (exit 3, the JSON path on stderr); --force rewrites it and keeps a backup', async () => {
    expect((await mlcache(['bootstrap', '--root', root, '--skip-cache'])).code).toBe(0);
    const config = await readConfig();
    config.cache.torch_home = 42;
    const broken = JSON.stringify(config);
    await writeFile(configFile(), broken);
    const refused = await mlcache(['bootstrap', '--root', root, '--skip-cache']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(configFile());
    expect(refused.stderr).toContain('cache.torch_home: expected string');
    expect(refused.stderr).toContain('--force');
    expect(await readFile(configFile(), 'utf8')).toBe(broken);

    await writeFile(configFile(), '{ "version": "1.0.0",\n  "cache": }');
    const badJson = await mlcache(['bootstrap', '--root', root, '--skip-cache']);
    expect(badJson.code).toBe(3);
    expect(badJson.stderr).toMatch(/line 2, column 12/);

    const forced = await mlcache(['bootstrap', '--root', root, '--skip-cache', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    const files = await readdir(path.join(root, 'config'));
    const backup = files.find((f) => f.startsWith('hardware_cache.json.bak-'));
    expect(backup).toBeDefined();
    expect(await readFile(path.join(root, 'config', backup!), 'utf8')).toBe('{ "version": "1.0.0",\n  "cache": }');
    expect(HardwareCacheSchema.safeParse(await readConfig()).success).toBe(true);
  });

  it('on a terminal it shows the plan and asks; "n" caches nothing', async () => {
    const r = await inTerminal('n', ['bootstrap', '--root', root, '--group', 'testgroup']);
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toContain('org/tiny-model');
    expect(r.stdout).toMatch(/Cache models now\? \[y\/N\]/);
    expect(r.stdout).toContain('answered no');
    expect(existsSync(path.join(root, '.cache/huggingface/hub/models--org--tiny-model'))).toBe(false);
  });

  it('on a terminal with no network, the plan says the entry could not be planned, never "already cached"', async () => {
    const r = await inTerminal('n', ['bootstrap', '--root', root, '--group', 'testgroup'], { HF_ENDPOINT: 'http://127.0.0.1:9' });
    expect(r.status, r.stdout).toBe(0);
    const line = r.stdout.split(/\r?\n/).find((l) => l.includes('org/tiny-model'));
    expect(line).toMatch(/\?\s+error: .*127\.0\.0\.1:9/);
    expect(r.stdout).not.toContain('already cached');
    expect(r.stdout).toContain('1 entry could not be planned (size unknown)');
  });

  it('on a terminal, "y" caches the selected group into the project', async () => {
    const r = await inTerminal('y', ['bootstrap', '--root', root, '--group', 'testgroup']);
    expect(r.status, r.stdout).toBe(0);
    const snapshots = path.join(root, '.cache/huggingface/hub/models--org--tiny-model/snapshots');
    const [commit] = await readdir(snapshots);
    expect(commit).toBe(hub().commitOf('org/tiny-model', 'main'));
    expect((await readFile(path.join(snapshots, commit!, 'config.json'), 'utf8'))).toBe('{"tiny":true}');
  });

  it('--cache-models caches the selected test group against the emulator without asking', async () => {
    const r = await mlcache(['bootstrap', '--root', root, '--cache-models', '--group', 'testgroup', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { caching: { status: string; result: { entries: Array<{ name: string; status: string }> } } };
    expect(result.caching.status).toBe('done');
    expect(result.caching.result.entries).toEqual([expect.objectContaining({ status: 'fetched' })]);
    expect(existsSync(path.join(root, '.cache/huggingface/hub/models--org--tiny-model/refs/main'))).toBe(true);
  });

  it('a caching failure keeps the bootstrap, exits 1 and says how to retry', async () => {
    const r = await mlcache(['bootstrap', '--root', root, '--cache-models', '--group', 'testgroup'], { HF_ENDPOINT: 'http://127.0.0.1:9' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('retry the caching with');
    expect(r.stdout).toContain('--cache-models --group testgroup');
    expect(HardwareCacheSchema.safeParse(await readConfig()).success).toBe(true);
  });
});
