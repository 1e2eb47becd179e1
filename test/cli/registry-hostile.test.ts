/**
 * The fleet tier against registries that misbehave, found by an outside review: each spawns the
 * built CLI against a small hand-made node:http registry on loopback and real temp dirs. A blob
 * that never ends, a token realm over plain HTTP on another host, a tar layer whose bytes are also
 * a cached file, and --insecure-registry for a registry that is not on loopback.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex as sha, writeCacheRepo } from '../helpers/cache-repo.js';
import { ensureBuilt, runCli } from '../helpers/cli.js';

const servers: http.Server[] = [];
const dirs: string[] = [];

beforeAll(() => ensureBuilt());
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function listen(server: http.Server, host: string): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'mlcache-judge-'));
  dirs.push(d);
  return d;
}

/** A ModelPack manifest with one raw layer `w.bin` of `blob`. */
function artifact(blob: Buffer) {
  const config = Buffer.from(JSON.stringify({ descriptor: { name: 'Judge/Model' }, config: {}, modelfs: { type: 'layers', diffIds: [`sha256:${sha(blob)}`] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.cncf.model.manifest.v1+json',
      config: { mediaType: 'application/vnd.cncf.model.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
      layers: [{ mediaType: 'application/vnd.cncf.model.weight.v1.raw', digest: `sha256:${sha(blob)}`, size: blob.length, annotations: { 'org.cncf.model.filepath': 'w.bin' } }],
    }),
  );
  return { config, manifest };
}

describe('every wait ends', () => {
  it('a registry whose blob body never ends (no length, bytes forever) fails the pull within 60 s', async () => {
    const blob = Buffer.alloc(256 * 1024, 7);
    const { config, manifest } = artifact(blob);
    let blobGets = 0;
    const port = await listen(
      http.createServer((req, res) => {
        const url = req.url ?? '';
        if (url === '/v2/') return res.writeHead(200).end('{}');
        if (url.includes('/manifests/')) {
          res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': `sha256:${sha(manifest)}` });
          return res.end(req.method === 'HEAD' ? undefined : manifest);
        }
        if (url.endsWith(sha(config))) return res.writeHead(200, { 'content-length': config.length }).end(config);
        // The blob: ignores Range, answers 200 without a length and streams bytes until the client hangs up.
        blobGets++;
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(65536, 7);
        const timer = setInterval(() => res.write(chunk), 5);
        res.on('close', () => clearInterval(timer));
      }),
      '127.0.0.1',
    );
    const cache = await tempDir();
    const run = runCli(['pull', `oci://127.0.0.1:${port}/judge/model:v1`, '--cache-dir', cache, '--quiet'], { env: { PATH: process.env.PATH ?? '', HOME: cache } });
    const timer = setTimeout(() => run.kill('SIGKILL'), 60_000);
    const result = await run;
    clearTimeout(timer);
    // Observed: "retry 1 now: … body longer than announced: resolving the URL again for one fresh
    // attempt" forever (hundreds of GETs a minute); the run only ends when killed.
    expect(result.signal, `killed after 60 s and ${blobGets} blob GETs`).toBeUndefined();
    expect(result.exitCode).toBe(7);
    expect(result.stderr).toMatch(/^error: .*\nhint: /m);
  }, 90_000);
});

describe('no credential in clear text to a non-loopback host', () => {
  it('a loopback registry naming a plain-HTTP token realm on a non-loopback address gets no Basic credentials sent there', async () => {
    const external = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    expect(external, 'this test needs one non-loopback IPv4 address on the machine').toBeDefined();
    const blob = Buffer.from('w\n');
    const { manifest } = artifact(blob);
    const seenAtRealm: string[] = [];
    const realmPort = await listen(
      http.createServer((req, res) => {
        seenAtRealm.push(req.headers.authorization ?? '-');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'issued-token', expires_in: 300 }));
      }),
      '0.0.0.0',
    );
    const registryPort = await listen(
      http.createServer((req, res) => {
        if (req.headers.authorization !== 'Bearer issued-token') {
          res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${external}:${realmPort}/token",service="judge"`, 'content-type': 'application/json' });
          return res.end('{"errors":[{"code":"UNAUTHORIZED","message":"login"}]}');
        }
        if (req.url === '/v2/') return res.writeHead(200).end('{}');
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
        res.end(manifest);
      }),
      '127.0.0.1',
    );
    const home = await tempDir();
    await mkdir(path.join(home, '.docker'));
    const password = 'judge-PASSWORD-never-in-clear';
    await writeFile(path.join(home, '.docker', 'config.json'), JSON.stringify({ auths: { [`127.0.0.1:${registryPort}`]: { auth: Buffer.from(`alice:${password}`).toString('base64') } } }));
    const result = await runCli(['pull', `oci://127.0.0.1:${registryPort}/judge/model:v1`, '--cache-dir', path.join(home, 'cache'), '--dry-run', '--quiet'], {
      env: { PATH: process.env.PATH ?? '', HOME: home },
    });
    // Observed: the realm receives `Authorization: Basic alice:<password>` over plain HTTP on a
    // non-loopback address (src/registry/auth.ts: a plain-HTTP realm is allowed whenever the
    // registry itself is plain HTTP, whatever the realm's host). Expected: INSECURE_REGISTRY
    // (exit 2) before anything is sent, as for a registry on that host.
    expect(seenAtRealm.filter((a) => a.startsWith('Basic'))).toEqual([]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).not.toContain(password);
  }, 60_000);
});

