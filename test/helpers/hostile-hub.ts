/**
 * A tiny, honest Hub on node:http (one repo, one commit, a regular file and an LFS file behind a
 * redirect to a second origin) that a test bends per route to play a hostile server, a captive
 * portal or a broken proxy. Not the emulator: the point is answers its authors did not foresee.
 * Every request is recorded with its headers, per origin, so tests can check who saw the token.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const REPO = 'acme/x';
export const COMMIT = '0123456789abcdef0123456789abcdef01234567';

export interface HostileFile {
  path: string;
  content: Buffer;
  lfs: boolean;
  /** Blob name: sha256 (LFS) or git blob sha1. */
  etag: string;
  gitSha1: string;
  sha256: string;
}

export function makeFile(path: string, content: Buffer, lfs: boolean): HostileFile {
  const sha256 = createHash('sha256').update(content).digest('hex');
  const gitSha1 = createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
  return { path, content, lfs, etag: lfs ? sha256 : gitSha1, gitSha1, sha256 };
}

/** Deterministic bytes (no Math.random: a failure must replay). */
export function bytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export const FILES: HostileFile[] = [makeFile('config.json', Buffer.from('{"a":1}\n'), false), makeFile('model.bin', bytes(300_000, 7), true)];

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface Origin {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A plain server on 127.0.0.1 that records every request and closes hung sockets on close(). */
export async function startOrigin(route: Route): Promise<Origin> {
  const requests: Recorded[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    route(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** 200 or 206 for `bytes=a-b` / `bytes=a-`, like the Hub and its CDN. */
export function serveBytes(req: http.IncomingMessage, res: http.ServerResponse, content: Buffer, headers: Record<string, string> = {}): void {
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0;
  let end = content.length - 1;
  let status = 200;
  if (range) {
    start = Number(range[1]);
    end = range[2] ? Math.min(Number(range[2]), content.length - 1) : content.length - 1;
    status = 206;
    headers = { ...headers, 'content-range': `bytes ${start}-${end}/${content.length}` };
  }
  res.writeHead(status, { 'content-length': String(end - start + 1), 'accept-ranges': 'bytes', ...headers });
  if (req.method === 'HEAD') res.end();
  else res.end(content.subarray(start, end + 1));
}

export interface HostileHubOptions {
  files?: HostileFile[];
  /** The tree listing as sent (default: FILES as the Hub lists them); a string is sent as is. */
  tree?: unknown;
  /**
   * Bend the Hub: return true when the request was answered. `hub` is this Hub's own URL,
   * `cdn` the second origin.
   */
  hub?: (req: http.IncomingMessage, res: http.ServerResponse, urls: { hub: string; cdn: string }) => boolean;
  /** Bend the CDN the same way. */
  cdn?: (req: http.IncomingMessage, res: http.ServerResponse, urls: { hub: string; cdn: string }) => boolean;
}

export interface HostileHub {
  hub: Origin;
  cdn: Origin;
  files: HostileFile[];
  close(): Promise<void>;
}

export function treeOf(files: HostileFile[]): unknown[] {
  return files.map((f) =>
    f.lfs
      ? { type: 'file', path: f.path, size: f.content.length, oid: f.gitSha1, lfs: { oid: f.sha256, size: f.content.length, pointerSize: 130 } }
      : { type: 'file', path: f.path, size: f.content.length, oid: f.gitSha1 },
  );
}

/**
 * The honest answers: revision info, the tree, resolve (HEAD/GET; LFS → 302 to the CDN with the
 * X-Linked-* headers), and the CDN serving blobs by sha256.
 */
export async function startHostileHub(options: HostileHubOptions = {}): Promise<HostileHub> {
  const files = options.files ?? FILES;
  const urls = { hub: '', cdn: '' };
  const cdn = await startOrigin((req, res) => {
    if (options.cdn?.(req, res, urls)) return;
    const sha = /^\/blobs\/([0-9a-f]{64})/.exec(req.url ?? '')?.[1];
    const file = files.find((f) => f.sha256 === sha);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    serveBytes(req, res, file.content, { etag: `"${file.sha256}"` });
  });
  const hub = await startOrigin((req, res) => {
    if (options.hub?.(req, res, urls)) return;
    const url = new URL(req.url ?? '/', urls.hub);
    if (url.pathname === `/api/models/${REPO}/revision/main` || url.pathname === `/api/models/${REPO}`) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: REPO, sha: COMMIT, private: false, gated: false }));
      return;
    }
    if (url.pathname.startsWith(`/api/models/${REPO}/revision/`)) {
      // Any other revision name: the same commit (enough to test how names are used).
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: REPO, sha: COMMIT }));
      return;
    }
    if (url.pathname === `/api/models/${REPO}/tree/${COMMIT}`) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(typeof options.tree === 'string' ? options.tree : JSON.stringify(options.tree ?? treeOf(files)));
      return;
    }
    const resolvePrefix = `/${REPO}/resolve/${COMMIT}/`;
    if (url.pathname.startsWith(resolvePrefix)) {
      const path = decodeURIComponent(url.pathname.slice(resolvePrefix.length));
      const file = files.find((f) => f.path === path);
      if (!file) {
        res.writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-repo-commit': COMMIT }).end();
        return;
      }
      if (file.lfs) {
        res
          .writeHead(302, {
            location: `${urls.cdn}/blobs/${file.sha256}?X-Amz-Signature=sig`,
            'x-linked-etag': `"${file.sha256}"`,
            'x-linked-size': String(file.content.length),
            'x-repo-commit': COMMIT,
          })
          .end();
        return;
      }
      serveBytes(req, res, file.content, { etag: `"${file.gitSha1}"`, 'x-repo-commit': COMMIT });
      return;
    }
    res.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end();
  });
  urls.hub = hub.url;
  urls.cdn = cdn.url;
  return {
    hub,
    cdn,
    files,
    close: async () => {
      await Promise.all([hub.close(), cdn.close()]);
    },
  };
}
