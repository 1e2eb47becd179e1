/**
 * Hostile Hub answers, from servers that are not the emulator: captive portals, broken proxies,
 * lying headers, hostile file lists, redirect games, hangs and crafted error messages. Each run
 * must end with a typed error (documented exit code, one sentence and a hint, no stack, no token,
 * no raw control characters) or, where the answer is legitimate, succeed with correct bytes; and
 * the cache must stay valid: @huggingface/hub's scanner reads it, nothing is written outside it,
 * and no blob sits under its final name with the wrong content.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { scanCacheDir } from '@huggingface/hub';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { download } from '../../src/commands/download.js';
import { loadSettings } from '../../src/config/settings.js';
import { isMlcacheError, type MlcacheError } from '../../src/errors.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { COMMIT, FILES, REPO, bytes, makeFile, startHostileHub, startOrigin, treeOf, type HostileHub, type HostileHubOptions } from '../helpers/hostile-hub.js';

const SECRET = 'hf_HostileHubSecretToken0123456789abcdef';
// Control characters a terminal would act on (C0 except \t and \n, DEL, C1).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

let root: string;
let home: string;
let cacheDir: string;
const open: HostileHub[] = [];

beforeAll(() => ensureBuilt());
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-hostile-'));
  home = path.join(root, 'home');
  cacheDir = path.join(root, 'hub');
  await mkdir(home);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
  await rm(root, { recursive: true, force: true });
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function hostile(options: HostileHubOptions = {}): Promise<HostileHub> {
  const h = await startHostileHub(options);
  open.push(h);
  return h;
}

interface CliOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  code: string | undefined;
}

async function cli(h: HostileHub, extra: string[] = []): Promise<CliOutcome> {
  const result = await runCli(['download', REPO, '--endpoint', h.hub.url, '--cache-dir', cacheDir, '--json', ...extra], {
    env: { HOME: home, PATH: process.env.PATH ?? '', NO_COLOR: '1', HF_TOKEN: SECRET },
    cwd: home,
  });
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  let code: string | undefined;
  try {
    const parsed = JSON.parse(last) as { type?: string; code?: string };
    code = parsed.type === 'error' ? parsed.code : parsed.type;
  } catch {
    code = undefined;
  }
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, code };
}

/** A typed failure as the person reads it: exit code, one error line and a hint, nothing leaked. */
function expectTypedFailure(outcome: CliOutcome, exitCode: number, code: string): void {
  const all = outcome.stdout + outcome.stderr;
  expect({ exit: outcome.exitCode, code: outcome.code, stderr: outcome.stderr }).toMatchObject({ exit: exitCode, code });
  expect(outcome.stderr).toMatch(/^error: \S.*$/m);
  expect(outcome.stderr).toMatch(/^hint: \S.*$/m);
  expect(all).not.toContain(SECRET);
  expect(all).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(all).not.toContain('internal error');
  expect(all).not.toMatch(CONTROL);
}

function settings(h: HostileHub) {
  return loadSettings({ env: { HOME: home }, cwd: home, cacheDir, endpoint: h.hub.url });
}

const FAST = {
  engine: { stallTimeoutMs: 300, retry: { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 20 } },
  hub: { timeoutMs: 500, maxRetries: 1, baseDelayMs: 10, maxBackoffMs: 20 },
};

/** The library API with short timeouts, for answers the engine retries (the CLI would wait minutes). */
async function lib(h: HostileHub, extra: { revision?: string } = {}): Promise<MlcacheError | 'ok'> {
  try {
    await download({ settings: settings(h), repoId: REPO, token: SECRET, tuning: FAST, connections: 4, ...extra });
    return 'ok';
  } catch (error) {
    if (!isMlcacheError(error)) throw error;
    const text = `${error.message}\n${error.hint ?? ''}\n${JSON.stringify(error.details ?? {})}`;
    expect(text).not.toContain(SECRET);
    expect(error.message).not.toMatch(CONTROL);
    expect(error.hint ?? '').toMatch(/\S/);
    return error;
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    out.push(full);
    if (entry.isDirectory()) out.push(...(await walk(full)));
  }
  return out;
}

