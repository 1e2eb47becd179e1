import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathExists, targetExists } from '../../../src/util/path-exists.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-exists-'));
  await writeFile(path.join(dir, 'file'), 'x');
  await mkdir(path.join(dir, 'folder'));
  await symlink('file', path.join(dir, 'link'));
  await symlink('gone', path.join(dir, 'dangling'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pathExists (lstat) and targetExists (stat)', () => {
  it.each([
    ['file', true, true],
    ['folder', true, true],
    ['link', true, true],
    ['dangling', true, false],
    ['nothing', false, false],
    ['file/below-a-file', false, false],
  ])('%s: pathExists %s, targetExists %s', async (name, lexists, exists) => {
    expect(await pathExists(path.join(dir, name))).toBe(lexists);
    expect(await targetExists(path.join(dir, name))).toBe(exists);
  });
});
