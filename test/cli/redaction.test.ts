/**
 * Secrets never leave (issue 14 point 4): every command of `mlcache --help` runs through the real
 * binary — as a person sees it, with --json where it has it, and on an error path with --verbose —
 * with an HF token (HF_TOKEN and --token), a registry token (MLCACHE_REGISTRY_TOKEN and
 * --registry-token) and a proxy password (HTTPS_PROXY / HTTP_PROXY) set, and none of them appears
 * anywhere in stdout or stderr. NO_PROXY=127.0.0.1 lets the loopback Hub and registry emulators
 * answer, so each command really does its work; hosts that are not loopback go to the proxy, on a
 * port where nothing listens, which is the error path that names the proxy.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryEmulator, type RegistryEmulator } from '../../src/emulator/index.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';

const alnum = (n: number) =>
  [...randomBytes(n)].map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62]).join('');
const HF_TOKEN = `hf_${alnum(34)}`;
const REGISTRY_TOKEN = `reg-${alnum(24)}`;
const PROXY_PASSWORD = `pw-${alnum(20)}`;
/** The forms a leak could take: as is, and the Basic credentials undici sends to the proxy. */
const SECRETS = [HF_TOKEN, REGISTRY_TOKEN, PROXY_PASSWORD, Buffer.from(`proxyuser:${PROXY_PASSWORD}`).toString('base64')];

const hub = useEmulator(() => ({
  tokens: [HF_TOKEN],
  repos: [
    {
      id: 'org/tiny',
      revisions: [{ refs: ['main'], files: [{ path: 'config.json', content: '{"a":1}' }, { path: 'model.bin', generated: { size: 40_000, seed: 7 } }] }],
    },
  ],
}));

let tmp: string;
let project: string;
let registry: RegistryEmulator;
let proxyPort: number;

/** A loopback port where nothing listens (bound, then closed): connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  ensureBuilt();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcache-redaction-'));
  project = path.join(tmp, 'project');
  await mkdir(path.join(project, 'config'), { recursive: true });
  await writeFile(path.join(project, 'config', 'models.json'), JSON.stringify({ groups: { tiny: { entries: [{ repo: 'org/tiny', purpose: 'test' }] } } }));
  registry = await createRegistryEmulator({ auth: 'bearer', staticTokens: { [REGISTRY_TOKEN]: 'ci' }, users: { ci: { password: `unused-${alnum(12)}` } } });
  proxyPort = await closedPort();
});

afterAll(async () => {
  await registry?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface Ran {
  args: string[];
  exitCode: number;
  out: string;
}

const ran: Ran[] = [];

async function mlcache(args: string[], extraEnv: Record<string, string> = {}): Promise<Ran> {
  const proxy = `http://proxyuser:${PROXY_PASSWORD}@127.0.0.1:${proxyPort}`;
  const result = await runCli(args, {
    cwd: project,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: tmp,
      NO_COLOR: '1',
      HF_HUB_CACHE: path.join(tmp, 'hub'),
      TORCH_HOME: path.join(tmp, 'torch'),
      HF_ENDPOINT: hub().url,
      HF_TOKEN,
      MLCACHE_REGISTRY_TOKEN: REGISTRY_TOKEN,
      HTTPS_PROXY: proxy,
      HTTP_PROXY: proxy,
      NO_PROXY: '127.0.0.1,localhost',
      ...extraEnv,
    },
  });
  const entry = { args, exitCode: result.exitCode ?? -1, out: `${String(result.stdout)}\n${String(result.stderr)}` };
  ran.push(entry);
  for (const secret of SECRETS) {
    if (entry.out.includes(secret)) throw new Error(`mlcache ${args.join(' ')} printed a secret:\n${entry.out}`);
  }
  return entry;
}

/** Runs and expects success (the command did its work, so its output is the real one). */
async function ok(args: string[], extraEnv?: Record<string, string>): Promise<Ran> {
  const r = await mlcache(args, extraEnv);
  expect(r.exitCode, `mlcache ${args.join(' ')}\n${r.out}`).toBe(0);
  return r;
}

/** Runs an error path with --verbose: a failure with its message, and no secret. */
async function fails(args: string[]): Promise<Ran> {
  const r = await mlcache([...args, '--verbose']);
  expect(r.exitCode, `mlcache ${args.join(' ')}\n${r.out}`).not.toBe(0);
  expect(r.out).toMatch(/error/);
  return r;
}

const reg = () => `oci://${registry.registry}/models/org/tiny`;

