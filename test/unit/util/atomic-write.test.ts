import { mkdtemp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MlcacheError } from '../../../src/errors.js';
import { atomicReplaceFile, atomicWriteFile, tempSibling } from '../../../src/util/atomic-write.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tempSibling', () => {
  it('names the temp <name>.<8hex>.<suffix> in the target folder, unique per call', () => {
    const a = tempSibling('/x/y/file.json');
    const b = tempSibling('/x/y/file.json', 'partial');
    expect(a).toMatch(/^\/x\/y\/file\.json\.[0-9a-f]{8}\.tmp$/);
    expect(b).toMatch(/^\/x\/y\/file\.json\.[0-9a-f]{8}\.partial$/);
    expect(new Set(Array.from({ length: 50 }, () => tempSibling('/x/f'))).size).toBe(50);
  });

  it('gives a name at NAME_MAX a short temp of its own, still in the same folder', () => {
    const long = 'a'.repeat(255);
    const temp = tempSibling(`/x/${long}`);
    expect(path.dirname(temp)).toBe('/x');
    expect(path.basename(temp)).toMatch(/^\.mlcache-[0-9a-f]{8}\.tmp$/);
  });
});

describe('atomicReplaceFile / atomicWriteFile', () => {
  it('creates the file, then replaces it whole, leaving nothing else in the folder', async () => {
    const target = path.join(dir, 'ref');
    await atomicWriteFile(target, 'old');
    await atomicReplaceFile(target, new Uint8Array([110, 101, 119]));
    expect(await readFile(target, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['ref']);
  });

  it('applies the mode to a new file', async () => {
    const target = path.join(dir, 'private');
    await atomicWriteFile(target, 'x', { mode: 0o600 });
    expect((await stat(target)).mode & 0o077).toBe(0);
  });

  it('a reader racing the writer sees the old bytes or the new ones, never a mix or nothing', async () => {
    const target = path.join(dir, 'big.json');
    const versions = ['a', 'b'].map((c) => c.repeat(256 * 1024));
    await atomicWriteFile(target, versions[0]!);
    let writing = true;
    const writer = (async () => {
      for (let i = 1; i <= 40; i++) await atomicReplaceFile(target, versions[i % 2]!);
      writing = false;
    })();
    const seen = new Set<string>();
    let reads = 0;
    while (writing && reads < 100_000) {
      const text = await readFile(target, 'utf8');
      expect(versions).toContain(text);
      seen.add(text[0]!);
      reads++;
    }
    await writer;
    expect(reads).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual(['big.json']);
  });

  it('on a failed rename leaves the target as it was and no temp; the raw fs error comes out', async () => {
    // A non-empty folder at the target: the temp is written, the rename over it fails.
    const target = path.join(dir, 'occupied');
    await mkdir(target);
    await writeFile(path.join(target, 'inside'), 'keep');
    const error = await atomicReplaceFile(target, 'data').catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(MlcacheError);
    expect((error as NodeJS.ErrnoException).code).toMatch(/^(EISDIR|ENOTEMPTY|EEXIST|EPERM)$/);
    expect((await readdir(dir)).sort()).toEqual(['occupied']);
    expect(await readFile(path.join(target, 'inside'), 'utf8')).toBe('keep');
  });

  it('atomicWriteFile turns the same failure into an MlcacheError naming the target, with the caller\'s hint', async () => {
    const target = path.join(dir, 'occupied');
    await mkdir(target);
    await writeFile(path.join(target, 'inside'), 'keep');
    const error = await atomicWriteFile(target, 'data', { hints: { other: 'Try elsewhere.', permission: 'Try elsewhere.' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlcacheError);
    expect((error as MlcacheError).message).toContain(`write ${target}`);
    expect((error as MlcacheError).hint).toBe('Try elsewhere.');
    expect(await readdir(dir)).toEqual(['occupied']);
  });

  it('uses the given temp path, and refuses one that exists (exclusive create) without touching either file', async () => {
    const target = path.join(dir, 'journal');
    const temp = path.join(dir, 'journal.0000beef.tmp');
    await atomicReplaceFile(target, 'one', { tempPath: temp });
    expect(await readdir(dir)).toEqual(['journal']);
    await writeFile(temp, 'someone else');
    await expect(atomicReplaceFile(target, 'two', { tempPath: temp })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(target, 'utf8')).toBe('one');
  });

  it('stages through createTemp when given (a temp folder of the caller\'s), and removes that temp on failure', async () => {
    const staging = path.join(dir, '.staging');
    await mkdir(staging);
    const target = path.join(dir, 'refs-main');
    await atomicWriteFile(target, 'c0ffee', {
      createTemp: async (write) => {
        const temp = path.join(staging, 'ref.tmp');
        await write(temp);
        return temp;
      },
    });
    expect(await readFile(target, 'utf8')).toBe('c0ffee');
    expect(await readdir(staging)).toEqual([]);

    await mkdir(path.join(dir, 'blocked'));
    await writeFile(path.join(dir, 'blocked', 'x'), '');
    await expect(
      atomicWriteFile(path.join(dir, 'blocked'), 'z', {
        createTemp: async (write) => {
          const temp = path.join(staging, 'ref2.tmp');
          await write(temp);
          return temp;
        },
      }),
    ).rejects.toBeInstanceOf(MlcacheError);
    expect(await readdir(staging)).toEqual([]);
  });
});
