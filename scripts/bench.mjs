#!/usr/bin/env node
/**
 * `npm run bench`: mlcache's transfer engine against a one-stream-per-file baseline,
 * @huggingface/hub's snapshotDownload and aria2c (when installed), on the Hub emulator with a
 * per-connection bandwidth cap, an aggregate cap and latency. Prints a Markdown table
 * (docs/performance.md holds the latest). A script, not a timed test (docs/performance.md).
 *
 * Each tool runs in a child process (`--child`, or aria2c under /usr/bin/time) so its peak RSS and
 * CPU time are its own; the emulator runs in a third process (scripts/bench-emulator.mjs), so it
 * neither shares an event loop with the bench nor counts to any tool. "aria2c + sha256sum" is
 * aria2c followed by the hash check mlcache does (sha256sum, git hash-object). Sizes can be scaled down for a quick look, and the workloads
 * (big, small, faults, resume, uncapped; default: all) and tools (mlcache, baseline, hfjs,
 * aria2c, writer; default: all) chosen. "writer" is a reference, not a peer: 16 ranged streams
 * written at their offsets and nothing else, the most a writing client gets from this machine:
 *   BENCH_SCALE=0.25 npm run bench
 *   node scripts/bench.mjs --only small --tools mlcache,baseline --repeat 3
 * The robustness rows of issue 10 are workloads too (scripts/bench-robustness.mjs): `huge` (the
 * 1M-file listing; --files N or BENCH_HUGE_FILES), `storm` (20 SIGKILLs) and `lying` (a lying CDN):
 *   node scripts/bench.mjs --only huge --files 200000
 *   node scripts/bench.mjs --only storm,lying
 * The registry rows of issue 11 (scripts/bench-registry.mjs): push, pull, a second pull and a
 * parallel curl of the same blobs against Debian's docker-registry on loopback:
 *   node scripts/bench.mjs --only registry
 * The lock rows of issue 12 (scripts/bench-lock.mjs): `lock` (cache-models --all with and without
 * --frozen, cold and warm: wall time and Hub API requests):
 *   node scripts/bench.mjs --only lock
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist');
const MiB = 1024 * 1024;

// ---------------------------------------------------------------- child: run one tool ----------
async function resolveLocation(hubUrl, repo, file) {
  const { request } = await import('undici');
  const url = `${hubUrl}/${repo}/resolve/main/${file}`;
  const res = await request(url, { method: 'HEAD' });
  await res.body.dump();
  const location = res.headers.location;
  return typeof location === 'string' ? new URL(location, url).toString() : url;
}

async function childMain(args) {
  const spec = JSON.parse(args[0]);
  const started = performance.now();
  const out = { ok: true };
  try {
    if (spec.tool === 'mlcache') await runMlcache(spec, out);
    else if (spec.tool === 'baseline') await runBaseline(spec);
    else if (spec.tool === 'hfjs') await runHfJs(spec);
    else if (spec.tool === 'writer') await runWriter(spec);
    else throw new Error(`unknown tool ${spec.tool}`);
  } catch (error) {
    out.ok = false;
    out.error = String(error?.message ?? error);
  }
  const usage = process.resourceUsage();
  out.wallMs = performance.now() - started;
  // getrusage's ru_maxrss is the peak (no sampler: reading /proc every 50 ms showed in profiles).
  out.peakRssMb = (usage.maxRSS * 1024) / MiB;
  out.cpuSec = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

async function runMlcache(spec, out) {
  const { createTransferEngine } = await import(path.join(dist, 'download', 'index.js'));
  const { createHubClient } = await import(path.join(dist, 'hub', 'index.js'));
  const { fileSource } = await import(path.join(dist, 'snapshot', 'file-source.js'));
  const { Agent } = await import('undici');
  const dispatcher = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
  // URLs exactly as `mlcache download` gets them (src/snapshot/file-source.ts): regular files
  // straight from the Hub's resolve URL, LFS files via one HEAD stopping at the CDN redirect.
  const hubClient = createHubClient({ endpoint: spec.hubUrl, dispatcher });
  const repo = { id: spec.repo, type: 'model' };
  const controller = new AbortController();
  let journalTimings = 0;
  const allOnDisk = new Map();
  let hashTailMs = 0;
  let lastDoneAt = 0;
  const engine = createTransferEngine({
    dispatcher,
    connections: spec.connections ?? Number(process.env.BENCH_CONNECTIONS ?? 16),
    ...(process.env.BENCH_TAIL_CHUNK_MIB ? { tailChunkSize: Number(process.env.BENCH_TAIL_CHUNK_MIB) * MiB } : {}),
    signal: controller.signal,
    retry: { baseDelayMs: 100, maxDelayMs: 2000, maxRetries: 10 },
    onEvent: (e) => {
      // Hash tail: from "all bytes on disk" (the forced last file-progress) to file-done.
      if (e.type === 'file-progress' && e.bytesDone === e.size) allOnDisk.set(e.id, performance.now());
      if (e.type === 'file-done' && allOnDisk.has(e.id)) hashTailMs = Math.max(hashTailMs, performance.now() - allOnDisk.get(e.id));
      if (e.type === 'file-done') lastDoneAt = performance.now();
      if (e.type === 'totals' && process.env.BENCH_DEBUG) process.stderr.write(`  t=${(e.elapsedMs / 1000).toFixed(1)} s  ${(e.totals.bytesTransferred / 1e6).toFixed(0)} MB\n`);
      if (spec.abortAt && e.type === 'totals' && e.totals.bytesDone >= spec.abortAt * e.totals.bytesTotal) controller.abort();
      if (e.type === 'retry') journalTimings++;
    },
  });
  const items = spec.files.map((f) => ({
    id: f.path,
    label: f.path,
    size: f.size,
    digest: f.lfs ? { algorithm: 'sha256', hex: f.sha256 } : { algorithm: 'git-sha1', hex: f.gitSha1 },
    destination: path.join(spec.outDir, f.path.replaceAll('/', '__')),
    resolve: fileSource(hubClient, repo, 'main', { path: f.path, lfs: Boolean(f.lfs) }),
  }));
  const transferStarted = performance.now();
  const results = await Promise.allSettled(items.map((i) => engine.download(i)));
  out.transferMs = performance.now() - transferStarted;
  out.hashTailMs = hashTailMs;
  out.lastDoneMs = lastDoneAt - transferStarted;
  await engine.close();
  await dispatcher.close();
  out.retries = journalTimings;
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length && !spec.abortAt) throw new Error(failed.map((r) => r.reason?.message).join('; '));
}

/** One GET per file, streamed to disk, `parallelFiles` files at once (huggingface_hub uses 8). */
async function runBaseline(spec) {
  const { request } = await import('undici');
  const { createWriteStream } = await import('node:fs');
  const { pipeline } = await import('node:stream/promises');
  const queue = [...spec.files];
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const url = await resolveLocation(spec.hubUrl, spec.repo, f.path);
      const res = await request(url);
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode} for ${f.path}`);
      await pipeline(res.body, createWriteStream(path.join(spec.outDir, f.path.replaceAll('/', '__'))));
    }
  };
  await Promise.all(Array.from({ length: spec.parallelFiles ?? 8 }, worker));
}

/**
 * The floor of any client on this machine: 16 ranged streams written at their offsets with
 * undici, nothing else (no hashing, no journal, no retries, no progress). Not a tool anyone would
 * ship; it shows what the emulator, loopback and the page cache leave for a client that writes.
 */
async function runWriter(spec) {
  const { Agent, request } = await import('undici');
  const { open } = await import('node:fs/promises');
  const dispatcher = new Agent({ connections: 64 });
  const chunk = 16 * MiB;
  const jobs = [];
  const handles = [];
  for (const f of spec.files) {
    const url = await resolveLocation(spec.hubUrl, spec.repo, f.path);
    const handle = await open(path.join(spec.outDir, f.path.replaceAll('/', '__')), 'w');
    handles.push(handle);
    for (let o = 0; o < f.size; o += chunk) jobs.push({ url, handle, start: o, end: Math.min(f.size, o + chunk) - 1 });
  }
  const worker = async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) {
      const res = await request(job.url, { dispatcher, headers: { range: `bytes=${job.start}-${job.end}` } });
      if (res.statusCode !== 206 && res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
      let at = job.start;
      for await (const piece of res.body) {
        await job.handle.write(piece, 0, piece.length, at);
        at += piece.length;
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await Promise.all(handles.map((h) => h.close()));
  await dispatcher.close();
}

async function runHfJs(spec) {
  const { snapshotDownload } = await import('@huggingface/hub');
  await snapshotDownload({ repo: spec.repo, cacheDir: spec.outDir, hubUrl: spec.hubUrl });
}

// ---------------------------------------------------------------- parent ----------------------
/** `--name value` from the command line. */
function flag(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function runChild(spec) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? []), fileURLToPath(import.meta.url), '--child', JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.on('error', reject);
    child.on('exit', () => {
      try {
        resolve(JSON.parse(text.trim().split('\n').at(-1)));
      } catch {
        reject(new Error(`child output: ${text}`));
      }
    });
  });
}

/** aria2c, with URLs the bench resolved (no Hub client, no Node start-up). */
async function runAria2(spec, urls) {
  const input = urls.map((u, i) => `${u}\n  out=${spec.files[i].path.replaceAll('/', '__')}`).join('\n');
  const r = await timed('aria2c', ['-x16', '-s16', '-j16', '-k1M', '--file-allocation=none', '-q', '-d', spec.outDir, '-i', '-'], input);
  const out = { ok: r.ok, wallMs: r.wallMs, peakRssMb: r.peakRssMb, cpuSec: r.cpuSec, error: r.ok ? undefined : r.stderr.trim().slice(0, 200) };
  if (r.ok && spec.verify) {
    // "aria2c + sha256sum": download, then check the hashes as mlcache does (it hashes every byte).
    const v = await verifyWithTools(spec);
    out.transferMs = r.wallMs;
    out.verifyMs = v.wallMs;
    out.wallMs += v.wallMs;
    out.cpuSec += v.cpuSec;
    out.peakRssMb = Math.max(out.peakRssMb, v.peakRssMb);
    if (!v.ok) Object.assign(out, { ok: false, error: 'sha256sum/git hash-object mismatch' });
  }
  return out;
}

/**
 * The Hub emulator in its own child process (scripts/bench-emulator.mjs): it generates and paces
 * the served bytes on its own event loop, and its CPU is nobody's column. Stats, faults and
 * digests go over the child's bench-only control server.
 */
async function startEmulator(repos, options = {}) {
  const child = spawn(process.execPath, [path.join(here, 'bench-emulator.mjs'), JSON.stringify({ repos, options })], { stdio: ['pipe', 'pipe', 'inherit'] });
  const info = await new Promise((resolve, reject) => {
    let text = '';
    const onData = (d) => {
      text += d;
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      child.stdout.off('data', onData);
      try {
        resolve(JSON.parse(text.slice(0, nl)));
      } catch (error) {
        reject(error);
      }
    };
    child.stdout.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`emulator exited (${code})`)));
  });
  const call = async (method, route, body) => {
    const res = await fetch(`${info.control}${route}`, { method, ...(body ? { body: JSON.stringify(body) } : {}) });
    const json = await res.json();
    if (!res.ok) throw new Error(`emulator control ${route}: ${json.error}`);
    return json;
  };
  return {
    url: info.url,
    pid: child.pid,
    stats: () => call('GET', '/stats'),
    resetStats: () => call('POST', '/reset'),
    setFaults: (faults) => call('POST', '/faults', { faults }),
    digests: (repo, paths, type) => call('POST', '/digests', { repo, paths, type }),
    close: async () => {
      await call('POST', '/close').catch(() => undefined);
      child.stdin.end();
      await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve()));
    },
  };
}

/** A command under /usr/bin/time: wall, peak RSS, CPU, stdout. */
function timed(cmd, args, input) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallMs = performance.now() - started;
      const [rssKb, u, s] = (stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
      resolve({ ok: code === 0, code, wallMs, peakRssMb: rssKb / 1024, cpuSec: u + s, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

/**
 * After aria2c: verify what mlcache verifies, with the usual tools. sha256sum for LFS files and
 * `git hash-object` (the git blob sha1) for the others, the two side by side (2 cores).
 */
async function verifyWithTools(spec) {
  const name = (f) => path.join(spec.outDir, f.path.replaceAll('/', '__'));
  const lfs = spec.files.filter((f) => f.lfs);
  const regular = spec.files.filter((f) => !f.lfs);
  const [a, b] = await Promise.all([
    lfs.length ? timed('sha256sum', lfs.map(name)) : undefined,
    regular.length ? timed('git', ['hash-object', '--no-filters', ...regular.map(name)]) : undefined,
  ]);
  const shaOk = !a || (a.ok && a.stdout.trim().split('\n').every((line, i) => line.split(' ')[0] === lfs[i].sha256));
  const gitOk = !b || (b.ok && b.stdout.trim().split('\n').every((line, i) => line.trim() === regular[i].gitSha1));
  return { ok: shaOk && gitOk, wallMs: Math.max(a?.wallMs ?? 0, b?.wallMs ?? 0), cpuSec: (a?.cpuSec ?? 0) + (b?.cpuSec ?? 0), peakRssMb: Math.max(a?.peakRssMb ?? 0, b?.peakRssMb ?? 0) };
}

async function verifyDir(dir, files, hashFile, flat = true) {
  for (const f of files) {
    const file = flat ? path.join(dir, f.path.replaceAll('/', '__')) : f.located;
    try {
      const hex = await hashFile(file, f.lfs ? 'sha256' : 'git-sha1', { worker: f.size > 16 * MiB });
      if (hex !== (f.lfs ? f.sha256 : f.gitSha1)) return false;
    } catch {
      return false;
    }
  }
  return true;
}

async function listFiles(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() || entry.isSymbolicLink()) out.push(path.join(entry.parentPath ?? entry.path, entry.name));
  }
  return out;
}

async function parentMain() {
  const only = flag('--only') ?? process.env.BENCH_ONLY;
  const workloads = only ? new Set(only.split(',')) : undefined;
  const want = (w) => !workloads || workloads.has(w);
  if (!['big', 'small', 'faults', 'resume', 'uncapped'].some(want)) {
    // Only robustness, lock or registry rows: no need for the big fixtures' emulator and digests.
    const robustness = await robustnessRows(want);
    const locked = await lockRows(want);
    const registry = await registryRows(want);
    const bundle = bundleRows(want);
    if (robustness || locked || registry || bundle) process.stdout.write(`\n${machineLine()}\n\n${[robustness, locked, registry, bundle].filter(Boolean).join('\n\n')}\n`);
    return;
  }
  const { hashFile } = await import(path.join(dist, 'util', 'hash.js'));
  const scale = Number(process.env.BENCH_SCALE ?? '1');
  const perConn = 40 * 1000 * 1000;
  const aggregate = 320 * 1000 * 1000;
  const latencyMs = 20;
  const big = Math.round(1024 * MiB * scale);
  const mid = Math.round(512 * MiB * scale);
  const smallFiles = Array.from({ length: 200 }, (_, i) => ({ path: `shards/part-${String(i % 10)}/file-${String(i).padStart(3, '0')}.json`, generated: { size: 2000 + ((i * 7919) % 60_000) }, lfs: i % 4 === 0 }));
  const hub = await startEmulator([
    { id: 'bench/big', revisions: [{ refs: ['main'], files: [{ path: 'model-00001-of-00002.safetensors', generated: { size: big } }, { path: 'model-00002-of-00002.safetensors', generated: { size: mid } }, { path: 'config.json', content: '{"model_type":"bench"}\n' }, { path: 'tokenizer.json', generated: { size: 2_000_000 }, lfs: false }] }] },
    { id: 'bench/small', revisions: [{ refs: ['main'], files: smallFiles }] },
  ]);
  const bigFiles = await hub.digests('bench/big', ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'config.json', 'tokenizer.json']);
  const smallSpecs = await hub.digests('bench/small', smallFiles.map((f) => f.path));
  const capped = { perConnectionBytesPerSec: perConn, aggregateBytesPerSec: aggregate, latencyMs };
  const faulty = {
    ...capped,
    seed: 7,
    rules: [
      { match: { origin: 'cdn' }, action: { kind: 'drop', afterBytes: 1_000_000 }, probability: 0.02 },
      { match: { origin: 'cdn' }, action: { kind: 'status', status: 500 }, probability: 0.02 },
      { match: { origin: 'cdn' }, action: { kind: 'rate-limit', retryAfter: 0 }, probability: 0.01 },
    ],
  };
  const hasAria2 = spawnSync('aria2c', ['--version']).status === 0;
  const rows = [];

  const toolsFlag = flag('--tools');
  const tools = toolsFlag ? new Set(toolsFlag.split(',')) : undefined;
  const repeat = Math.max(1, Number(flag('--repeat') ?? '1'));
  // --repeat N: each measurement N times, the run with the median wall time reported.
  const measure = async (workload, tool, repo, files, faults, extra = {}) => {
    if (tools && !tools.has(tool) && !tools.has(extra.spec?.tool ?? tool)) return { row: {} };
    if (repeat === 1 || extra.keep || extra.outDir) return measureOnce(workload, tool, repo, files, faults, extra);
    const runs = [];
    for (let i = 0; i < repeat; i++) runs.push(await measureOnce(workload, tool, repo, files, faults, { ...extra, quiet: true }));
    runs.sort((a, b) => a.row.wall - b.row.wall);
    const median = runs[Math.floor(runs.length / 2)];
    median.row.tool = `${median.row.tool} (median of ${repeat}: ${runs.map((r) => r.row.wall.toFixed(2)).join(', ')} s)`;
    if (!extra.quiet) rows.push(median.row);
    process.stderr.write(`${workload} / ${tool}: ${median.row.tool}\n`);
    return median;
  };
  const measureOnce = async (workload, tool, repo, files, faults, extra = {}) => {
    await hub.setFaults(faults);
    await hub.resetStats();
    const outDir = extra.outDir ?? (await mkdtemp(path.join(os.tmpdir(), 'mlcache-bench-')));
    const needed = files.reduce((s, f) => s + f.size, 0);
    const spec = { tool, hubUrl: hub.url, repo, files, outDir, ...extra.spec };
    let r;
    if (spec.tool === 'aria2c') {
      const urls = [];
      for (const f of files) urls.push(await resolveLocation(hub.url, repo, f.path));
      r = await runAria2(spec, urls);
    } else {
      r = await runChild(spec);
    }
    const stats = await hub.stats();
    const served = stats.bytesServed;
    let hashesOk = r.ok;
    if (r.ok && !extra.noVerify) {
      if (tool === 'hfjs') {
        const all = await listFiles(outDir);
        const located = files.map((f) => ({ ...f, located: all.find((p) => p.endsWith(`${path.sep}${f.path}`) && p.includes(`${path.sep}snapshots${path.sep}`)) }));
        hashesOk = located.every((f) => f.located) && (await verifyDir(outDir, located, hashFile, false));
      } else hashesOk = await verifyDir(outDir, files, hashFile);
    }
    const mbps = needed / 1e6 / (r.wallMs / 1000);
    const row = { workload, tool, wall: r.wallMs / 1000, mbps, capRatio: faults.aggregateBytesPerSec ? (needed / (r.wallMs / 1000)) / faults.aggregateBytesPerSec : undefined, servedRatio: served / needed, rss: r.peakRssMb, cpu: r.cpuSec, ok: hashesOk, error: r.error, served };
    if (!extra.keep) await rm(outDir, { recursive: true, force: true });
    if (!extra.quiet) {
      rows.push(row);
      const requests = stats.requests;
      process.stderr.write(`${workload} / ${tool}: ${row.wall.toFixed(2)} s${r.hashTailMs !== undefined ? ` (transfer ${(r.transferMs / 1000).toFixed(2)} s, longest hash tail ${r.hashTailMs.toFixed(0)} ms)` : ''}${r.verifyMs !== undefined ? ` (download ${(r.transferMs / 1000).toFixed(2)} s, verify ${(r.verifyMs / 1000).toFixed(2)} s)` : ''}, ${mbps.toFixed(0)} MB/s, ${requests} requests${r.error ? ` (${r.error})` : ''}\n`);
    }
    return { row, outDir };
  };

  if (want('big')) {
    await measure('big repo (capped)', 'mlcache', 'bench/big', bigFiles, capped);
    await measure('big repo (capped)', 'baseline', 'bench/big', bigFiles, capped);
    await measure('big repo (capped)', 'hfjs', 'bench/big', bigFiles, capped);
    if (hasAria2) await measure('big repo (capped)', 'aria2c', 'bench/big', bigFiles, capped);
    if (hasAria2) await measure('big repo (capped)', 'aria2c + sha256sum', 'bench/big', bigFiles, capped, { spec: { tool: 'aria2c', verify: true } });
    await measure('big repo (capped)', 'plain writer (reference)', 'bench/big', bigFiles, capped, { spec: { tool: 'writer' } });
  }
  if (want('small')) {
    await measure('200 small files (capped)', 'mlcache', 'bench/small', smallSpecs, capped);
    await measure('200 small files (capped)', 'baseline', 'bench/small', smallSpecs, capped);
    await measure('200 small files (capped)', 'hfjs', 'bench/small', smallSpecs, capped);
    if (hasAria2) await measure('200 small files (capped)', 'aria2c', 'bench/small', smallSpecs, capped);
    if (hasAria2) await measure('200 small files (capped)', 'aria2c + sha256sum', 'bench/small', smallSpecs, capped, { spec: { tool: 'aria2c', verify: true } });
  }
  if (want('faults')) {
    await measure('big repo + faults', 'mlcache', 'bench/big', bigFiles, faulty);
  }
  if (want('resume')) {
    // Kill at ~40 % (abort → journal + partials kept), then run again on the same directory.
    const first = await measure('resume', 'mlcache', 'bench/big', bigFiles, capped, { spec: { abortAt: 0.4 }, keep: true, quiet: true, noVerify: true });
    const second = await measure('resume', 'mlcache', 'bench/big', bigFiles, capped, { outDir: first.outDir });
    const needed = bigFiles.reduce((s, f) => s + f.size, 0);
    second.row.servedRatio = (first.row.served + second.row.served) / needed;
    second.row.tool = 'mlcache (2nd run after abort at 40 %)';
  }
  if (want('uncapped')) {
    await measure('big repo (uncapped loopback)', 'mlcache', 'bench/big', bigFiles, {});
    await measure('big repo (uncapped loopback)', 'baseline (1 stream/file)', 'bench/big', bigFiles, {}, { spec: { tool: 'baseline', parallelFiles: 1 } });
  }
  await hub.close();
  const robustness = await robustnessRows(want);
  const registry = await registryRows(want);
  const locked = await lockRows(want);
  const bundle = bundleRows(want);

  const fmt = (n, d = 1) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(d));
  const lines = [
    '| workload | tool | wall s | MB/s | × agg. cap | served ÷ needed | peak RSS MB | CPU s | hashes ok |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.workload} | ${r.tool} | ${fmt(r.wall)} | ${fmt(r.mbps, 0)} | ${fmt(r.capRatio, 2)} | ${fmt(r.servedRatio, 3)} | ${fmt(r.rss, 0)} | ${fmt(r.cpu)} | ${r.ok ? 'yes' : `NO${r.error ? ` (${r.error.slice(0, 60)})` : ''}`} |`),
  ];
  process.stdout.write(`\n${machineLine()}\n`);
  process.stdout.write(`Emulator caps: ${perConn / 1e6} MB/s per connection, ${aggregate / 1e6} MB/s aggregate, ${latencyMs} ms latency; scale ${scale}; aria2c ${hasAria2 ? 'installed' : 'not installed (skipped)'}\n\n`);
  if (rows.length) process.stdout.write(`${lines.join('\n')}\n`);
  if (robustness) process.stdout.write(`\n${robustness}\n`);
  if (locked) process.stdout.write(`\n${locked}\n`);
  if (registry) process.stdout.write(`\n${registry}\n`);
  if (bundle) process.stdout.write(`\n${bundle}\n`);

}

