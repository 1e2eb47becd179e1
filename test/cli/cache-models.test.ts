/**
 * The built CLI (`npm run build` first; `npm test` does). Spawns bin/mlcache.js as a user would.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheModelsPlanSchema } from '../../src/commands/cache-models/plan-schema.js';
import { runCli } from '../helpers/cli.js';
import { EMULATOR_TOKEN, useEmulator } from '../helpers/emulator.js';

const hub = useEmulator({
  repos: [{ id: 'org/tiny', revisions: [{ refs: ['main'], files: [{ path: 'config.json', content: '{}' }, { path: 'model.bin', generated: { size: 5000 } }] }] }],
});

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcache-cli-cache-models-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}) {
  return runCli(args, {
    cwd: tmp,
    env: { HOME: tmp, HF_HUB_CACHE: path.join(tmp, 'hub'), TORCH_HOME: path.join(tmp, 'torch'), HF_ENDPOINT: hub().url, NO_COLOR: '1', ...env },
  });
}

describe('mlcache cache-models (CLI)', () => {
  it('--help lists the shipped groups with approximate sizes', async () => {
    const result = await run(['cache-models', '--help']);
    expect(result.exitCode).toBe(0);
    for (const group of ['indictrans2', 'nllb', 'whisperx', 'pyannote', 'demucs', 'mlx']) expect(result.stdout).toMatch(new RegExp(`^  ${group} +~[\\d.]+ [kMG]B `, 'm'));
    expect(result.stdout).toContain('[darwin-arm64 only]');
  });

  it('the top-level help does not read the catalog', async () => {
    const result = await run(['--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('cache-models');
    expect(result.stdout).not.toContain('approximate download sizes');
  });

  it('--dry-run --json prints one plan that matches the schema, and writes nothing', async () => {
    const catalog = path.join(tmp, 'team.json');
    await writeFile(catalog, JSON.stringify({ groups: { tiny: { entries: [{ repo: 'org/tiny', purpose: 'test repo', include: ['*.bin'] }] } } }));
    const result = await run(['cache-models', '--group', 'tiny', '--catalog', catalog, '--dry-run', '--json'], { HF_TOKEN: EMULATOR_TOKEN });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const lines: Array<{ type?: string }> = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type?: string });
    const plans = lines.filter((l) => l.type === 'plan');
    expect(plans).toHaveLength(1);
    const plan = CacheModelsPlanSchema.parse(plans[0]);
    expect(plan.entries).toEqual([expect.objectContaining({ group: 'tiny', name: 'org/tiny', files: 1, bytesNeeded: 5000 })]);
    expect(hub().stats.bytesServed).toBe(0);
  });

  it('--dry-run exits as the real run would: an unresolvable or gated entry makes it fail', async () => {
    const catalog = path.join(tmp, 'team.json');
    await writeFile(
      catalog,
      JSON.stringify({
        groups: {
          tiny: { entries: [{ repo: 'org/tiny', purpose: 'test repo' }] },
          broken: { entries: [{ repo: 'org/does-not-exist', purpose: 'missing repo' }] },
          locked: { entries: [{ repo: 'org/locked', gated: true, purpose: 'gated repo' }] },
        },
      }),
    );
    const ok = await run(['cache-models', '--group', 'tiny', '--catalog', catalog, '--dry-run']);
    expect(ok.exitCode).toBe(0);
    const missing = await run(['cache-models', '--group', 'tiny', '--group', 'broken', '--catalog', catalog, '--dry-run']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/^error: 1 required entry could not be planned: broken\/org\/does-not-exist/m);
    const gated = await run(['cache-models', '--group', 'locked', '--catalog', catalog, '--dry-run']);
    expect(gated.exitCode).toBe(4);
    expect(gated.stdout).toContain(`request access at ${hub().url}/org/locked`);
    expect(hub().stats.bytesServed).toBe(0);
  });

  it('no selection is a usage error (exit 2) that lists the groups', async () => {
    const result = await run(['cache-models']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('Nothing to cache');
    expect(result.stderr).toContain('indictrans2, nllb, whisperx, pyannote, demucs, mlx');
    expect(result.stderr).not.toContain('Planning');
  });

  it('an unknown group exits 2 with the known groups', async () => {
    const result = await run(['cache-models', '--group', 'nope', '--dry-run']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("Unknown model group 'nope'");
    // No "Planning…" before a usage or catalog error: planning never started.
    expect(result.stderr).not.toContain('Planning');
    const bad = path.join(tmp, 'bad.json');
    await writeFile(bad, '{ "groups": ');
    const broken = await run(['cache-models', '--catalog', bad, '--all']);
    expect(broken.exitCode).toBe(3);
    expect(broken.stderr).toContain(bad);
    expect(broken.stderr).not.toContain('Planning');
  });

  it('a run prints a summary; the second run says everything is cached; a gated failure exits 1', async () => {
    const catalog = path.join(tmp, 'team.json');
    await writeFile(catalog, JSON.stringify({ groups: { tiny: { entries: [{ repo: 'org/tiny', purpose: 'test repo' }] } } }));
    const first = await run(['cache-models', '--group', 'tiny', '--catalog', catalog, '--yes'], { HF_TOKEN: EMULATOR_TOKEN });
    expect(first.exitCode).toBe(0);
    expect(first.stderr).toMatch(/fetched org\/tiny @ [0-9a-f]{12}: 2 files/);
    const second = await run(['cache-models', '--group', 'tiny', '--catalog', catalog, '--yes'], { HF_TOKEN: EMULATOR_TOKEN });
    expect(second.exitCode).toBe(0);
    expect(second.stderr).toContain('Everything selected was already cached; nothing was downloaded.');

    await writeFile(catalog, JSON.stringify({ groups: { tiny: { entries: [{ repo: 'org/tiny', purpose: 'test repo' }, { repo: 'org/locked', gated: true, purpose: 'gated' }] } } }));
    const gated = await run(['cache-models', '--group', 'tiny', '--catalog', catalog, '--yes']);
    expect(gated.exitCode).toBe(1);
    expect(gated.stderr).toContain(`Request access at ${hub().url}/org/locked`);
    expect(gated.stderr).toContain('1 of 2 entries failed: tiny/org/locked');
  });
});
