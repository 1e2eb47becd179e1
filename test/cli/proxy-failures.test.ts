/**
 * `mlcache download` behind a broken HTTPS_PROXY, as a user runs it: a typed NETWORK_PROXY error
 * (exit 6) within seconds, naming the proxy's host:port, after a handful of CONNECTs — never a
 * flood — and the proxy password nowhere in stderr or --json output, even with --verbose.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from '../helpers/cli.js';
import { brokenProxyUrl, type BrokenProxy, type BrokenProxyMode } from '../helpers/broken-proxy.js';

beforeAll(() => ensureBuilt());

const PASSWORD = 'pr0xy-s3cret-pw';

let root: string;
const proxies: BrokenProxy[] = [];
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-cli-proxy-'));
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await rm(root, { recursive: true, force: true });
});

describe('mlcache download behind a broken proxy (spawned)', () => {
  it.each<{ mode: BrokenProxyMode | 'refused'; message: RegExp }>([
    { mode: 'close', message: /closed the connection without answering CONNECT hub\.invalid:443/ },
    { mode: 'refused', message: /refused the connection/ },
    { mode: '407', message: /rejected the credentials/ },
    { mode: 'garbage', message: /not HTTP/ },
    { mode: 'plain-for-tls', message: /TLS handshake with the proxy/ },
  ])('$mode → NETWORK_PROXY, exit 6, within seconds, a handful of CONNECTs, no password', async ({ mode, message }) => {
    const { proxy, bare, proxyUrl } = await brokenProxyUrl(mode, 'alice', PASSWORD);
    if (proxy) proxies.push(proxy);
    const started = Date.now();
    const result = await runCli(['download', 'acme/tiny', '--endpoint', 'https://hub.invalid', '--cache-dir', path.join(root, 'hub'), '--json', '--verbose'], {
      env: { HOME: root, PATH: process.env.PATH ?? '', NO_COLOR: '1', HTTPS_PROXY: proxyUrl, HTTP_PROXY: proxyUrl },
      cwd: root,
    });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.exitCode, result.stderr).toBe(6);
    const lines = result.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; code?: string; message?: string });
    const error = lines.at(-1);
    expect(error?.type).toBe('error');
    expect(error?.code).toBe('NETWORK_PROXY');
    expect(error?.message).toMatch(message);
    expect(error?.message).toContain(new URL(bare).host);
    expect(result.stderr).toMatch(message);
    expect(`${result.stdout}\n${result.stderr}`).not.toContain(PASSWORD);
    expect(result.stderr).not.toMatch(/Warning/);
    expect(result.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    if (proxy) {
      expect(proxy.connects).toBeGreaterThan(0);
      expect(proxy.connects).toBeLessThanOrEqual(10);
    }
  });
});
