/**
 * The first SIGINT or SIGTERM ends a run within a second or two, in every phase — planning (a Hub
 * request that never gets an answer), retrying (a 503 asking to wait 60 s), waiting for another
 * process's lock, and behind a proxy that never answers the CONNECT — with exit 130 (SIGINT) or
 * 143 (SIGTERM, what `timeout`, CI runners and `docker stop` send), the resume hint, and nothing
 * else: no stack trace, no Node warning.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIN, bootstrapProject, ensureBuilt } from '../helpers/cli.js';
import { startBrokenProxy } from '../helpers/broken-proxy.js';
import { useEmulator } from '../helpers/emulator.js';

beforeAll(() => ensureBuilt());

const hub = useEmulator(() => ({
  repos: [
    {
      id: 'acme/tiny',
      revisions: [{ refs: ['main'], files: [{ path: 'weights/model.safetensors', generated: { size: 200_000, seed: 7 } }] }],
    },
  ],
}));

let root: string;
const children: ChildProcess[] = [];
const servers: http.Server[] = [];
const cleanups: Array<() => Promise<unknown>> = [];
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-signals-'));
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  await Promise.all(cleanups.splice(0).map((c) => c()));
  await rm(root, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Resolves when stdout or stderr matches (bounded). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` once and resolves with the exit code and the ms from signal to exit. */
  interrupt(signal: 'SIGINT' | 'SIGTERM'): Promise<{ code: number | null; ms: number }>;
}

function start(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { HOME: root, PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env },
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const l of [...listeners]) l();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const l of [...listeners]) l();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // 'close' comes after 'exit', once both pipes have ended: the output is then complete.
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    child,
    output: () => ({ stdout, stderr }),
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout) || pattern.test(stderr)) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${String(pattern)} within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    async interrupt(signal) {
      const sent = Date.now();
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000); // bound the test; a pass needs < 2 s
      const code = await exited;
      const ms = Date.now() - sent;
      clearTimeout(timer);
      await closed;
      return { code, ms };
    },
  };
}

function expectCleanInterrupt(run: Run, result: { code: number | null; ms: number }, expectedCode: number): void {
  const { stdout, stderr } = run.output();
  expect(result.code, stderr).toBe(expectedCode);
  expect(result.ms).toBeLessThan(2000);
  expect(stderr).toContain('Run the same command again to resume');
  expect(stderr).not.toMatch(/Warning/);
  expect(stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(stderr).not.toContain('internal error');
  expect(stdout).not.toContain('"code":"INTERNAL"');
}

/** An HTTP server on loopback; `handler` decides per request. Resolves with its origin. */
async function server(handler: http.RequestListener): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const s = http.createServer((req, res) => {
    requests++;
    handler(req, res);
  });
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, requests: () => requests };
}

async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the first signal ends the run, in every phase', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('planning: a Hub API request that never gets an answer — %s → %i', async (signal, code) => {
    const api = await server(() => undefined); // accept, read, never answer
    const run = start(['download', 'acme/tiny', '--endpoint', api.url, '--cache-dir', path.join(root, 'hub')]);
    await until(() => api.requests() > 0);
    expectCleanInterrupt(run, await run.interrupt(signal), code);
  });

  it('retrying: the Hub answers 503 with Retry-After: 60 — SIGTERM → 143', async () => {
    const api = await server((_req, res) => res.writeHead(503, { 'retry-after': '60', 'content-type': 'text/plain' }).end('busy'));
    const run = start(['download', 'acme/tiny', '--endpoint', api.url, '--cache-dir', path.join(root, 'hub'), '--json']);
    await run.waitFor(/"type":"retry"/);
    expectCleanInterrupt(run, await run.interrupt('SIGTERM'), 143);
    expect(api.requests()).toBe(1);
  });

  it('behind a proxy that never answers the CONNECT — SIGTERM → 143', async () => {
    const proxy = await startBrokenProxy('hang');
    cleanups.push(() => proxy.close());
    const run = start(['download', 'acme/tiny', '--endpoint', 'https://hub.invalid', '--cache-dir', path.join(root, 'hub')], {
      HTTPS_PROXY: proxy.url,
      HTTP_PROXY: proxy.url,
    });
    await proxy.waitForConnects(1);
    expectCleanInterrupt(run, await run.interrupt('SIGTERM'), 143);
  });

  it('behind a proxy that closes the CONNECT without a reply — SIGINT → 130, after a handful of CONNECTs', async () => {
    const proxy = await startBrokenProxy('close');
    cleanups.push(() => proxy.close());
    const run = start(['download', 'acme/tiny', '--endpoint', 'https://hub.invalid', '--cache-dir', path.join(root, 'hub')], {
      HTTPS_PROXY: proxy.url,
      HTTP_PROXY: proxy.url,
    });
    await proxy.waitForConnects(1);
    expectCleanInterrupt(run, await run.interrupt('SIGINT'), 130);
    expect(proxy.connects).toBeLessThanOrEqual(3);
  });

  it("waiting for another process's lock on a blob — SIGTERM → 143, and the other process's lock is left alone", async () => {
    const cacheDir = path.join(root, 'hub');
    const digest = await hub().digestOf('acme/tiny', 'weights/model.safetensors');
    const lockFile = path.join(cacheDir, '.locks', 'models--acme--tiny', `${digest.etag}.lock`);
    await mkdir(path.dirname(lockFile), { recursive: true });
    // Held by a live process on this host (this test runner), with a fresh heartbeat.
    const holder = JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), nonce: 'held-by-the-test' });
    await writeFile(lockFile, holder);
    const run = start(['download', 'acme/tiny', '--endpoint', hub().url, '--cache-dir', cacheDir, '--json']);
    await run.waitFor(/"type":"waiting-for-lock"/);
    expectCleanInterrupt(run, await run.interrupt('SIGTERM'), 143);
    expect(await readFile(lockFile, 'utf8')).toBe(holder);
  });

  it('mlcache run relays the signal and waits: a child that takes 2.5 s to clean up decides the exit code', async () => {
    await bootstrapProject(root, root);
    const script = 'process.on("SIGTERM", () => setTimeout(() => { console.log("cleaned up"); process.exit(3); }, 2500)); console.log("ready"); setInterval(() => {}, 1000)';
    const run = start(['run', '--', process.execPath, '-e', script]);
    await run.waitFor(/ready/);
    const result = await run.interrupt('SIGTERM');
    expect(result.code, run.output().stderr).toBe(3);
    expect(result.ms).toBeGreaterThanOrEqual(2400);
    expect(run.output().stdout).toContain('cleaned up');
  });
});
