/** `mlcache --version` prints package.json's version: the one source (src/util/version.ts). */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT, runCli } from '../helpers/cli.js';

beforeAll(() => {
  ensureBuilt();
});

describe('mlcache --version', () => {
  it.each([['--version'], ['-V']])('%s prints the version in package.json and exits 0', async (flag) => {
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const out = await runCli([flag], { env: { HOME: os.tmpdir(), PATH: process.env.PATH ?? '' } });
    expect(out.exitCode).toBe(0);
    expect(out.stdout.trim()).toBe(pkg.version);
    expect(out.stderr).toBe('');
  });
});
