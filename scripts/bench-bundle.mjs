#!/usr/bin/env node
/**
 * Bundle bench (issue 11, "an export/import round trip of the big repo at disk speed"): the big
 * bench repo (scripts/bench.mjs: 1 GiB + 512 MiB safetensors, config.json, a 2 MB regular
 * tokenizer.json; BENCH_SCALE scales it) is downloaded once from the Hub emulator (not timed), then:
 *
 *   mlcache export <repo> bundle.tar       (reads and hashes every blob, writes one tar)
 *   mlcache import bundle.tar              (reads, hashes, stages and links every blob; empty cache)
 *   mlcache export - | mlcache import -    (two processes, one pipe)
 * beside the same bytes moved by plain tools:
 *   cp -r blobs/                           (a copy, no hashing)
 *   tar cf bundle.tar blobs/, tar xf       (the archive round trip, no hashing)
 *   sha256sum blobs/*                      (the hashing alone, one core)
 *
 * Each command runs under /usr/bin/time (wall, CPU, peak RSS of that process; for the pipe, both
 * sides added). The page cache is warm (nothing is dropped: the machine is shared), so "disk
 * speed" here is the speed of the page cache and the writeback the kernel does meanwhile.
 *   npm run build && node scripts/bench-bundle.mjs [--repeat N]
 * Prints a Markdown table (docs/performance.md, "Bundles", holds the latest).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist');
const bin = path.join(here, '..', 'bin', 'mlcache.js');
const MiB = 1024 * 1024;
const repeat = Number(process.argv[process.argv.indexOf('--repeat') + 1] ?? 1) || 1;
const scale = Number(process.env.BENCH_SCALE ?? '1');

const { createHubEmulator } = await import(path.join(dist, 'emulator', 'index.js'));
const { download } = await import(path.join(dist, 'commands', 'download.js'));
const { loadSettings } = await import(path.join(dist, 'config', 'settings.js'));

const root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-bench-bundle-'));
const REPO = 'bench/big';
const hub = await createHubEmulator({
  repos: [
    {
      id: REPO,
      revisions: [
        {
          refs: ['main'],
          files: [
            { path: 'model-00001-of-00002.safetensors', generated: { size: Math.round(1024 * MiB * scale) } },
            { path: 'model-00002-of-00002.safetensors', generated: { size: Math.round(512 * MiB * scale) } },
            { path: 'config.json', content: '{"model_type":"bench"}\n' },
            { path: 'tokenizer.json', generated: { size: 2_000_000 }, lfs: false },
          ],
        },
      ],
    },
  ],
});

/** One shell command under /usr/bin/time: wall s, CPU s, peak RSS MB (the largest process of the command). */
function timed(command) {
  const started = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', '%U %S %M', 'sh', '-c', command], { encoding: 'utf8', maxBuffer: 64 * MiB });
  const wall = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`${command} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  const last = result.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { wall, cpu: last[0] + last[1], rssMb: last[2] / 1024 };
}

const source = path.join(root, 'source');
try {
  await download({ settings: loadSettings({ env: { HOME: root }, cwd: root, cacheDir: source, endpoint: hub.url }), repoId: REPO });
  const blobsDir = path.join(source, 'models--bench--big', 'blobs');
  let bytes = 0;
  for (const name of await readdir(blobsDir)) bytes += (await stat(path.join(blobsDir, name))).size;
  const node = process.execPath;
  const q = (p) => `'${p}'`;
  const rows = [];
  const measure = async (label, command, cleanup) => {
    const runs = [];
    for (let i = 0; i < repeat; i++) {
      await cleanup();
      runs.push(timed(command));
    }
    runs.sort((a, b) => a.wall - b.wall);
    const best = runs[0];
    rows.push({ label, ...best, mbps: bytes / MiB / best.wall });
  };
  const bundle = path.join(root, 'bundle.tar');
  const target = path.join(root, 'target');
  const copy = path.join(root, 'copy');
  const clean = (...paths) => async () => {
    for (const p of paths) await rm(p, { recursive: true, force: true });
  };
  await measure('mlcache export → bundle.tar', `${q(node)} ${q(bin)} export ${REPO} ${q(bundle)} --cache-dir ${q(source)} --quiet`, clean(bundle));
  await measure('mlcache import bundle.tar (empty cache)', `${q(node)} ${q(bin)} import ${q(bundle)} --cache-dir ${q(target)} --quiet > /dev/null`, clean(target));
  await measure('mlcache import bundle.tar (again: all cached)', `${q(node)} ${q(bin)} import ${q(bundle)} --cache-dir ${q(target)} --quiet > /dev/null`, async () => undefined);
  await measure(
    'mlcache export - | mlcache import - (pipe)',
    `${q(node)} ${q(bin)} export ${REPO} - --cache-dir ${q(source)} --quiet | ${q(node)} ${q(bin)} import - --cache-dir ${q(target)} --quiet > /dev/null`,
    clean(target),
  );
  await measure('cp -r blobs/ (reference)', `cp -r ${q(blobsDir)} ${q(copy)}`, clean(copy));
  await measure('tar cf (reference)', `tar cf ${q(bundle)} -C ${q(blobsDir)} .`, clean(bundle));
  await measure('tar xf (reference)', `mkdir -p ${q(copy)} && tar xf ${q(bundle)} -C ${q(copy)}`, clean(copy));
  await measure('tar cf - | tar xf - (reference pipe)', `mkdir -p ${q(copy)} && tar cf - -C ${q(blobsDir)} . | tar xf - -C ${q(copy)}`, clean(copy));
  await measure('sha256sum blobs/* (hashing alone)', `sha256sum ${q(blobsDir)}/* > /dev/null`, async () => undefined);

  const cpus = os.cpus();
  process.stdout.write(`\nBundle round trip of ${REPO}: ${(bytes / MiB).toFixed(0)} MiB in ${(await readdir(blobsDir)).length} blobs; ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}; best of ${repeat}; page cache warm.\n\n`);
  process.stdout.write('| step | wall s | MB/s | CPU s | peak RSS MB |\n| --- | ---: | ---: | ---: | ---: |\n');
  for (const r of rows) process.stdout.write(`| ${r.label.replaceAll('|', '\\|')} | ${r.wall.toFixed(2)} | ${r.mbps.toFixed(0)} | ${r.cpu.toFixed(2)} | ${r.rssMb.toFixed(0)} |\n`);
} finally {
  await hub.close();
  await rm(root, { recursive: true, force: true });
}