describe('a pull never breaks what the cache already holds', () => {
  it('unpacking a tar layer does not delete a blob another snapshot of the repo links (an LFS file with the same bytes)', async () => {
    const { pack } = await import('tar-stream');
    const tarStream = pack();
    const parts: Buffer[] = [];
    tarStream.on('data', (c: Buffer) => parts.push(c));
    const ended = new Promise((r) => tarStream.on('end', r));
    tarStream.entry({ name: 'inner.txt' }, 'inside the tar\n');
    tarStream.finalize();
    await ended;
    const tarBytes = Buffer.concat(parts);
    const config = Buffer.from(JSON.stringify({ descriptor: { name: 'Judge/Tars' }, config: {}, modelfs: { type: 'layers', diffIds: [`sha256:${sha(tarBytes)}`] } }));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.cncf.model.manifest.v1+json',
        config: { mediaType: 'application/vnd.cncf.model.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
        layers: [{ mediaType: 'application/vnd.cncf.model.dataset.v1.tar', digest: `sha256:${sha(tarBytes)}`, size: tarBytes.length, annotations: { 'org.cncf.model.filepath': 'folder' } }],
      }),
    );
    const port = await listen(
      http.createServer((req, res) => {
        const url = req.url ?? '';
        if (url === '/v2/') return res.writeHead(200).end('{}');
        if (url.includes('/manifests/')) return res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(req.method === 'HEAD' ? undefined : manifest);
        const body = url.endsWith(sha(config)) ? config : tarBytes;
        res.writeHead(200, { 'content-length': body.length }).end(body);
      }),
      '127.0.0.1',
    );
    // The cache already holds Judge/Tars@main whose LFS file data.tar has exactly the layer's bytes.
    const cache = await tempDir();
    const commit = 'a'.repeat(40);
    const { dir: repoDir } = await writeCacheRepo(cache, { id: 'Judge/Tars', commit, files: [{ path: 'data.tar', content: tarBytes, lfs: true }] });

    const result = await runCli(['pull', `oci://127.0.0.1:${port}/judge/tars:v1`, '--cache-dir', cache, '--quiet'], { env: { PATH: process.env.PATH ?? '', HOME: cache } });
    expect(result.exitCode).toBe(0);
    // Observed: src/commands/pull.ts pullArchives() removes blobs/<layer sha256> after unpacking, so
    // the existing snapshot's data.tar now dangles.
    expect((await readFile(path.join(repoDir, 'snapshots', commit, 'data.tar'))).equals(tarBytes)).toBe(true);
  }, 60_000);
});

describe('--insecure-registry works for a non-loopback registry', () => {
  it('pull oci://<non-loopback ip>:port/… --insecure-registry <ip>:port talks plain HTTP to it', async () => {
    const external = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    expect(external, 'this test needs one non-loopback IPv4 address on the machine').toBeDefined();
    const blob = Buffer.from('w\n');
    const { config, manifest } = artifact(blob);
    let requests = 0;
    const port = await listen(
      http.createServer((req, res) => {
        requests++;
        const url = req.url ?? '';
        if (url === '/v2/') return res.writeHead(200).end('{}');
        if (url.includes('/manifests/')) return res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(req.method === 'HEAD' ? undefined : manifest);
        const body = url.endsWith(sha(config)) ? config : blob;
        res.writeHead(200, { 'content-length': body.length }).end(body);
      }),
      '0.0.0.0',
    );
    const cache = await tempDir();
    const registry = `${external}:${port}`;
    const result = await runCli(['pull', `oci://${registry}/judge/model:v1`, '--insecure-registry', registry, '--cache-dir', cache, '--quiet'], { env: { PATH: process.env.PATH ?? '', HOME: cache } });
    // Observed: exit 2, "Refusing to talk to <ip>:<port> over plain HTTP: it is not a loopback host and not named by
    // --insecure-registry" with a hint to pass the very flag that was passed (MLCACHE_INSECURE_REGISTRY too; push too).
    // src/runtime/registry-session.ts openRegistry() computes `insecure` from the list but does not pass
    // `insecureHosts` to createRegistryClient, whose own check (src/registry/client.ts) then refuses.
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(requests).toBeGreaterThan(0);
  }, 60_000);
});