function machineLine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  let disk = '';
  try {
    disk = execFileSync('df', ['-hT', os.tmpdir()], { encoding: 'utf8' }).trim().split('\n').at(-1);
  } catch {
    // df is optional: the table is still useful without the disk line.
  }
  return `Machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 1e9).toFixed(0)} GB RAM, Node ${process.version}, ${os.platform()} ${os.release()}; tmp: ${disk}`;
}

/**
 * The robustness rows (scripts/bench-robustness.mjs): `huge` (--files N or BENCH_HUGE_FILES,
 * default 1,000,000; BENCH_HUGE_TIMEOUT seconds, default 1800), `storm` and `lying`.
 */
async function robustnessRows(want) {
  if (!want('huge') && !want('storm') && !want('lying')) return undefined;
  const { benchHugeListing, benchCrashStorm, benchLyingCdn, formatRobustness } = await import('./bench-robustness.mjs');
  const python = spawnSync('python3', ['-c', 'import huggingface_hub; print(huggingface_hub.__version__)'], { encoding: 'utf8' });
  const results = {
    python: python.status === 0 ? `huggingface_hub ${python.stdout.trim()} is importable but this script does not run it yet` : undefined,
  };
  if (want('huge')) {
    results.huge = await benchHugeListing({
      startEmulator,
      files: Number(flag('--files') ?? process.env.BENCH_HUGE_FILES ?? 1_000_000),
      timeoutSec: Number(process.env.BENCH_HUGE_TIMEOUT ?? 1800),
      sigintAfterSec: Number(process.env.BENCH_SIGINT_AFTER ?? 3),
      sigintCapSec: Number(process.env.BENCH_SIGINT_CAP ?? 60),
      planWaitSec: Number(process.env.BENCH_SIGINT_PLAN_WAIT ?? 20),
    });
  }
  if (want('storm')) results.storm = await benchCrashStorm({ startEmulator, seed: Number(process.env.BENCH_STORM_SEED ?? 10) });
  if (want('lying')) results.lying = await benchLyingCdn({ startEmulator, timeoutSec: Number(process.env.BENCH_LIE_TIMEOUT ?? 180) });
  return formatRobustness(results);
}

/** The lock rows (scripts/bench-lock.mjs): cache-models --all with and without --frozen, cold and warm. */
async function lockRows(want) {
  if (!want('lock')) return undefined;
  const { benchLock, formatLock } = await import('./bench-lock.mjs');
  return formatLock(await benchLock({ startEmulator, repeat: Number(flag('--repeat') ?? 5) }));
}

/** The bundle rows (scripts/bench-bundle.mjs, its own process): export/import round trip beside cp, tar and sha256sum. */
function bundleRows(want) {
  if (!want('bundle')) return undefined;
  const run = spawnSync(process.execPath, [path.join(here, 'bench-bundle.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return run.status === 0 ? run.stdout.trim() : `Bundle rows failed (exit ${run.status}).`;
}

/** The registry rows (scripts/bench-registry.mjs): push, pull, pull again, parallel curl, against a real registry. */
async function registryRows(want) {
  if (!want('registry')) return undefined;
  const { benchRegistry, formatRegistry } = await import('./bench-registry.mjs');
  return formatRegistry(await benchRegistry({ startEmulator, scale: Number(process.env.BENCH_SCALE ?? '1') }));
}

if (process.argv[2] === '--child') await childMain(process.argv.slice(3));
else await parentMain();
