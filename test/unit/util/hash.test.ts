import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileHashWorker, createHasher, createHashWorkerPool, hashFile } from '../../../src/util/hash.js';

const gitSha1 = (data: Buffer) => createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');

describe('hashing', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('git blob sha1 matches git for known vectors', () => {
    const empty = createHasher('git-sha1', 0);
    expect(empty.digest()).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
    const hello = createHasher('git-sha1', 12);
    hello.update(Buffer.from('hello world\n'));
    // `echo 'hello world' | git hash-object --stdin`
    expect(hello.digest()).toBe('3b18e512dba79e4c8300dd08aeb37f8e728b8dad');
  });

  it('incremental sha256 equals one-shot node:crypto', () => {
    const data = randomBytes(100_003);
    const h = createHasher('sha256', data.length);
    for (let i = 0; i < data.length; i += 7_777) h.update(data.subarray(i, i + 7_777));
    expect(h.digest()).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('hashFile in-thread and in a worker agree with node:crypto', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-hash-'));
    const data = randomBytes(9 * 1024 * 1024 + 3);
    const file = path.join(dir, 'f');
    await writeFile(file, data);
    expect(await hashFile(file, 'sha256')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(await hashFile(file, 'git-sha1', { worker: true })).toBe(gitSha1(data));
    await writeFile(path.join(dir, 'empty'), '');
    expect(await hashFile(path.join(dir, 'empty'), 'git-sha1', { worker: true })).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
  });

  it('the prefix worker hashes as the file fills, in order', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-hash-'));
    const data = randomBytes(6 * 1024 * 1024);
    const file = path.join(dir, 'f');
    await writeFile(file, data);
    const worker = createFileHashWorker(file, 'sha256', data.length);
    worker.advanceTo(1024 * 1024);
    worker.advanceTo(512); // going back is ignored
    worker.advanceTo(4 * 1024 * 1024);
    worker.advanceTo(data.length);
    expect(await worker.digest()).toBe(createHash('sha256').update(data).digest('hex'));
    expect(worker.hashedBytes).toBe(data.length);
  });

  it('the worker and the main thread agree on sha256 and git blob sha1 for 0 bytes, 1 byte and several read chunks', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-hash-'));
    // 0 and 1 byte, and 2 × 4 MiB reads + 5 bytes (the worker reads in 4 MiB pieces).
    for (const size of [0, 1, 8 * 1024 * 1024 + 5]) {
      const data = randomBytes(size);
      const file = path.join(dir, `f${size}`);
      await writeFile(file, data);
      for (const algorithm of ['sha256', 'git-sha1'] as const) {
        const main = createHasher(algorithm, size);
        main.update(data);
        const expected = main.digest();
        // Independent of both: node:crypto with the header written out here.
        expect(expected).toBe(algorithm === 'sha256' ? createHash('sha256').update(data).digest('hex') : gitSha1(data));
        expect(await hashFile(file, algorithm, { worker: true }), `${algorithm} of ${size} bytes`).toBe(expected);
        expect(await hashFile(file, algorithm), `${algorithm} of ${size} bytes`).toBe(expected);
      }
    }
  });

  it('a worker on a file shorter than declared fails instead of hanging', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-hash-'));
    const file = path.join(dir, 'short');
    await writeFile(file, Buffer.alloc(10));
    const worker = createFileHashWorker(file, 'sha256', 20);
    worker.advanceTo(20);
    await expect(worker.digest()).rejects.toThrow(/unexpected end/);
  });

  it('a pool hashes several files on shared workers; a failed or cancelled file leaves the others alone', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-hash-'));
    const files = await Promise.all(
      [3, 5, 2].map(async (mib, i) => {
        const data = randomBytes(mib * 1024 * 1024 + i);
        const file = path.join(dir, `f${i}`);
        await writeFile(file, data);
        return { file, data };
      }),
    );
    await writeFile(path.join(dir, 'short'), Buffer.alloc(10));
    const pool = createHashWorkerPool(1);
    try {
      const [a, b, c] = files.map(({ file, data }, i) => pool.open(file, i === 1 ? 'git-sha1' : 'sha256', data.length));
      const short = pool.open(path.join(dir, 'short'), 'sha256', 20);
      // Interleaved on the one worker: a and b advance in turns, c is cancelled half way.
      a!.advanceTo(1024 * 1024);
      b!.advanceTo(2 * 1024 * 1024);
      c!.advanceTo(1024 * 1024);
      short.advanceTo(20);
      await c!.terminate();
      a!.advanceTo(files[0]!.data.length);
      b!.advanceTo(files[1]!.data.length);
      await expect(short.digest()).rejects.toThrow(/unexpected end/);
      await expect(c!.digest()).rejects.toThrow(/terminated/);
      expect(await a!.digest()).toBe(createHash('sha256').update(files[0]!.data).digest('hex'));
      expect(await b!.digest()).toBe(gitSha1(files[1]!.data));
      // The same worker serves a file opened after the others finished.
      const again = pool.open(files[2]!.file, 'sha256', files[2]!.data.length);
      again.advanceTo(files[2]!.data.length);
      expect(await again.digest()).toBe(createHash('sha256').update(files[2]!.data).digest('hex'));
    } finally {
      await pool.close();
    }
    await expect(pool.open(files[0]!.file, 'sha256', 1).digest()).rejects.toThrow(/closed/);
  });
});
