/**
 * Commands that never touch the network must not load the network stack (undici, the Hub client):
 * it is a third of their start-up. A preloaded probe lists the packages a run loaded from
 * node_modules, so importing the maintenance barrel again (which pulls doctor and repair in) shows.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO_ROOT, ensureBuilt } from '../helpers/cli.js';

let dir = '';
let probe = '';

beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-startup-'));
  probe = path.join(dir, 'probe.cjs');
  await writeFile(
    probe,
    `process.on('exit', () => {
  const names = new Set();
  for (const file of Object.keys(require.cache)) {
    const m = /[\\\\/]node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(file);
    if (m) names.add(m[1].replace('\\\\', '/'));
  }
  require('node:fs').writeFileSync(process.env.PROBE_OUT, JSON.stringify([...names].sort()));
});
`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function packagesLoaded(args: string[]): Promise<string[]> {
  const out = path.join(dir, `${args.join('-').replace(/[^a-z-]/g, '')}.json`);
  const env = { HOME: dir, HF_HUB_CACHE: path.join(dir, 'hub'), TORCH_HOME: path.join(dir, 'torch'), PATH: process.env.PATH ?? '', PROBE_OUT: out };
  await execa(process.execPath, ['-r', probe, ...args], { env, extendEnv: false, reject: false, cwd: dir });
  return JSON.parse(await readFile(out, 'utf8')) as string[];
}

describe('start-up of the offline commands', () => {
  it('the probe sees a package that is loaded', async () => {
    expect(await packagesLoaded(['-e', `require(${JSON.stringify(path.join(REPO_ROOT, 'node_modules', 'undici'))})`])).toContain('undici');
  });

  it.each([['status'], ['prune', '--dry-run'], ['rm', 'org/name', '--dry-run'], ['offline-check', '--all'], ['--help']])(
    'mlcache %s loads neither undici nor the Hub client',
    async (...args) => {
      const loaded = await packagesLoaded([BIN, ...args]);
      expect(loaded).not.toContain('undici');
      expect(loaded).not.toContain('@huggingface/hub');
    },
  );
});
