/**
 * A loopback HTTP proxy that fails every CONNECT in one chosen way, and counts the CONNECTs it
 * read, for the proxy-failure tests (integration and CLI):
 *
 * - `close`: reads the CONNECT request and closes the connection without a word — what a proxy does
 *   when it cannot reach the target. Before the fix, undici reconnected at once, forever.
 * - `407`: Proxy Authentication Required.
 * - `502`: Bad Gateway (the proxy could not reach the target and says so).
 * - `garbage`: answers something that is not HTTP.
 * - `plain-for-tls`: a plain HTTP server answering 400 to anything, for an https:// proxy URL (the
 *   TLS handshake with the proxy fails with ERR_SSL_WRONG_VERSION_NUMBER).
 * - `hang`: reads the CONNECT and never answers.
 */
import net from 'node:net';
import { closedPort } from './net.js';

export type BrokenProxyMode = 'close' | '407' | '502' | 'garbage' | 'plain-for-tls' | 'hang';

export interface BrokenProxy {
  /** http://127.0.0.1:<port> (https:// for `plain-for-tls`), without credentials. */
  readonly url: string;
  readonly port: number;
  /** Complete CONNECT requests read (a TLS ClientHello counts as one for `plain-for-tls`). */
  readonly connects: number;
  /** The request heads read, e.g. to check the Proxy-Authorization header. */
  readonly heads: string[];
  /** Resolves once `n` CONNECTs have been read (bounded by `timeoutMs`). */
  waitForConnects(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const ANSWERS: Partial<Record<BrokenProxyMode, string>> = {
  '407': 'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
  '502': 'HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n',
  garbage: 'SSH-2.0-OpenSSH_9.6 this is not a proxy\r\n\r\n',
  'plain-for-tls': 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
};

export async function startBrokenProxy(mode: BrokenProxyMode): Promise<BrokenProxy> {
  const sockets = new Set<net.Socket>();
  const heads: string[] = [];
  let connects = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const counted = () => {
    connects++;
    for (const w of [...waiters]) {
      if (connects >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      if (mode === 'plain-for-tls') {
        counted();
        socket.end(ANSWERS[mode] ?? '');
        return;
      }
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      heads.push(buffered.slice(0, end));
      buffered = buffered.slice(end + 4);
      counted();
      if (mode === 'hang') return;
      const answer = ANSWERS[mode];
      if (answer === undefined) socket.end();
      else socket.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `${mode === 'plain-for-tls' ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    get connects() {
      return connects;
    },
    heads,
    waitForConnects(n, timeoutMs = 10_000) {
      if (connects >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the proxy saw ${connects} CONNECTs, not ${n}, within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A proxy URL for `mode`, with user:password in it: a broken proxy started here, or for `refused`
 * a port where nothing listens. `proxy` is undefined for `refused`; the caller closes it.
 */
export async function brokenProxyUrl(
  mode: BrokenProxyMode | 'refused',
  user: string,
  password: string,
): Promise<{ proxy: BrokenProxy | undefined; bare: string; proxyUrl: string }> {
  const proxy = mode === 'refused' ? undefined : await startBrokenProxy(mode);
  const bare = proxy?.url ?? (await closedPort());
  return { proxy, bare, proxyUrl: withCredentials(bare, user, password) };
}

/** `url` with user:password inserted (proxy credentials). */
export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString().replace(/\/$/, '');
}
