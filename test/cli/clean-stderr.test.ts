/**
 * No Node runtime warning ever reaches the user: a plain download of a 500-file repo (more files
 * than Node's default of 10 listeners per signal, more than the engine's item slots and the Hub
 * client's concurrent resolves) prints progress and errors only — no "Warning", no
 * MaxListenersExceededWarning, no deprecation.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';

const FILES = [
  ...Array.from({ length: 490 }, (_, i) => ({ path: `shards/part-${String(i).padStart(4, '0')}.json`, content: `{"part":${i}}\n` })),
  ...Array.from({ length: 10 }, (_, i) => ({ path: `lfs/w${i}.safetensors`, generated: { size: 200_000 + i, seed: i + 1 } })),
];
const hub = useEmulator(() => ({ repos: [{ id: 'acme/many', revisions: [{ refs: ['main'], files: FILES }] }] }));

let root: string;
beforeAll(async () => {
  ensureBuilt();
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-stderr-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('stderr stays clean', () => {
  it('a 500-file download prints no runtime warning, in plain and --json mode', async () => {
    for (const mode of [[], ['--json']]) {
      const cacheDir = path.join(root, `hub${mode.length}`);
      const result = await runCli(['download', 'acme/many', '--endpoint', hub().url, '--cache-dir', cacheDir, ...mode], {
        env: { HOME: root, PATH: process.env.PATH ?? '', NO_COLOR: '1' },
        cwd: root,
      });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).not.toMatch(/Warning|warning:|DEP0|\(node:\d+\)/);
      const blobs = await readdir(path.join(cacheDir, 'models--acme--many', 'blobs'));
      expect(blobs.filter((n) => /^[0-9a-f]+$/.test(n))).toHaveLength(500);
      expect(blobs.filter((n) => !/^[0-9a-f]+$/.test(n))).toEqual([]);
    }
  }, 60_000);
});