/** The cache is valid whatever happened; returns the names of the committed blobs. */
async function expectCacheValid(): Promise<string[]> {
  // Nothing outside the cache dir (home stays empty; root holds only home and the cache).
  expect((await readdir(root)).filter((n) => n !== 'home' && n !== 'hub')).toEqual([]);
  expect(await walk(home)).toEqual([]);
  const exists = await stat(cacheDir).then(
    () => true,
    () => false,
  );
  if (!exists) return [];
  const scan = await scanCacheDir(cacheDir);
  expect(scan.warnings).toEqual([]);
  const committed: string[] = [];
  for (const repoFolder of await readdir(cacheDir)) {
    const blobs = path.join(cacheDir, repoFolder, 'blobs');
    for (const name of await readdir(blobs).catch(() => [] as string[])) {
      if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(name)) continue;
      const content = await readFile(path.join(blobs, name));
      const actual =
        name.length === 64
          ? createHash('sha256').update(content).digest('hex')
          : createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
      expect(actual, `blobs/${name}`).toBe(name);
      committed.push(name);
    }
  }
  return committed.sort();
}

async function expectComplete(h: HostileHub, revision = 'main'): Promise<void> {
  const snapshot = path.join(cacheDir, 'models--acme--x', 'snapshots', COMMIT);
  for (const file of h.files) {
    expect((await readFile(path.join(snapshot, file.path))).equals(file.content), file.path).toBe(true);
    expect(await readlink(path.join(snapshot, file.path))).toBe(path.relative(path.dirname(path.join(snapshot, file.path)), path.join(cacheDir, 'models--acme--x', 'blobs', file.etag)));
  }
  if (revision !== COMMIT) expect(await readFile(path.join(cacheDir, 'models--acme--x', 'refs', ...revision.split('/')), 'utf8')).toBe(COMMIT);
}

const api = (req: http.IncomingMessage) => (req.url ?? '').startsWith('/api/');
const resolve = (req: http.IncomingMessage) => (req.url ?? '').includes('/resolve/');
const PORTAL = '<!doctype html><html><head><title>Sign in to the Wi-Fi</title></head><body><form>login</form></body></html>';

describe('captive portals and proxies answering 200 text/html', () => {
  it('for the API: PROTOCOL (exit 7), nothing written', async () => {
    const h = await hostile({ hub: (req, res) => api(req) && (res.writeHead(200, { 'content-type': 'text/html' }).end(PORTAL), true) });
    const out = await cli(h);
    expectTypedFailure(out, 7, 'PROTOCOL');
    expect(out.stderr).toMatch(/not JSON/);
    expect(await expectCacheValid()).toEqual([]);
  });

  it('for resolve URLs (the direct GET and the HEAD): a typed failure, no blob under its final name', async () => {
    const h = await hostile({
      hub: (req, res) => resolve(req) && (res.writeHead(200, { 'content-type': 'text/html', 'content-length': String(PORTAL.length) }).end(req.method === 'HEAD' ? undefined : PORTAL), true),
    });
    const error = await lib(h);
    expect(error).not.toBe('ok');
    expect((error as MlcacheError).exitCode).toBeGreaterThanOrEqual(7);
    expect(await expectCacheValid()).toEqual([]);
  });
});

