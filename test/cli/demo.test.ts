/**
 * `npm run demo` shows mlcache's main job, offline, in one command: bootstrap a project, cache a
 * small demo catalog (a repo and a redirected URL artifact) into the project's own cache, status,
 * then — with the emulator stopped — offline-check and `run --offline`. Nothing is written outside
 * the project.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, ensureBuilt } from '../helpers/cli.js';

let tmp: string;
beforeAll(async () => {
  ensureBuilt();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcache-demo-test-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('bootstrap → cache-models → status → offline-check → run --offline, each step saying what it proved', { timeout: 90_000 }, async () => {
    const project = path.join(tmp, 'project');
    const home = path.join(tmp, 'home');
    // A user's own cache variables must not pull the demo elsewhere.
    const env = { PATH: process.env.PATH ?? '', HOME: home, HF_HUB_CACHE: path.join(tmp, 'elsewhere'), HF_HUB_OFFLINE: '1', NO_COLOR: '1' };
    const result = await execa(process.execPath, [path.join(REPO_ROOT, 'dist', 'cli', 'bin', 'demo.js'), '--dir', project], { env, extendEnv: false, reject: false, all: true, timeout: 80_000 });
    expect(result.exitCode, result.all).toBe(0);
    const out = result.all ?? '';
    const order = ['1. mlcache bootstrap', '2. mlcache cache-models', '3. mlcache status', 'The Hub emulator is stopped', '4. HF_HUB_OFFLINE=1 mlcache offline-check', '5. mlcache run --offline'];
    const positions = order.map((s) => out.indexOf(s));
    expect(positions.every((p) => p >= 0), out).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(out.match(/^✓ /gm)).toHaveLength(5);
    const hub = path.join(project, '.cache', 'huggingface', 'hub');
    expect(out).toContain(`Cache: ${hub} (project ${project})`);
    expect(out).toContain('All 2 entries resolve offline.');
    // What the pipeline saw under `mlcache run --offline`.
    expect(out).toContain(`  HF_HUB_CACHE=${hub}`);
    expect(out).toContain('  HF_HUB_OFFLINE=1');
    expect(out).toMatch(/model\.safetensors {2}3145728 bytes/);
    expect(out).toContain(`${path.join(project, '.cache', 'torch', 'hub', 'checkpoints', 'demo-model.onnx')}  400000 bytes`);
    expect(existsSync(path.join(tmp, 'elsewhere'))).toBe(false);
    expect(existsSync(path.join(home, '.cache', 'huggingface'))).toBe(false);
  });
});
