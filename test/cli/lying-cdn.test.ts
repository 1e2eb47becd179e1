/**
 * A CDN that tells the same lie every time — a body longer or shorter than the size the Hub
 * announced (with an honest Content-Length, or none), a 206 for other bytes than asked — fails the
 * file within seconds with PROTOCOL (exit 7): one fresh attempt on a re-resolved URL, never the
 * minute of exponential backoff a transient failure gets. The real CLI with its default retry
 * policy, against a server the emulator did not write.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { FILES, REPO, startHostileHub, type HostileHub } from '../helpers/hostile-hub.js';

const LFS = FILES[1]!;
const SIZE = LFS.content.length;

let root: string;
let h: HostileHub | undefined;
beforeAll(() => ensureBuilt());
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-lying-'));
  await mkdir(path.join(root, 'home'));
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  await rm(root, { recursive: true, force: true });
});

function range(req: http.IncomingMessage): { start: number; end: number } {
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  return { start: Number(m?.[1] ?? 0), end: Number(m?.[2] ?? SIZE - 1) };
}

const longer = Buffer.concat([LFS.content, Buffer.alloc(1000, 0x41)]);
const LIES: Array<[string, (req: http.IncomingMessage, res: http.ServerResponse) => void]> = [
  ['200, body 1,000 bytes longer, honest Content-Length', (_req, res) => res.writeHead(200, { 'content-length': String(longer.length) }).end(longer)],
  ['200, body 1,000 bytes shorter, honest Content-Length', (_req, res) => res.writeHead(200, { 'content-length': String(SIZE - 1000) }).end(LFS.content.subarray(0, SIZE - 1000))],
  [
    '206 whose Content-Range total is 1,000 bytes larger',
    (req, res) => {
      const { start } = range(req);
      res.writeHead(206, { 'content-length': String(longer.length - start), 'content-range': `bytes ${start}-${longer.length - 1}/${longer.length}` }).end(longer.subarray(start));
    },
  ],
  [
    '206 whose Content-Range starts 1,000 bytes later than asked',
    (req, res) => {
      const { start, end } = range(req);
      res.writeHead(206, { 'content-length': String(end - start - 999), 'content-range': `bytes ${start + 1000}-${end}/${SIZE}` }).end(LFS.content.subarray(start + 1000, end + 1));
    },
  ],
  [
    '206 without Content-Length whose body ends cleanly 1,000 bytes short',
    (req, res) => {
      const { start, end } = range(req);
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${SIZE}` });
      res.end(LFS.content.subarray(start, end + 1 - 1000));
    },
  ],
  [
    '206 without Content-Length whose body runs 1,000 bytes past the range',
    (req, res) => {
      const { start, end } = range(req);
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${SIZE}` });
      res.end(Buffer.concat([LFS.content.subarray(start, end + 1), Buffer.alloc(1000, 0x41)]));
    },
  ],
];

describe('a lying CDN', () => {
  it.each(LIES)('%s: PROTOCOL (exit 7) within seconds, after exactly one fresh attempt', async (_name, lie) => {
    h = await startHostileHub({
      cdn: (req, res) => {
        if (req.method !== 'GET') return false;
        lie(req, res);
        return true;
      },
    });
    const cacheDir = path.join(root, 'hub');
    const started = Date.now();
    const result = await runCli(['download', REPO, '--endpoint', h.hub.url, '--cache-dir', cacheDir, '--json'], {
      env: { HOME: path.join(root, 'home'), PATH: process.env.PATH ?? '', NO_COLOR: '1' },
      cwd: root,
    });
    const elapsed = Date.now() - started;
    const last = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { type: string; code: string; message: string };
    expect({ exit: result.exitCode, type: last.type, code: last.code }).toEqual({ exit: 7, type: 'error', code: 'PROTOCOL' });
    expect(last.message).toMatch(/model\.bin/);
    expect(result.stderr).not.toMatch(/Warning|at .*\.js:\d+/);
    // Today's budget for a transient failure is minutes; a lie gets seconds.
    expect(elapsed).toBeLessThan(10_000);
    // One attempt, then one on a freshly resolved URL; the resolve URL was asked twice.
    expect(h.cdn.requests.filter((r) => r.method === 'GET')).toHaveLength(2);
    expect(h.hub.requests.filter((r) => r.url.includes('/resolve/') && r.url.endsWith('model.bin'))).toHaveLength(2);
    const events = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; reason?: string });
    expect(events.filter((e) => e.type === 'retry').map((e) => e.reason)).toEqual([expect.stringMatching(/fresh attempt/)]);
    // The regular file is cached; of the lying one, nothing is left under a name a reader could take.
    const blobs = await readdir(path.join(cacheDir, 'models--acme--x', 'blobs'));
    expect(blobs.filter((n) => n === LFS.etag)).toEqual([]);
  }, 20_000);
});