describe('bad JSON', () => {
  it('invalid JSON: PROTOCOL (exit 7)', async () => {
    const h = await hostile({ hub: (req, res) => api(req) && (res.writeHead(200, { 'content-type': 'application/json' }).end('{"sha": "01234'), true) });
    expectTypedFailure(await cli(h), 7, 'PROTOCOL');
    await expectCacheValid();
  });

  it('JSON of the wrong shape: PROTOCOL naming the field', async () => {
    const h = await hostile({ hub: (req, res) => api(req) && (res.writeHead(200, { 'content-type': 'application/json' }).end('{"sha": 42, "siblings": "x"}'), true) });
    const out = await cli(h);
    expectTypedFailure(out, 7, 'PROTOCOL');
    expect(out.stderr).toMatch(/sha/);
  });

  it('a tree that is an object instead of an array: PROTOCOL', async () => {
    const h = await hostile({ tree: { files: treeOf(FILES) } });
    expectTypedFailure(await cli(h), 7, 'PROTOCOL');
    await expectCacheValid();
  });

  it('a 50 MB listing (mostly folders) is legitimate: the files download', async () => {
    const folders = Array.from({ length: 560_000 }, (_, i) => `{"type":"directory","path":"d/${i.toString(36).padStart(30, '0')}","oid":"${COMMIT}"}`);
    const body = `${JSON.stringify(treeOf(FILES)).slice(0, -1)},${folders.join(',')}]`;
    expect(body.length).toBeGreaterThan(50e6);
    expect(body.length).toBeLessThan(64 * 1024 * 1024);
    const h = await hostile({ tree: body });
    const out = await cli(h);
    expect(out.exitCode, out.stderr).toBe(0);
    await expectComplete(h);
    await expectCacheValid();
  });

  it('a listing over 64 MB is refused: PROTOCOL, no memory blow-up', async () => {
    const h = await hostile({
      hub: (req, res) => {
        if (!(req.url ?? '').includes('/tree/')) return false;
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = `${JSON.stringify({ type: 'directory', path: 'x'.repeat(1000) })},`.repeat(1000);
        res.write('[');
        let sent = 0;
        const pump = () => {
          while (sent < 80e6) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end('{}]');
        };
        res.on('error', () => undefined);
        pump();
        return true;
      },
    });
    expectTypedFailure(await cli(h), 7, 'PROTOCOL');
    await expectCacheValid();
  });
});