describe('no secret in any output, for every command', () => {
  it('bootstrap, env, run', async () => {
    await ok(['bootstrap', '--root', project, '--skip-cache']);
    await ok(['bootstrap', '--root', project, '--skip-cache', '--json', '--token', HF_TOKEN]);
    await ok(['env']);
    await ok(['env', '--format', 'json']);
    await ok(['run', '--', process.execPath, '-e', 'process.exit(0)']);
    const spawnFailed = await mlcache(['run', '--verbose', '--', path.join(tmp, 'no-such-program')]);
    expect(spawnFailed.exitCode).not.toBe(0);
  }, 120_000);

  it('download, cache-models, lock, cache-key, outdated (the token is sent and accepted)', async () => {
    const human = await ok(['download', 'org/tiny']);
    expect(human.out).toContain('models--org--tiny');
    await ok(['download', 'org/tiny', '--json']);
    await ok(['download', 'org/tiny', '--token', HF_TOKEN, '--quiet']);
    await ok(['cache-models', '--group', 'tiny']);
    await ok(['cache-models', '--group', 'tiny', '--json']);
    await ok(['cache-models', '--group', 'tiny', '--dry-run']);
    await ok(['lock', '--group', 'tiny']);
    await ok(['lock', '--group', 'tiny', '--json']);
    await ok(['cache-key']);
    await ok(['cache-key', '--paths']);
    await ok(['outdated']);
    await ok(['outdated', '--json']);
  }, 240_000);

  it('status, verify, offline-check, doctor', async () => {
    await ok(['status']);
    await ok(['status', '--json']);
    await ok(['status', '--registry', reg().replace(/\/org\/tiny$/, ''), '--registry-token', REGISTRY_TOKEN, '--json']);
    await ok(['verify']);
    await ok(['verify', '--json']);
    await ok(['offline-check', '--group', 'tiny']);
    await ok(['offline-check', '--group', 'tiny', '--json']);
    const doctor = await ok(['doctor']);
    // doctor names the proxy in effect, without its password.
    expect(doctor.out).toContain(`127.0.0.1:${proxyPort}`);
    await ok(['doctor', '--json']);
  }, 240_000);

  it('push, pull, export, import', async () => {
    await ok(['push', 'org/tiny', reg()]);
    await ok(['push', 'org/tiny', reg(), '--json', '--registry-token', REGISTRY_TOKEN]);
    await ok(['pull', `${reg()}:main`, '--cache-dir', path.join(tmp, 'hub-pulled')]);
    await ok(['pull', `${reg()}:main`, '--cache-dir', path.join(tmp, 'hub-pulled'), '--json']);
    const bundle = path.join(tmp, 'bundle.tar');
    await ok(['export', 'org/tiny', bundle]);
    await ok(['export', 'org/tiny', path.join(tmp, 'bundle2.tar'), '--json']);
    await ok(['import', bundle, '--cache-dir', path.join(tmp, 'hub-imported')]);
    await ok(['import', bundle, '--cache-dir', path.join(tmp, 'hub-imported'), '--json']);
  }, 240_000);

  it('prune and rm', async () => {
    await ok(['prune', '--dry-run']);
    await ok(['prune', '--dry-run', '--json']);
    await ok(['rm', 'org/tiny', '--dry-run']);
    await ok(['rm', 'org/tiny', '--dry-run', '--json']);
    await ok(['rm', 'org/tiny', '--yes', '--json', '--cache-dir', path.join(tmp, 'hub-imported')]);
  }, 120_000);

  // Some of these may succeed or fail depending on the command's leniency; the point is their output.
  it('error paths with --verbose: through the proxy, a refused registry token, a missing repo, a usage error', async () => {
    // Not loopback: through the proxy, where nothing listens. The message names the proxy.
    const proxied = await fails(['download', 'org/tiny', '--endpoint', 'http://hub.invalid.example']);
    expect(proxied.out).toContain(`127.0.0.1:${proxyPort}`);
    await fails(['download', 'org/tiny', '--endpoint', 'http://hub.invalid.example', '--json']);
    await fails(['cache-models', '--group', 'tiny', '--endpoint', 'http://hub.invalid.example', '--json']);
    await fails(['lock', '--group', 'tiny', '--endpoint', 'http://hub.invalid.example', '--upgrade']);
    await fails(['outdated', '--endpoint', 'http://hub.invalid.example']);
    const doctor = await mlcache(['doctor', '--endpoint', 'http://hub.invalid.example', '--json']);
    expect(doctor.exitCode).not.toBe(0);
    await fails(['download', 'org/missing']);
    await fails(['pull', `${reg()}:nothing`]);
    await fails(['push', 'org/tiny', reg(), '--registry-token', `${REGISTRY_TOKEN}-wrong`]);
    await mlcache(['status', '--registry', `oci://${registry.registry}/models`, '--registry-token', `${REGISTRY_TOKEN}x`, '--json', '--verbose']);
    await mlcache(['verify', 'org/not-cached', '--json', '--verbose']);
    await fails(['offline-check', '--group', 'nope']);
    await fails(['prune', '--catalog', path.join(tmp, 'missing.json')]);
    await fails(['rm', 'org/not-cached']);
    await fails(['export', 'org/not-cached', path.join(tmp, 'x.tar')]);
    await fails(['import', path.join(tmp, 'missing.tar')]);
    await fails(['env', '--root', path.join(tmp, 'no-project'), '--format', 'json']);
    await fails(['cache-key', '--lockfile', path.join(tmp, 'missing.lock')]);
    await mlcache(['bootstrap', '--root', project, '--skip-cache', '--catalog', path.join(tmp, 'missing.json'), '--verbose']);
    await fails(['download', '--token', HF_TOKEN, '--no-such-flag']);
    // A secret pasted where a value goes is echoed by the error: the door masks it even there.
    const pasted = await fails(['download', `${REGISTRY_TOKEN}/x--y`]);
    expect(pasted.out).toContain("Invalid repo id '***/x--y'");
    await fails(['download', 'org/tiny', '--connections', PROXY_PASSWORD]);
  }, 300_000);

  it('ran every command of `mlcache --help`', async () => {
    const help = await ok(['--help']);
    const commands = [...help.out.matchAll(/^ {2}([a-z][a-z-]+) /gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands.length).toBeGreaterThanOrEqual(18);
    const covered = new Set(ran.map((r) => r.args[0]));
    expect(commands.filter((c) => !covered.has(c))).toEqual([]);
  });
});
