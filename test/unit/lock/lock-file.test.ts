import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockfilePath, readLockfile, serializeLock, writeLockfile, type Lockfile } from '../../../src/lock/index.js';
import { mlcacheRejectionFrom } from '../../helpers/errors.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcache-lock-file-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const LOCK: Lockfile = { version: 1, platform: { os: 'linux', arch: 'x64' }, selection: { all: true, groups: [], models: [], force: false }, entries: [] };

describe('lockfilePath', () => {
  it('is config/mlcache.lock of the nearest project (models.json or hardware_cache.json), else beside --catalog, else ./mlcache.lock', async () => {
    const nested = path.join(tmp, 'app', 'src', 'deep');
    await mkdir(nested, { recursive: true });
    expect(lockfilePath({ cwd: nested })).toBe(path.join(nested, 'mlcache.lock'));
    expect(lockfilePath({ cwd: nested, catalogPath: '../team.json' })).toBe(path.join(tmp, 'app', 'src', 'mlcache.lock'));
    await mkdir(path.join(tmp, 'app', 'config'));
    await writeFile(path.join(tmp, 'app', 'config', 'hardware_cache.json'), '{}');
    expect(lockfilePath({ cwd: nested })).toBe(path.join(tmp, 'app', 'config', 'mlcache.lock'));
    await mkdir(path.join(tmp, 'app', 'src', 'config'));
    await writeFile(path.join(tmp, 'app', 'src', 'config', 'models.json'), '{}');
    expect(lockfilePath({ cwd: nested })).toBe(path.join(tmp, 'app', 'src', 'config', 'mlcache.lock'));
    expect(lockfilePath({ cwd: nested, lockfile: 'x.lock' })).toBe(path.join(nested, 'x.lock'));
  });
});

describe('readLockfile / writeLockfile', () => {
  it('writes the canonical bytes once, leaves an unchanged file alone, and says LOCK_NOT_FOUND for no file', async () => {
    const file = path.join(tmp, 'mlcache.lock');
    const missing = await mlcacheRejectionFrom(readLockfile(file));
    expect(missing.code).toBe('LOCK_NOT_FOUND');
    expect(missing.hint).toContain('mlcache lock');
    expect(await writeLockfile(file, LOCK)).toBe(true);
    expect(await readFile(file, 'utf8')).toBe(serializeLock(LOCK));
    const before = await stat(file);
    expect(await writeLockfile(file, LOCK)).toBe(false);
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
    expect(await readLockfile(file)).toEqual(LOCK);
  });
});