describe('tree pagination', () => {
  it('a Link header looping back to page 1: PROTOCOL', async () => {
    const h = await hostile({
      hub: (req, res, urls) => {
        if (!(req.url ?? '').includes('/tree/')) return false;
        const page2 = (req.url ?? '').includes('cursor=2');
        const link = page2 ? `<${urls.hub}/api/models/${REPO}/tree/${COMMIT}?recursive=true&expand=false>; rel="next"` : `<${urls.hub}/api/models/${REPO}/tree/${COMMIT}?cursor=2>; rel="next"`;
        res.writeHead(200, { 'content-type': 'application/json', link }).end(JSON.stringify(page2 ? [] : treeOf(FILES)));
        return true;
      },
    });
    const out = await cli(h);
    expectTypedFailure(out, 7, 'PROTOCOL');
    expect(h.hub.requests.filter((r) => r.url.includes('/tree/')).length).toBeLessThanOrEqual(3);
  });

  it('new cursors forever, repeating the same entries: PROTOCOL at once, not after 100 000 pages', async () => {
    const h = await hostile({
      hub: (req, res, urls) => {
        if (!(req.url ?? '').includes('/tree/')) return false;
        const n = Number(/cursor=(\d+)/.exec(req.url ?? '')?.[1] ?? 0);
        res.writeHead(200, { 'content-type': 'application/json', link: `<${urls.hub}/api/models/${REPO}/tree/${COMMIT}?cursor=${n + 1}>; rel="next"` });
        res.end(JSON.stringify(treeOf(FILES)));
        return true;
      },
    });
    const out = await cli(h);
    expectTypedFailure(out, 7, 'PROTOCOL');
    expect(h.hub.requests.filter((r) => r.url.includes('/tree/')).length).toBeLessThanOrEqual(3);
  });

  it('empty pages with new cursors forever: PROTOCOL at once', async () => {
    const h = await hostile({
      hub: (req, res, urls) => {
        if (!(req.url ?? '').includes('/tree/')) return false;
        const n = Number(/cursor=(\d+)/.exec(req.url ?? '')?.[1] ?? 0);
        res.writeHead(200, { 'content-type': 'application/json', link: `<${urls.hub}/api/models/${REPO}/tree/${COMMIT}?cursor=${n + 1}>; rel="next"` });
        res.end(n === 0 ? JSON.stringify(treeOf(FILES)) : '[]');
        return true;
      },
    });
    expectTypedFailure(await cli(h), 7, 'PROTOCOL');
    expect(h.hub.requests.filter((r) => r.url.includes('/tree/')).length).toBeLessThanOrEqual(3);
  });

  it('a next link to another origin is refused and that origin never sees a request (nor the token)', async () => {
    const other = await startOrigin((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('[]'));
    try {
      const h = await hostile({
        hub: (req, res) => {
          if (!(req.url ?? '').includes('/tree/')) return false;
          res.writeHead(200, { 'content-type': 'application/json', link: `<${other.url}/steal?cursor=2>; rel="next"` }).end(JSON.stringify(treeOf(FILES)));
          return true;
        },
      });
      expectTypedFailure(await cli(h), 7, 'PROTOCOL');
      expect(other.requests).toEqual([]);
    } finally {
      await other.close();
    }
  });
});

describe('hostile tree entries', () => {
  const base = treeOf(FILES) as Array<Record<string, unknown>>;
  const entry = (p: unknown, extra: Record<string, unknown> = {}) => ({ ...base[0], path: p, ...extra });
  const cases: Array<[string, unknown[], number, string]> = [
    ['../../etc/x', [...base, entry('../../etc/x')], 10, 'UNSAFE_PATH'],
    ['/abs', [...base, entry('/abs/x')], 10, 'UNSAFE_PATH'],
    ['a/../../b', [...base, entry('a/../../b')], 10, 'UNSAFE_PATH'],
    ['a\\b', [...base, entry('a\\..\\..\\b')], 10, 'UNSAFE_PATH'],
    ['empty', [...base, entry('')], 7, 'PROTOCOL'],
    ['.', [...base, entry('.')], 10, 'UNSAFE_PATH'],
    ['NUL', [...base, entry('a\u0000b')], 10, 'UNSAFE_PATH'],
    ['ANSI escape', [...base, entry('\u001b[2J\u001b[31mevil')], 10, 'UNSAFE_PATH'],
    ['C:', [...base, entry('C:/x')], 10, 'UNSAFE_PATH'],
    ['a segment longer than a file name can be', [...base, entry(`${'a'.repeat(300)}.bin`)], 10, 'UNSAFE_PATH'],
    ['a path longer than PATH_MAX', [...base, entry(Array.from({ length: 40 }, () => 'd'.repeat(200)).join('/'))], 10, 'UNSAFE_PATH'],
    ['a path that is not a string', [...base, entry(42)], 7, 'PROTOCOL'],
    ['a duplicate path', [...base, base[0]], 7, 'PROTOCOL'],
    ['a path both a file and a folder', [...base, entry('config.json/inner')], 7, 'PROTOCOL'],
    ['a negative size', [entry('config.json', { size: -1 }), base[1]], 7, 'PROTOCOL'],
    ['a fractional size', [entry('config.json', { size: 8.5 }), base[1]], 7, 'PROTOCOL'],
    ['a size beyond 2^53', [entry('config.json', { size: 2 ** 60 }), base[1]], 7, 'PROTOCOL'],
    ['a size as a string', [entry('config.json', { size: '8' }), base[1]], 7, 'PROTOCOL'],
    ['lfs.oid not 64 hex', [base[0], { ...base[1], lfs: { oid: '../../../etc/passwd', size: 300_000 } }], 7, 'PROTOCOL'],
    ['lfs.oid upper-case', [base[0], { ...base[1], lfs: { oid: FILES[1]!.sha256.toUpperCase(), size: 300_000 } }], 7, 'PROTOCOL'],
    ['oid not 40 hex', [entry('config.json', { oid: 'zz' }), base[1]], 7, 'PROTOCOL'],
  ];
  for (const [name, tree, exit, code] of cases) {
    it(`${name}: ${code} (exit ${exit}), nothing written outside the cache, no blob`, async () => {
      const h = await hostile({ tree });
      if (name === 'ANSI escape') {
        // One of them through the binary: what the terminal receives is inert.
        expectTypedFailure(await cli(h), exit, code);
      } else {
        const error = await lib(h);
        expect(error === 'ok' ? 'ok' : [error.code, error.exitCode]).toEqual([code, exit]);
      }
      expect(await expectCacheValid()).toEqual([]);
      // Refused while planning: no file request at all.
      expect(h.hub.requests.filter((r) => r.url.includes('/resolve/'))).toEqual([]);
    });
  }

  it('a 255-byte file name (NAME_MAX) is legitimate: linked through a short temp name', async () => {
    const long = makeFile(`${'n'.repeat(251)}.bin`, Buffer.from('long name\n'), false);
    const h = await hostile({ files: [...FILES, long] });
    expect(await lib(h)).toBe('ok');
    await expectComplete(h);
    expect(await expectCacheValid()).toEqual([...FILES.map((f) => f.etag), long.etag].sort());
  });

  it('size disagreeing with lfs.size: lfs.size counts (as in huggingface_hub) and the sha256 decides', async () => {
    const h = await hostile({ tree: [base[0], { ...base[1], size: 5 }] });
    const out = await cli(h);
    expect(out.exitCode, out.stderr).toBe(0);
    await expectComplete(h);
    await expectCacheValid();
  });

  it('a huge but well-formed size (4 PiB) fails with a typed error before downloading', async () => {
    const huge = 2 ** 52;
    const h = await hostile({ tree: [base[0], { ...base[1], size: huge, lfs: { oid: FILES[1]!.sha256, size: huge } }] });
    const error = await lib(h);
    expect(error).not.toBe('ok');
    expect(['DISK_FULL', 'INSUFFICIENT_SPACE', 'FILESYSTEM', 'PROTOCOL']).toContain((error as MlcacheError).code);
    await expectCacheValid();
  });
});

describe('commits and revisions', () => {
  it('a commit sha that is not 40 hex ("../../x"): PROTOCOL, nothing written', async () => {
    const h = await hostile({
      hub: (req, res) => (req.url ?? '').includes('/revision/') && (res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sha: '../../x' })), true),
    });
    expectTypedFailure(await cli(h), 7, 'PROTOCOL');
    expect(await walk(cacheDir)).toEqual([]);
  });

  it('a revision name with ".." is refused before any request (exit 10), not after the download', async () => {
    const h = await hostile();
    const out = await cli(h, ['--revision', '../../evil']);
    expectTypedFailure(out, 10, 'UNSAFE_PATH');
    expect(h.hub.requests).toEqual([]);
    await expectCacheValid();
  });

  it('a revision with slashes (refs/pr/1) is legitimate: nested refs file', async () => {
    const h = await hostile();
    const out = await cli(h, ['--revision', 'refs/pr/1']);
    expect(out.exitCode, out.stderr).toBe(0);
    expect(h.hub.requests[0]?.url).toBe(`/api/models/${REPO}/revision/refs%2Fpr%2F1`);
    await expectComplete(h, 'refs/pr/1');
    await expectCacheValid();
  });
});

