/**
 * A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution 2.8.2) started with
 * `docker-registry serve config.yml` on 127.0.0.1 and a free port, filesystem storage in a temp
 * folder, deletes enabled, no auth — or, with `{ basicAuth: true }`, distribution's htpasswd Basic
 * auth for REAL_REGISTRY_USER / REAL_REGISTRY_PASSWORD. `.ci/run` installs the package when it is
 * missing; a missing binary FAILS the test (no skipping).
 *
 * - `startRealRegistry()` inside a test stops it when that test finishes.
 * - `useRealRegistry()` at file/describe level runs one through beforeAll/afterAll.
 * The process is killed on teardown, and on exit of the test worker if teardown never ran.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, onTestFinished } from 'vitest';

export const DOCKER_REGISTRY_BIN = '/usr/bin/docker-registry';

export const REAL_REGISTRY_USER = 'mlcache';
export const REAL_REGISTRY_PASSWORD = 'mlcache-test-Pa55';
/**
 * bcrypt (the only scheme distribution's htpasswd accepts) of REAL_REGISTRY_PASSWORD, cost 5,
 * computed once with libxcrypt (Python's `crypt.crypt(pw, crypt.mksalt(crypt.METHOD_BLOWFISH))`)
 * so the tests need no htpasswd tool or bcrypt package.
 */
const HTPASSWD_LINE = `${REAL_REGISTRY_USER}:$2b$05$tJQDgf.SwbmP2.cBEmWmY.HV.kmDxzZyUKXd5ZeCm8qF5Z6lJO9ie`;

export interface RealRegistryOptions {
  /** htpasswd Basic auth (distribution `auth.htpasswd`). @default false */
  basicAuth?: boolean;
}

export interface RealRegistry {
  /** `127.0.0.1:<port>` (what goes after oci://). */
  registry: string;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The storage folder. */
  root: string;
  /** What the registry wrote to stderr/stdout (for a failing test's message). */
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function config(root: string, port: number, htpasswd: string | undefined): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${root}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: mlcache-test-secret',
    ...(htpasswd !== undefined ? ['auth:', '  htpasswd:', '    realm: mlcache-test', `    path: ${htpasswd}`] : []),
    '',
  ].join('\n');
}

async function waitForRegistry(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode} before answering:\n${output()}`);
    try {
      const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      // 401: a registry with auth is up (it asks for credentials).
      if (response.status === 200 || response.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`docker-registry did not answer GET /v2/ within 20 s:\n${output()}`);
}

export async function launchRealRegistry(options: RealRegistryOptions = {}): Promise<RealRegistry> {
  if (!existsSync(DOCKER_REGISTRY_BIN)) {
    throw new Error(`${DOCKER_REGISTRY_BIN} is missing: these tests need Debian's docker-registry package (apt-get install docker-registry; .ci/run installs it).`);
  }
  const root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-registry-'));
  let htpasswd: string | undefined;
  if (options.basicAuth === true) {
    htpasswd = path.join(root, 'htpasswd');
    await writeFile(htpasswd, `${HTPASSWD_LINE}\n`);
  }
  let lastError: unknown;
  // A port picked then closed can be taken by someone else before the registry binds it: retry.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const configPath = path.join(root, 'config.yml');
    await writeFile(configPath, config(path.join(root, 'storage'), port, htpasswd));
    let log = '';
    const child = spawn(DOCKER_REGISTRY_BIN, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
    child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
    running.add(child);
    installExitHook();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
    };
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForRegistry(url, child, () => log);
      return {
        registry: `127.0.0.1:${port}`,
        url,
        root,
        output: () => log,
        async stop() {
          await stop();
          await rm(root, { recursive: true, force: true });
        },
      };
    } catch (error) {
      lastError = error;
      await stop();
    }
  }
  await rm(root, { recursive: true, force: true });
  throw lastError;
}

export async function startRealRegistry(options: RealRegistryOptions = {}): Promise<RealRegistry> {
  const registry = await launchRealRegistry(options);
  onTestFinished(() => registry.stop());
  return registry;
}

export function useRealRegistry(options: RealRegistryOptions = {}): () => RealRegistry {
  let registry: RealRegistry | undefined;
  beforeAll(async () => {
    registry = await launchRealRegistry(options);
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
  });
  return () => {
    if (!registry) throw new Error('useRealRegistry(): only available inside tests (after beforeAll).');
    return registry;
  };
}
