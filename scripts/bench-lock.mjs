/**
 * The lock rows of `npm run bench` (issue 12): `cache-models --all` of a 12-repo catalog through
 * the real CLI (`node bin/mlcache.js`, one process per run, so Node's start-up counts: it is what a
 * CI step pays), against the Hub emulator in its own process with 20 ms latency and the bench's
 * caps, with and without `--frozen`, cold (empty cache) and warm (everything cached). Counts Hub API
 * requests (/api/: revision and tree calls) and all requests from the emulator's log. Warm rows are
 * the median of 5 runs.
 *
 *   node scripts/bench.mjs --only lock
 *
 * The shipped catalog's groups are emptied by a project catalog (`replace: true`), so `--all`
 * selects the bench group only.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, '..', 'bin', 'mlcache.js');

const REPOS = 12;

function fixtures() {
  return Array.from({ length: REPOS }, (_, i) => ({
    id: `bench-lock/model-${String(i).padStart(2, '0')}`,
    revisions: [
      {
        refs: ['main'],
        files: [
          { path: 'config.json', content: `{"model":${i}}\n` },
          { path: 'tokenizer.json', generated: { size: 400_000, seed: 1000 + i }, lfs: false },
          { path: 'tokenizer_config.json', content: '{}\n' },
          { path: 'model.safetensors', generated: { size: 4_000_000, seed: 2000 + i } },
          { path: 'README.md', content: '# bench\n' },
          { path: 'onnx/model.onnx', generated: { size: 1_000_000, seed: 3000 + i } },
        ],
      },
    ],
  }));
}

function run(args, { cwd, env }) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [bin, ...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (t) => (stderr = (stderr + t).slice(-4096)));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, wallMs: performance.now() - t0, stderr }));
  });
}

export async function benchLock({ startEmulator, repeat = 5 }) {
  const shipped = JSON.parse(await readFile(path.join(here, '..', 'config', 'models.json'), 'utf8'));
  const repos = fixtures();
  const hub = await startEmulator(repos);
  await hub.setFaults({ perConnectionBytesPerSec: 40e6, aggregateBytesPerSec: 320e6, latencyMs: 20 });
  const tmp = await mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'mlcache-bench-lock-'));
  const rows = [];
  try {
    const project = path.join(tmp, 'project');
    await mkdir(path.join(project, 'config'), { recursive: true });
    const groups = Object.fromEntries(Object.keys(shipped.groups).map((g) => [g, { replace: true, entries: [] }]));
    groups.bench = { entries: repos.map((r) => ({ repo: r.id, purpose: 'bench', include: ['*.json', '*.safetensors'] })) };
    await writeFile(path.join(project, 'config', 'models.json'), JSON.stringify({ version: 1, groups }));
    let cache = 0;
    const envFor = (dir) => ({ PATH: process.env.PATH, HOME: tmp, HF_HUB_CACHE: dir, TORCH_HOME: path.join(tmp, 'torch'), HF_ENDPOINT: hub.url, NO_COLOR: '1' });
    const measure = async (label, args, dir, times = 1) => {
      const runs = [];
      for (let i = 0; i < times; i++) {
        await hub.resetStats();
        const r = await run(args, { cwd: project, env: envFor(dir) });
        if (r.code !== 0) throw new Error(`${label}: exit ${r.code}: ${r.stderr}`);
        const stats = await hub.stats();
        runs.push({ label, wall: r.wallMs / 1000, api: stats.apiRequests, requests: stats.requests, mb: stats.bytesServed / 1e6 });
      }
      runs.sort((a, b) => a.wall - b.wall);
      const median = runs[Math.floor(runs.length / 2)];
      if (times > 1) median.label = `${label} (median of ${times}: ${runs.map((x) => x.wall.toFixed(2)).join(', ')} s)`;
      rows.push(median);
      process.stderr.write(`lock / ${median.label}: ${median.wall.toFixed(2)} s, ${median.api} API requests, ${median.requests} requests\n`);
    };
    const fresh = () => path.join(tmp, `hub-${cache++}`);
    const plain = fresh();
    await measure('cache-models --all, cold', ['cache-models', '--all', '--yes', '--quiet'], plain);
    await measure('cache-models --all, warm', ['cache-models', '--all', '--yes', '--quiet'], plain, repeat);
    await measure('mlcache lock (new lock)', ['lock'], fresh());
    await measure('mlcache lock (lock already satisfied)', ['lock'], fresh(), repeat);
    const frozen = fresh();
    await measure('cache-models --all --frozen, cold', ['cache-models', '--all', '--frozen', '--yes', '--quiet'], frozen);
    await measure('cache-models --all --frozen, warm', ['cache-models', '--all', '--frozen', '--yes', '--quiet'], frozen, repeat);
    await measure('mlcache --version (Node start-up, for scale)', ['--version'], frozen, repeat);
  } finally {
    await hub.close();
    await rm(tmp, { recursive: true, force: true });
  }
  return rows;
}

export function formatLock(rows) {
  return [
    `Lock rows: cache-models of ${REPOS} repos (3 of 6 files selected each, 4.4 MB per repo) through the CLI; emulator 20 ms latency, 40 MB/s per connection, 320 MB/s aggregate.`,
    '',
    '| run | wall s | Hub API requests | all requests | MB served |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.label} | ${r.wall.toFixed(2)} | ${r.api} | ${r.requests} | ${r.mb.toFixed(1)} |`),
  ].join('\n');
}