describe('redirects', () => {
  it('resolve → 302 to itself: PROTOCOL (too many redirects), no blob', async () => {
    const h = await hostile({
      hub: (req, res) => resolve(req) && (res.writeHead(302, { location: req.url ?? '/' }).end(), true),
    });
    const out = await cli(h);
    expectTypedFailure(out, 7, 'PROTOCOL');
    expect(out.stderr).toMatch(/redirect/i);
    expect(await expectCacheValid()).toEqual([]);
  });

  it('a redirect to a third origin: followed without Authorization, and the file is right', async () => {
    const third = await startOrigin((req, res) => {
      const file = FILES.find((f) => (req.url ?? '').includes(f.etag));
      if (!file) return void res.writeHead(404).end();
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      const start = Number(range?.[1] ?? 0);
      const end = range ? Number(range[2]) : file.content.length - 1;
      res.writeHead(range ? 206 : 200, { 'content-length': String(end - start + 1), ...(range ? { 'content-range': `bytes ${start}-${end}/${file.content.length}` } : {}) });
      res.end(file.content.subarray(start, end + 1));
    });
    try {
      const h = await hostile({
        hub: (req, res) => {
          if (!resolve(req)) return false;
          const file = FILES.find((f) => (req.url ?? '').endsWith(f.path))!;
          res.writeHead(302, { location: `${third.url}/elsewhere/${file.etag}`, 'x-linked-etag': `"${file.etag}"`, 'x-linked-size': String(file.content.length), 'x-repo-commit': COMMIT }).end();
          return true;
        },
      });
      const out = await cli(h);
      expect(out.exitCode, out.stderr).toBe(0);
      expect(third.requests.length).toBeGreaterThanOrEqual(2);
      for (const r of third.requests) expect(r.headers.authorization).toBeUndefined();
      expect(h.hub.requests.some((r) => r.headers.authorization === `Bearer ${SECRET}`)).toBe(true);
      await expectComplete(h);
      await expectCacheValid();
    } finally {
      await third.close();
    }
  });

  it('a relative Location (a renamed repo) is followed on the Hub, keeping the token', async () => {
    const h = await hostile({
      hub: (req, res) => {
        if (!resolve(req)) return false;
        if ((req.url ?? '').startsWith('/acme/renamed/')) {
          req.url = (req.url ?? '').replace('/acme/renamed/', `/${REPO}/`); // served as the original
          return false;
        }
        res.writeHead(307, { location: (req.url ?? '').replace(`/${REPO}/`, '/acme/renamed/') }).end();
        return true;
      },
    });
    expect(await lib(h)).toBe('ok');
    const renamed = h.hub.requests.filter((r) => r.url.startsWith('/acme/renamed/'));
    expect(renamed.length).toBeGreaterThan(0);
    for (const r of renamed) expect(r.headers.authorization).toBe(`Bearer ${SECRET}`);
    await expectComplete(h);
    await expectCacheValid();
  });

  it('307 with no Location: PROTOCOL', async () => {
    const h = await hostile({ hub: (req, res) => resolve(req) && (res.writeHead(307).end(), true) });
    expectTypedFailure(await cli(h), 7, 'PROTOCOL');
    expect(await expectCacheValid()).toEqual([]);
  });

  it('a chain of 12 same-origin redirects: PROTOCOL; a chain of 4 is fine', async () => {
    const chain = (limit: number) => (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (!resolve(req)) return false;
      const hop = Number(/[?&]hop=(\d+)/.exec(req.url ?? '')?.[1] ?? 0);
      if (hop >= limit) return false;
      const bare = (req.url ?? '').replace(/\?.*$/, '');
      res.writeHead(302, { location: `${bare}?hop=${hop + 1}` }).end();
      return true;
    };
    const bad = await hostile({ hub: chain(12) });
    expectTypedFailure(await cli(bad), 7, 'PROTOCOL');
    expect(await expectCacheValid()).toEqual([]);
    const good = await hostile({ hub: chain(4) });
    expect(await lib(good)).toBe('ok');
    await expectComplete(good);
  });
});

