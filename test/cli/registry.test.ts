/**
 * `mlcache push` / `mlcache pull` as a person and a script meet them, with the real binary, a real
 * registry (Debian's docker-registry) and the Hub emulator: stdout carries only the reference or the
 * snapshot path, --json ends with a result line, expected failures are one sentence with a hint and
 * a documented exit code, a token never appears, a push killed mid-upload sends only what is still
 * missing on the next run, and a pull stopped by SIGTERM resumes.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/errors.js';
import { describeRepoFolder } from '../helpers/cache-tree.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';
import { useRealRegistry } from '../helpers/real-registry.js';

const MiB = 1024 * 1024;
const hub = useEmulator(() => ({
  repos: [
    {
      id: 'acme/tiny',
      revisions: [{ refs: ['main'], files: [{ path: 'config.json', content: '{"x":1}' }, { path: 'model.safetensors', generated: { size: 12 * MiB, seed: 3 } }] }],
    },
    {
      id: 'acme/two',
      revisions: [{ refs: ['main'], files: [{ path: 'a.safetensors', generated: { size: 12 * MiB, seed: 4 } }, { path: 'b.safetensors', generated: { size: 12 * MiB, seed: 5 } }] }],
    },
  ],
}));
const real = useRealRegistry();
const SECRET = 'registry-secret-token-5f1e0c';

let root: string;
beforeAll(() => ensureBuilt());
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-regcli-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const env = () => ({ HOME: root, PATH: process.env.PATH ?? '', NO_COLOR: '1' });
const cache = (name: string) => path.join(root, name);
const mlcache = (args: string[]) => runCli(args, { env: env() });

async function downloaded(name: string): Promise<string> {
  const r = await mlcache(['download', 'acme/tiny', '--endpoint', hub().url, '--cache-dir', cache(name), '--quiet']);
  expect(r.exitCode).toBe(0);
  return cache(name);
}

describe('mlcache push / pull on the command line', () => {
  it('stdout is the pushed reference, then the pulled snapshot path; --json ends with a result; no token anywhere', async () => {
    await downloaded('a');
    const target = `oci://${real().registry}/models/acme/tiny`;
    const pushed = await mlcache(['push', 'acme/tiny', target, '--cache-dir', cache('a'), '--registry-token', SECRET]);
    expect(pushed.exitCode).toBe(0);
    expect(pushed.stdout).toMatch(new RegExp(`^oci://${real().registry}/models/acme/tiny:main@sha256:[0-9a-f]{64}$`));
    expect(`${pushed.stdout}${pushed.stderr}`).not.toContain(SECRET);

    const pulled = await mlcache(['pull', `${target}:main`, '--cache-dir', cache('b'), '--quiet']);
    expect(pulled.exitCode).toBe(0);
    expect(pulled.stderr).toBe('');
    expect(pulled.stdout).toMatch(/models--acme--tiny\/snapshots\/[0-9a-f]{40}$/);
    expect(await describeRepoFolder(path.join(cache('b'), 'models--acme--tiny'))).toEqual(await describeRepoFolder(path.join(cache('a'), 'models--acme--tiny')));

    const json = await mlcache(['pull', `${target}:main`, '--cache-dir', cache('b'), '--json']);
    expect(json.exitCode).toBe(0);
    const last = JSON.parse(json.stdout.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ type: 'result', repoId: 'acme/tiny', bytesFetched: 0, revision: 'main' });
  });

  it.each([
    ['a reference that is not oci://', ['pull', 'docker://x/y:z'], EXIT.USAGE, /oci:\/\//],
    ['a tag that is not there', ['pull', 'REG/models/nothing/here:v9'], EXIT.NOT_FOUND, /not found|no manifest|does not/i],
    ['a repo the cache does not hold', ['push', 'acme/absent', 'REG/models/acme/absent'], EXIT.CACHE_DAMAGED, /mlcache download/],
    ['a push to a digest', ['push', 'acme/tiny', `REG/models/acme/tiny@sha256:${'a'.repeat(64)}`], EXIT.USAGE, /tag/],
    ['a bad chunk size', ['push', 'acme/tiny', 'REG/x', '--chunk-size', 'lots'], EXIT.USAGE, /--chunk-size/],
  ])('%s: one error sentence, a hint, the documented exit code, no stack', async (_what, args, code, hint) => {
    const withRegistry = args.map((a) => a.replace('REG', `oci://${real().registry}`));
    const r = await mlcache([...withRegistry, '--cache-dir', cache('a')]);
    expect(r.exitCode).toBe(code);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error: '))).toHaveLength(1);
    expect(r.stderr).toMatch(/hint: /);
    expect(r.stderr).toMatch(hint);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a push killed mid-upload keeps what the registry has: the next run sends only the layers still missing', async () => {
    const r = await mlcache(['download', 'acme/two', '--endpoint', hub().url, '--cache-dir', cache('a'), '--quiet']);
    expect(r.exitCode).toBe(0);
    const target = `oci://${real().registry}/models/acme/two`;
    const child = runCli(['push', 'acme/two', target, '--cache-dir', cache('a'), '--chunk-size', '1MB', '--jobs', '1'], { env: env() });
    // Kill once the first big layer is in the registry (each finished layer is remembered as it lands).
    const log = path.join(cache('a'), '.locks', 'mlcache-registry', real().registry.replace(':', '_'), 'blobs.log');
    const deadline = Date.now() + 30_000;
    while (((await readFile(log, 'utf8').catch(() => '')).match(/\n/g) ?? []).length < 2) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('the push did not get one layer into the registry in time');
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    expect((await child).signal).toBe('SIGKILL');
    const again = await mlcache(['push', 'acme/two', target, '--cache-dir', cache('a'), '--chunk-size', '1MB', '--json']);
    expect(again.exitCode).toBe(0);
    const result = JSON.parse(again.stdout.trim().split('\n').at(-1)!);
    expect(result.layersPresent).toBeGreaterThanOrEqual(1);
    expect(result.bytesUploaded).toBeLessThanOrEqual(12 * MiB);
    const pulled = await mlcache(['pull', `${target}:main`, '--cache-dir', cache('c'), '--quiet']);
    expect(pulled.exitCode).toBe(0);
    expect(await describeRepoFolder(path.join(cache('c'), 'models--acme--two'))).toEqual(await describeRepoFolder(path.join(cache('a'), 'models--acme--two')));
  });

  it('a pull stopped by SIGTERM exits 143, keeps what it has, and the next run finishes the same cache', async () => {
    await downloaded('a');
    const target = `oci://${real().registry}/models/acme/resume-pull`;
    expect((await mlcache(['push', 'acme/tiny', target, '--cache-dir', cache('a')])).exitCode).toBe(0);
    const child = runCli(['pull', `${target}:main`, '--cache-dir', cache('b'), '--max-rate', '2MB'], { env: env() });
    // SIGTERM once the big blob's partial file exists (however slowly this machine starts the run).
    const blobsDir = path.join(cache('b'), 'models--acme--tiny', 'blobs');
    const deadline = Date.now() + 30_000;
    while (!(await readdir(blobsDir).catch(() => [] as string[])).some((n) => n.endsWith('.incomplete'))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('the pull wrote no partial file in time');
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    const stopped = await child;
    expect(stopped.exitCode).toBe(EXIT.TERMINATED);
    expect(stopped.stderr).toMatch(/run the same command again/i);
    const blobs = await readdir(path.join(cache('b'), 'models--acme--tiny', 'blobs'));
    expect(blobs.some((n) => n.endsWith('.incomplete'))).toBe(true);
    const again = await mlcache(['pull', `${target}:main`, '--cache-dir', cache('b'), '--json']);
    expect(again.exitCode).toBe(0);
    const result = JSON.parse(again.stdout.trim().split('\n').at(-1)!);
    expect(result.bytesFetched).toBeLessThan(12 * MiB);
    expect(await describeRepoFolder(path.join(cache('b'), 'models--acme--tiny'))).toEqual(await describeRepoFolder(path.join(cache('a'), 'models--acme--tiny')));
  });
});
