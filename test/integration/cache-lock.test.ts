import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/cache/index.js';

let dir: string;
let lock: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlcache-lock-'));
  lock = path.join(dir, '.locks', 'models--org--name', `${'a'.repeat(64)}.lock`);
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A pid that certainly belongs to no running process: a child that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

async function writeLockFile(content: string, ageMs = 0): Promise<void> {
  await fs.mkdir(path.dirname(lock), { recursive: true });
  await fs.writeFile(lock, content);
  if (ageMs > 0) {
    const t = new Date(Date.now() - ageMs);
    await fs.utimes(lock, t, t);
  }
}

const holderJson = (over: Record<string, unknown>) =>
  JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), nonce: 'someone-else', ...over });

describe('acquireLock in one process', () => {
  it('excludes a second holder until release, reports the holder, then hands over', async () => {
    const a = await acquireLock(lock, { pollMs: 20 });
    expect(JSON.parse(await fs.readFile(lock, 'utf8'))).toMatchObject({ pid: process.pid, host: os.hostname(), nonce: a.holder.nonce });
    expect((await fs.stat(lock)).mode & 0o777).toBe(0o664);
    const seen: unknown[] = [];
    let bHeld = false;
    const b = acquireLock(lock, { pollMs: 20, onWait: (h) => seen.push(h) }).then((h) => {
      bHeld = true;
      return h;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(bHeld).toBe(false);
    expect(seen).toEqual([a.holder]);
    await a.release();
    const hb = await b;
    expect(JSON.parse(await fs.readFile(lock, 'utf8')).nonce).toBe(hb.holder.nonce);
    await hb.release();
    await expect(fs.stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes over a lock whose same-host owner is dead', async () => {
    await writeLockFile(holderJson({ pid: deadPid() }));
    const started = Date.now();
    const h = await acquireLock(lock, { pollMs: 20 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(JSON.parse(await fs.readFile(lock, 'utf8')).nonce).toBe(h.holder.nonce);
    await h.release();
  });

  it('waits for a live other-host holder and times out, but takes over once its heartbeat is stale', async () => {
    await writeLockFile(holderJson({ host: 'other-host.example', pid: 1 }));
    await expect(acquireLock(lock, { pollMs: 20, staleMs: 5000, timeoutMs: 200 })).rejects.toMatchObject({ code: 'LOCK_TIMEOUT' });
    expect(JSON.parse(await fs.readFile(lock, 'utf8')).nonce).toBe('someone-else');
    const t = new Date(Date.now() - 10_000);
    await fs.utimes(lock, t, t);
    const h = await acquireLock(lock, { pollMs: 20, staleMs: 5000 });
    expect(JSON.parse(await fs.readFile(lock, 'utf8')).nonce).toBe(h.holder.nonce);
    await h.release();
  });

  it('a holder heartbeat keeps its lock from looking stale', async () => {
    const a = await acquireLock(lock, { pollMs: 20, staleMs: 300 });
    await new Promise((r) => setTimeout(r, 700));
    // The holder is alive on this host, so only a stale heartbeat (mtime > staleMs) could free it.
    await expect(acquireLock(lock, { pollMs: 20, staleMs: 300, timeoutMs: 300 })).rejects.toMatchObject({ code: 'LOCK_TIMEOUT' });
    await a.release();
  });

  it.each([
    ['an empty file (Python filelock leftover)', ''],
    ['a foreign format', 'locked by someone\n'],
  ])('treats %s as free', async (_label, content) => {
    await writeLockFile(content, 60_000);
    const h = await acquireLock(lock, { pollMs: 20, timeoutMs: 1000 });
    expect(JSON.parse(await fs.readFile(lock, 'utf8')).nonce).toBe(h.holder.nonce);
    await h.release();
    // A fresh one may be a lock being written right now: waited on briefly, never forever.
    await writeLockFile('');
    const seen: unknown[] = [];
    const started = Date.now();
    const h2 = await acquireLock(lock, { pollMs: 50, onWait: (x) => seen.push(x) });
    expect(seen).toEqual([undefined]);
    expect(Date.now() - started).toBeGreaterThan(1000);
    await h2.release();
  });

  it('release leaves a lock that is no longer ours', async () => {
    const h = await acquireLock(lock);
    await fs.writeFile(lock, holderJson({ nonce: 'thief' }));
    await h.release();
    expect(JSON.parse(await fs.readFile(lock, 'utf8')).nonce).toBe('thief');
  });

  it('stops waiting when the signal aborts', async () => {
    const a = await acquireLock(lock);
    const controller = new AbortController();
    const waiting = acquireLock(lock, { pollMs: 20, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop')), 100);
    await expect(waiting).rejects.toThrow('stop');
    await a.release();
  });
});

describe('acquireLock across processes', () => {
  let build: string;

  beforeAll(() => {
    // Node 20 cannot run TypeScript: compile src/cache (and what it imports) to plain ESM once.
    build = path.join(os.tmpdir(), `mlcache-lock-build-${process.pid}`);
    execFileSync(
      process.execPath,
      [
        path.resolve('node_modules/typescript/bin/tsc'),
        'src/cache/index.ts',
        '--outDir', build, '--rootDir', 'src',
        '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2023',
        '--types', 'node', '--skipLibCheck', '--noCheck',
      ],
      { stdio: 'pipe' },
    );
    return fs.writeFile(path.join(build, 'package.json'), '{"type":"module"}');
  }, 60_000);
  afterAll(async () => {
    await fs.rm(build, { recursive: true, force: true });
  });

  const WORKER = `
import fs from 'node:fs';
const { acquireLock } = await import(process.argv[2]);
const [lock, marker, rounds] = [process.argv[3], process.argv[4], Number(process.argv[5])];
let overlaps = 0;
for (let i = 0; i < rounds; i++) {
  const h = await acquireLock(lock, { pollMs: 5 });
  try { fs.writeFileSync(marker, String(process.pid), { flag: 'wx' }); } catch { overlaps++; }
  await new Promise((r) => setTimeout(r, 5));
  try { fs.unlinkSync(marker); } catch { overlaps++; }
  await h.release();
}
process.stdout.write(JSON.stringify({ overlaps }));
`;

  function runWorker(script: string, args: string[]): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
  }

  it('never lets two processes hold it at once', async () => {
    const script = path.join(dir, 'worker.mjs');
    await fs.writeFile(script, WORKER);
    const marker = path.join(dir, 'critical-section');
    const entry = path.join(build, 'cache', 'index.js');
    const results = await Promise.all([1, 2, 3, 4].map(() => runWorker(script, [entry, lock, marker, '15'])));
    for (const r of results) {
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toEqual({ overlaps: 0 });
    }
    await expect(fs.stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  }, 30_000);

  it('takes over from a process killed while holding it', async () => {
    const script = path.join(dir, 'holder.mjs');
    await fs.writeFile(
      script,
      `const { acquireLock } = await import(process.argv[2]);\nawait acquireLock(process.argv[3]);\nprocess.stdout.write('held');\nsetInterval(() => {}, 1000);\n`,
    );
    const child = spawn(process.execPath, [script, path.join(build, 'cache', 'index.js'), lock], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    expect(JSON.parse(await fs.readFile(lock, 'utf8')).pid).toBe(child.pid);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const h = await acquireLock(lock, { pollMs: 20, timeoutMs: 5000 });
    expect(JSON.parse(await fs.readFile(lock, 'utf8')).pid).toBe(process.pid);
    await h.release();
  }, 30_000);
});