describe('lying resolve answers', () => {
  it('X-Repo-Commit differing from the API commit, no ETag, X-Linked-Size disagreeing: the bytes decide, and they are right', async () => {
    const h = await hostile({
      hub: (req, res, urls) => {
        if (!resolve(req)) return false;
        const file = FILES.find((f) => (req.url ?? '').endsWith(f.path))!;
        if (file.lfs) {
          res.writeHead(302, { location: `${urls.cdn}/blobs/${file.sha256}`, 'x-linked-size': '12', 'x-repo-commit': 'f'.repeat(40) }).end();
          return true;
        }
        res.writeHead(req.headers.range ? 206 : 200, {
          'content-length': String(file.content.length),
          'x-repo-commit': 'f'.repeat(40),
          ...(req.headers.range ? { 'content-range': `bytes 0-${file.content.length - 1}/${file.content.length}` } : {}),
        });
        res.end(req.method === 'HEAD' ? undefined : file.content);
        return true;
      },
    });
    expect(await lib(h)).toBe('ok');
    await expectComplete(h);
    await expectCacheValid();
  });

  it('the CDN serving other bytes (right length): INTEGRITY (exit 8), no blob', async () => {
    const h = await hostile({ cdn: (req, res) => (serveBytesWrong(req, res), true) });
    const error = await lib(h);
    expect(error === 'ok' ? 'ok' : [error.code, error.exitCode]).toEqual(['INTEGRITY', 8]);
    expect(await expectCacheValid()).toEqual([FILES[0]!.etag]);
  });

  it('Content-Encoding gzip despite Accept-Encoding identity: PROTOCOL, no blob', async () => {
    const h = await hostile({
      cdn: (req, res) => {
        const file = FILES[1]!;
        res.writeHead(206, { 'content-encoding': 'gzip', 'content-length': String(file.content.length), 'content-range': `bytes 0-${file.content.length - 1}/${file.content.length}` }).end(file.content);
        return true;
      },
    });
    const error = await lib(h);
    expect(error === 'ok' ? 'ok' : error.code).toBe('PROTOCOL');
    expect(await expectCacheValid()).toEqual([FILES[0]!.etag]);
  });

  it('206 multipart/byteranges: PROTOCOL, no blob', async () => {
    const h = await hostile({
      cdn: (_req, res) => {
        const file = FILES[1]!;
        const body = Buffer.concat([Buffer.from('--B\r\nContent-Range: bytes 0-9/300000\r\n\r\n'), file.content.subarray(0, 10), Buffer.from('\r\n--B--\r\n')]);
        res.writeHead(206, { 'content-type': 'multipart/byteranges; boundary=B', 'content-length': String(body.length) }).end(body);
        return true;
      },
    });
    const error = await lib(h);
    expect(error === 'ok' ? 'ok' : error.code).toBe('PROTOCOL');
    expect(await expectCacheValid()).toEqual([FILES[0]!.etag]);
  });

  it('a body longer than its Content-Length (raw socket): the extra bytes are never kept', async () => {
    const h = await hostile({
      cdn: (req, res) => {
        const file = FILES[1]!;
        const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
        const start = Number(range?.[1] ?? 0);
        const end = Number(range?.[2] ?? file.content.length - 1);
        const socket = res.socket!;
        socket.write(`HTTP/1.1 206 Partial Content\r\ncontent-length: ${end - start + 1}\r\ncontent-range: bytes ${start}-${end}/${file.content.length}\r\n\r\n`);
        socket.write(file.content.subarray(start, end + 1));
        socket.end(Buffer.alloc(5000, 0x41));
        return true;
      },
    });
    const error = await lib(h);
    // Either the declared bytes were right and kept (success), or a typed failure; never a wrong blob.
    if (error !== 'ok') expect(isMlcacheError(error)).toBe(true);
    const blobs = await expectCacheValid();
    if (error === 'ok') expect(blobs).toEqual(FILES.map((f) => f.etag).sort());
  });

  it('a CDN that sends headers, then hangs forever: the stall timeout fires, NETWORK_TIMEOUT', async () => {
    const h = await hostile({
      cdn: (req, res) => {
        // Headers for the range asked, then nothing, ever (flushHeaders: the status line goes out).
        const start = Number(/^bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
        res.writeHead(206, { 'content-length': String(300_000 - start), 'content-range': `bytes ${start}-299999/300000` });
        res.flushHeaders();
        return true; // never ends
      },
    });
    const started = Date.now();
    const error = await lib(h);
    expect(error === 'ok' ? 'ok' : [error.code, error.exitCode]).toEqual(['NETWORK_TIMEOUT', 6]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await expectCacheValid()).toEqual([FILES[0]!.etag]);
  });

  it('an API that sends headers, then hangs forever: NETWORK_TIMEOUT from the request timeout', async () => {
    const h = await hostile({ hub: (req, res) => api(req) && (res.writeHead(200, { 'content-type': 'application/json' }), res.write('[{"ty'), true) });
    const started = Date.now();
    const error = await lib(h);
    expect(error === 'ok' ? 'ok' : [error.code, error.exitCode]).toEqual(['NETWORK_TIMEOUT', 6]);
    expect(Date.now() - started).toBeLessThan(5000);
    await expectCacheValid();
  });
});

function serveBytesWrong(req: http.IncomingMessage, res: http.ServerResponse): void {
  const wrong = bytes(300_000, 99);
  const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  const start = Number(range?.[1] ?? 0);
  const end = Number(range?.[2] ?? wrong.length - 1);
  res.writeHead(range ? 206 : 200, { 'content-length': String(end - start + 1), ...(range ? { 'content-range': `bytes ${start}-${end}/${wrong.length}` } : {}) });
  res.end(wrong.subarray(start, end + 1));
}

describe('refusals with and without X-Error-Code', () => {
  const refuse =
    (status: number, headers: Record<string, string> = {}, body = '', where: (req: http.IncomingMessage) => boolean = api) =>
    (req: http.IncomingMessage, res: http.ServerResponse) =>
      where(req) && (res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/plain', ...headers }).end(body), true);
  const cases: Array<[string, HostileHubOptions['hub'], number, string]> = [
    ['401 GatedRepo', refuse(401, { 'x-error-code': 'GatedRepo' }), 4, 'GATED_REPO'],
    ['403 GatedRepo', refuse(403, { 'x-error-code': 'GatedRepo' }), 4, 'GATED_REPO'],
    ['401 without a code on the API', refuse(401), 5, 'REPO_NOT_FOUND'],
    ['403 without a code', refuse(403), 4, 'FORBIDDEN'],
    ['404 RepoNotFound', refuse(404, { 'x-error-code': 'RepoNotFound' }), 5, 'REPO_NOT_FOUND'],
    ['404 RevisionNotFound', refuse(404, { 'x-error-code': 'RevisionNotFound' }), 5, 'REVISION_NOT_FOUND'],
    ['404 EntryNotFound on a resolve HEAD', refuse(404, { 'x-error-code': 'EntryNotFound' }, '', resolve), 5, 'ENTRY_NOT_FOUND'],
    ['403 GatedRepo on resolve only', refuse(403, { 'x-error-code': 'GatedRepo' }, '', resolve), 4, 'GATED_REPO'],
    ['401 with an unknown code', refuse(401, { 'x-error-code': 'SomethingNew' }), 5, 'REPO_NOT_FOUND'],
    ['418 teapot', refuse(418), 7, 'PROTOCOL'],
  ];
  for (const [index, [name, route, exit, code]] of cases.entries()) {
    it(`${name}: ${code} (exit ${exit})`, async () => {
      const h = await hostile({ hub: route });
      if (index === 0) {
        expectTypedFailure(await cli(h), exit, code);
      } else {
        const error = await lib(h);
        expect(error === 'ok' ? 'ok' : [error.code, error.exitCode]).toEqual([code, exit]);
      }
      expect(await expectCacheValid()).toEqual([]);
    });
  }

  it('an error message with ANSI escapes and a token (JSON body and X-Error-Message): shown, but inert and redacted', async () => {
    const fake = 'hf_FakeTokenInServerMessage0123456789';
    const h = await hostile({
      hub: (req, res) => {
        if (!api(req)) return false;
        res.writeHead(403, {
          'x-error-code': 'GatedRepo',
          // Latin-1 bytes reach the header value as C1 characters (U+009B is CSI on some terminals).
          'x-error-message': `Ask ${SECRET} \u009b31m C1 here`,
          'content-type': 'application/json',
        });
        res.end(JSON.stringify({ error: `\u001b[2J\u001b[31mYour token ${fake} and Bearer ${SECRET} \r\u0007expired\u001b]0;pwned\u0007` }));
        return true;
      },
    });
    const out = await cli(h);
    expectTypedFailure(out, 4, 'GATED_REPO');
    expect(out.stdout + out.stderr).not.toContain(fake);
    expect(out.stderr).toMatch(/expired/);
  });
});
