/**
 * A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution 2.8.2) started with
 * `docker-registry serve config.yml` on 127.0.0.1 and a free port, filesystem storage in a temp
 * folder, deletes enabled, no auth. `.ci/run` installs the package when it is missing; a missing
 * binary FAILS the test (no skipping).
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

function config(root: string, port: number): string {
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
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`docker-registry did not answer GET /v2/ within 20 s:\n${output()}`);
}

export async function launchRealRegistry(): Promise<RealRegistry> {
  if (!existsSync(DOCKER_REGISTRY_BIN)) {
    throw new Error(`${DOCKER_REGISTRY_BIN} is missing: these tests need Debian's docker-registry package (apt-get install docker-registry; .ci/run installs it).`);
  }
  const root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-registry-'));
  let lastError: unknown;
  // A port picked then closed can be taken by someone else before the registry binds it: retry.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const configPath = path.join(root, 'config.yml');
    await writeFile(configPath, config(path.join(root, 'storage'), port));
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

export async function startRealRegistry(): Promise<RealRegistry> {
  const registry = await launchRealRegistry();
  onTestFinished(() => registry.stop());
  return registry;
}

export function useRealRegistry(): () => RealRegistry {
  let registry: RealRegistry | undefined;
  beforeAll(async () => {
    registry = await launchRealRegistry();
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
  });
  return () => {
    if (!registry) throw new Error('useRealRegistry(): only available inside tests (after beforeAll).');
    return registry;
  };
}
