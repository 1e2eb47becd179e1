/**
 * The registry rows of `npm run bench` (issue 11), against a REAL registry on loopback (Debian's
 * docker-registry, CNCF distribution 2.8.2) and the Hub emulator in its own process:
 *
 *   download        mlcache download of the big bench repo from the Hub emulator (uncapped loopback)
 *   push            mlcache push of that snapshot to the registry (empty registry)
 *   pull            mlcache pull of it into an empty cache
 *   pull again      the same pull once more: bytes moved must be 0
 *   parallel curl   curl of the same blobs from the registry, one process per blob, all at once,
 *                   written to files (what a hand-written script would do; no verification), and
 *                   the same followed by sha256sum of each file (the check mlcache makes)
 *
 * Each command runs under /usr/bin/time: wall, CPU (user + sys) and peak RSS are its own. Target
 * (docs/performance.md): pull ≥ 0.9 × the parallel-curl figure. A script, not a test.
 *   node scripts/bench.mjs --only registry        (BENCH_SCALE=0.25 for a quick look)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, '..', 'bin', 'mlcache.js');
const MiB = 1024 * 1024;

/** A command under /usr/bin/time: { wallSec, cpuSec, rssMb, stdout, code }. */
function timed(command, args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '@@TIME %e %U %S %M', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /@@TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
      if (!m) return reject(new Error(`no timing from ${command}: ${stderr.slice(-500)}`));
      resolve({ wallSec: Number(m[1]), cpuSec: Number(m[2]) + Number(m[3]), rssMb: Number(m[4]) / 1024, stdout, stderr, code });
    });
  });
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startRegistry(root) {
  const port = await freePort();
  const config = path.join(root, 'config.yml');
  await writeFile(config, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(root, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const child = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${url}/v2/`).then((r) => r.ok, () => false);
    if (ok) return { registry: `127.0.0.1:${port}`, url, stop: () => child.kill('SIGKILL') };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('docker-registry did not start');
}

export async function benchRegistry({ startEmulator, scale = 1 }) {
  if (!existsSync('/usr/bin/docker-registry')) return { skipped: 'Debian docker-registry is not installed (apt-get install docker-registry)' };
  const big = Math.round(1024 * MiB * scale);
  const mid = Math.round(512 * MiB * scale);
  const repos = [
    {
      id: 'bench/big',
      revisions: [
        {
          refs: ['main'],
          files: [
            { path: 'model-00001-of-00002.safetensors', generated: { size: big } },
            { path: 'model-00002-of-00002.safetensors', generated: { size: mid } },
            { path: 'config.json', content: '{"model_type":"bench"}\n' },
            { path: 'tokenizer.json', generated: { size: 2_000_000 }, lfs: false },
          ],
        },
      ],
    },
  ];
  const hub = await startEmulator(repos);
  const root = await mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'mlcache-bench-registry-'));
  const reg = await startRegistry(root);
  const rows = [];
  const total = big + mid + 2_000_000 + 23;
  try {
    const env = { HOME: root, NO_COLOR: '1' };
    const cacheA = path.join(root, 'a');
    const cacheB = path.join(root, 'b');
    const target = `oci://${reg.registry}/bench/big`;
    const row = (what, r, bytes) => rows.push({ what, mbps: bytes / 1e6 / r.wallSec, ...r, bytes });

    row('mlcache download (Hub emulator)', await timed(process.execPath, [bin, 'download', 'bench/big', '--endpoint', hub.url, '--cache-dir', cacheA, '--quiet'], env), total);
    row('mlcache push', await timed(process.execPath, [bin, 'push', 'bench/big', target, '--cache-dir', cacheA, '--quiet'], env), total);
    const pull = await timed(process.execPath, [bin, 'pull', `${target}:main`, '--cache-dir', cacheB, '--json'], env);
    row('mlcache pull', pull, total);
    const again = await timed(process.execPath, [bin, 'pull', `${target}:main`, '--cache-dir', cacheB, '--json'], env);
    const result = JSON.parse(again.stdout.trim().split('\n').at(-1));
    row(`mlcache pull again (${result.bytesFetched} bytes moved)`, again, 0);

    // The same blobs with curl, one process per blob, all at once (the manifest names them).
    const manifest = await (await fetch(`${reg.url}/v2/bench/big/manifests/main`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json();
    const script = manifest.layers.map((l, i) => `curl -sf -o ${path.join(root, `curl-${i}`)} ${reg.url}/v2/bench/big/blobs/${l.digest} &`).join('\n');
    row('parallel curl of the same blobs', await timed('/bin/sh', ['-c', `${script}\nwait`]), total);
    // What mlcache also does: check every byte against its digest (sha256sum over the files curl wrote).
    const check = manifest.layers.map((l, i) => `sha256sum ${path.join(root, `curl-${i}`)} &`).join('\n');
    const curlRow = rows.at(-1);
    const sums = await timed('/bin/sh', ['-c', `${check}\nwait`]);
    const both = { ...sums, wallSec: curlRow.wallSec + sums.wallSec, cpuSec: curlRow.cpuSec + sums.cpuSec, rssMb: Math.max(curlRow.rssMb, sums.rssMb) };
    row('parallel curl + sha256sum (what mlcache verifies)', both, total);
  } finally {
    reg.stop();
    await hub.close?.();
    await rm(root, { recursive: true, force: true });
  }
  const curl = rows.find((r) => r.what === 'parallel curl of the same blobs');
  const verified = rows.find((r) => r.what.startsWith('parallel curl + sha256sum'));
  const pull = rows.find((r) => r.what === 'mlcache pull');
  return { rows, total, pullVsCurl: curl && pull ? pull.mbps / curl.mbps : undefined, pullVsVerifiedCurl: verified && pull ? pull.mbps / verified.mbps : undefined };
}

export function formatRegistry(result) {
  if (result.skipped) return `Registry rows skipped: ${result.skipped}.`;
  const lines = [
    `Registry (Debian docker-registry 2.8 on loopback), bench/big: ${(result.total / 1e6).toFixed(0)} MB in 4 files`,
    '',
    '| step | wall s | MB/s | CPU s | peak RSS MB |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...result.rows.map((r) => `| ${r.what} | ${r.wallSec.toFixed(2)} | ${r.bytes > 0 ? r.mbps.toFixed(0) : '—'} | ${r.cpuSec.toFixed(2)} | ${r.rssMb.toFixed(0)} |`),
    '',
    result.pullVsCurl === undefined ? '' : `pull ÷ parallel curl: ${result.pullVsCurl.toFixed(2)} (target ≥ 0.9); pull ÷ (parallel curl + sha256sum): ${result.pullVsVerifiedCurl?.toFixed(2) ?? '–'}`,
  ];
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stderr.write('Run through scripts/bench.mjs: node scripts/bench.mjs --only registry\n');
  spawnSync(process.execPath, [path.join(here, 'bench.mjs'), '--only', 'registry'], { stdio: 'inherit' });
}
