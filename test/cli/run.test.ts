/** `mlcache run` through the spawned CLI: variables, exit codes and SIGTERM propagate. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, bootstrapProject, defaultCacheVariables, ensureBuilt } from '../helpers/cli.js';

let home: string;
let root: string;

beforeAll(async () => {
  ensureBuilt();
  home = await mkdtemp(path.join(os.tmpdir(), 'mlcache-run-'));
  root = path.join(home, 'proj ect');
  await bootstrapProject(root, home);
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

function mlcache(args: string[]): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: home, HF_HUB_CACHE: '/elsewhere', KEEP_ME: 'kept' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

describe('mlcache run', () => {
  it('the child sees every cache variable (winning over the ambient ones) and the rest of the environment', async () => {
    const r = await mlcache(['run', '--offline', '--', process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.env))']).done;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ...defaultCacheVariables(root),
      HF_HUB_OFFLINE: '1',
      TRANSFORMERS_OFFLINE: '1',
      KEEP_ME: 'kept',
    });
  });

  it("exits with the child's exit code; an unknown command gives 127", async () => {
    expect((await mlcache(['run', '--', process.execPath, '-e', 'process.exit(42)']).done).code).toBe(42);
    const missing = await mlcache(['run', '--', 'no-such-command-xyz']).done;
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('command not found: no-such-command-xyz');
  });

  it('forwards SIGTERM to the child and reports 128+15 when it dies of it', async () => {
    const { child, done } = mlcache(['run', '--', process.execPath, '-e', 'console.log("ready"); setInterval(() => {}, 1000)']);
    await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(143);
  });

  it('a child that handles SIGTERM decides the exit code', async () => {
    const script = 'process.on("SIGTERM", () => { console.log("cleaned up"); process.exit(3); }); console.log("ready"); setInterval(() => {}, 1000)';
    const { child, done } = mlcache(['run', '--', process.execPath, '-e', script]);
    await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    child.kill('SIGTERM');
    const r = await done;
    expect(r.stdout).toContain('cleaned up');
    expect(r.code).toBe(3);
  });
});
