/**
 * The robustness rows of `npm run bench` (issue 10): each one spawns the real CLI
 * (`node bin/mlcache.js download … --json`) against the Hub emulator in its own process
 * (scripts/bench-emulator.mjs) and measures what a user would see.
 *
 *   huge   a synthetic dataset of N tiny files (default 1,000,000; --files N or BENCH_HUGE_FILES),
 *          tree pages of 1000: time to plan (first file-queued/file-started event), time to the
 *          first content request (the emulator's log), total wall, peak RSS of mlcache, and the
 *          time to exit after a SIGINT sent a few seconds into the transfer.
 *   storm  a ~400 MB repo, 20 SIGKILLs at seeded random moments (7 in the first 500 ms of a run,
 *          13 within 1 s of its first content byte),
 *          then one final run: bytes served ÷ repo size, leftovers under the cache, disk high-water.
 *   lying  a CDN that lies deterministically (body 1000 bytes longer / shorter with an honest
 *          Content-Length, a 206 whose Content-Range start is shifted, a 206 whose total is wrong):
 *          time to a clear failure, exit code and error code.
 *
 * A script, not a test: it prints Markdown tables (docs/performance.md holds the latest).
 */
import { spawn } from 'node:child_process';
import { lstat, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// The emulator's fault RNG (mulberry32): the storm's kill moments replay from the seed.
import { createRng } from '../dist/emulator/faults.js';
import { REPO_TEMP_FOLDER } from '../dist/cache/repo-paths.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, '..', 'bin', 'mlcache.js');
const probe = path.join(here, 'bench-rss-probe.mjs');
const MB = 1e6;


const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function tempDir(label) {
  return mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), `mlcache-bench-${label}-`));
}

async function vmHwmKb(pid) {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * One `mlcache` run in a child process. Its stdout (NDJSON with --json) is scanned for the first
 * queued/started event and the last error line without keeping it (a million files make ~1 GB of
 * events). Peak RSS: getrusage's maxRSS written at exit by bench-rss-probe.mjs, or when the process
 * dies without exiting normally, the largest VmHWM seen by a 500 ms poll.
 */
function runMlcache(args, { timeoutMs }) {
  const rssFile = path.join(os.tmpdir(), `mlcache-bench-rss-${process.pid}-${Math.random().toString(16).slice(2)}`);
  const startedAt = Date.now();
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', pathToFileURL(probe).href, bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BENCH_RSS_FILE: rssFile, NO_COLOR: '1' },
  });
  const run = { child, startedAt, t0, firstEventMs: undefined, stdoutBytes: 0, tail: '', stderr: '', polledKb: 0, timedOut: false };
  let pending = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    run.stdoutBytes += text.length;
    if (run.firstEventMs === undefined) {
      pending += text;
      if (/"type":"file-(queued|started)"/.test(pending)) run.firstEventMs = performance.now() - t0;
      else if (pending.length > 1 << 20) pending = pending.slice(-4096);
    }
    run.tail += text;
    if (run.tail.length > 512 * 1024) run.tail = run.tail.slice(-256 * 1024);
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => (run.stderr = (run.stderr + text).slice(-16 * 1024)));
  const poll = setInterval(async () => (run.polledKb = Math.max(run.polledKb, await vmHwmKb(child.pid))), 500);
  const timer = timeoutMs ? setTimeout(() => ((run.timedOut = true), child.kill('SIGKILL')), timeoutMs) : undefined;
  run.exited = new Promise((resolve) => {
    child.on('exit', async (code, signal) => {
      const exitMs = performance.now() - t0;
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      let probedKb = 0;
      try {
        probedKb = Number(await readFile(rssFile, 'utf8'));
        await rm(rssFile, { force: true });
      } catch {
        // Killed: no probe file, the poll stands in.
      }
      const errorLine = run.tail
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{"type":"error"') || l.startsWith('{"type":"file-failed"'));
      let errorCode;
      try {
        errorCode = errorLine ? JSON.parse(errorLine).code : undefined;
      } catch {
        errorCode = undefined;
      }
      resolve({ code, signal, exitMs, peakRssMb: Math.max(probedKb, run.polledKb) / 1024, errorCode });
    });
  });
  return run;
}

/** Bytes allocated (st_blocks × 512) and files by kind under `dir`. */
async function diskUsage(dir) {
  let bytes = 0;
  const leftovers = { incomplete: 0, journal: 0, tmp: 0 };
  const leftoverPaths = [];
  let entries = [];
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return { bytes, leftovers, leftoverPaths };
  }
  for (const e of entries) {
    const full = path.join(e.parentPath ?? e.path, e.name);
    try {
      bytes += (await lstat(full)).blocks * 512;
    } catch {
      continue; // removed while we walked
    }
    // Writers' temps live in each repo's .mlcache-tmp/ under names without a .tmp ending.
    const inRepoTemp = path.basename(e.parentPath ?? e.path) === REPO_TEMP_FOLDER;
    const kind = e.name.endsWith('.incomplete') ? 'incomplete' : e.name.endsWith('.mlcache-journal') ? 'journal' : e.name.endsWith('.tmp') || inRepoTemp ? 'tmp' : undefined;
    if (kind) {
      leftovers[kind]++;
      leftoverPaths.push(path.relative(dir, full));
    }
  }
  return { bytes, leftovers, leftoverPaths };
}

function log(text) {
  process.stderr.write(`${text}\n`);
}

// ---------------------------------------------------------------- a. the 1M-file listing -------

/**
 * @param {object} o
 * @param {(repos: object[], options?: object) => Promise<any>} o.startEmulator
 * @param {number} o.files
 * @param {number} o.timeoutSec  cap of the full run (SIGKILL after it)
 * @param {number} o.sigintAfterSec  SIGINT this long after the first content request
 * @param {number} [o.planWaitSec]  …or this long after the start when no content was requested by then
 * @param {number} o.sigintCapSec  SIGKILL if the process has not exited this long after SIGINT
 */
export async function benchHugeListing({ startEmulator, files, timeoutSec, sigintAfterSec, sigintCapSec, planWaitSec = 20 }) {
  const id = 'bench/huge';
  const hub = await startEmulator([{ id, type: 'dataset', revisions: [{ refs: ['main'], files: [], synthetic: { files } }] }], { pageSize: 1000 });
  const args = (cacheDir) => ['download', id, '--repo-type', 'dataset', '--endpoint', hub.url, '--cache-dir', cacheDir, '--json'];
  const result = { files, timeoutSec, sigintAfterSec, sigintCapSec };
  try {
    // Full run.
    let cacheDir = await tempDir('huge');
    await hub.resetStats();
    log(`huge listing: ${files} files, full run (cap ${timeoutSec} s)…`);
    const full = runMlcache(args(cacheDir), { timeoutMs: timeoutSec * 1000 });
    const end = await full.exited;
    const stats = await hub.stats();
    Object.assign(result, {
      planMs: full.firstEventMs,
      firstRequestMs: stats.firstContentAt === null ? undefined : stats.firstContentAt - full.startedAt,
      wallMs: end.exitMs,
      timedOut: full.timedOut,
      exitCode: end.code,
      peakRssMb: end.peakRssMb,
      requests: stats.requests,
      stdoutMb: full.stdoutBytes / MB,
      emulatorRssMb: (await vmHwmKb(hub.pid)) / 1024,
      errorCode: end.errorCode,
    });
    log(`  plan ${fmtMs(result.planMs)}, first request ${fmtMs(result.firstRequestMs)}, wall ${fmtMs(result.wallMs)}${full.timedOut ? ' (timed out)' : ''}, exit ${end.code ?? end.signal}, peak RSS ${end.peakRssMb.toFixed(0)} MB, ${stats.requests} requests`);
    await rm(cacheDir, { recursive: true, force: true });

    // SIGINT run on a fresh cache.
    cacheDir = await tempDir('huge-int');
    await hub.resetStats();
    const interrupted = runMlcache(args(cacheDir), { timeoutMs: (sigintAfterSec + sigintCapSec + timeoutSec) * 1000 });
    const deadline = performance.now() + timeoutSec * 1000;
    let sentAfterRequest = false;
    while (performance.now() < deadline && interrupted.child.exitCode === null) {
      const s = await hub.stats();
      if (s.firstContentAt !== null && Date.now() - s.firstContentAt >= sigintAfterSec * 1000) {
        sentAfterRequest = true;
        break;
      }
      // No content request after planWaitSec: interrupt the planning instead (a user would).
      if (s.firstContentAt === null && performance.now() - interrupted.t0 >= planWaitSec * 1000) break;
      await sleep(100);
    }
    const sentAt = performance.now();
    const phase = sentAfterRequest ? 'transfer' : 'planning (no content request yet)';
    const cap = setTimeout(() => interrupted.child.kill('SIGKILL'), sigintCapSec * 1000);
    interrupted.child.kill('SIGINT');
    const intEnd = await interrupted.exited;
    clearTimeout(cap);
    Object.assign(result, {
      sigintSentAtMs: sentAt - interrupted.t0,
      sigintPhase: phase,
      sigintExitMs: intEnd.exitMs - (sentAt - interrupted.t0),
      sigintKilled: intEnd.signal === 'SIGKILL',
      sigintExitCode: intEnd.code ?? intEnd.signal,
    });
    log(`  SIGINT at ${fmtMs(result.sigintSentAtMs)} (${phase}): exit after ${fmtMs(result.sigintExitMs)}${result.sigintKilled ? ' (killed at the cap)' : ''}, code ${result.sigintExitCode}`);
    await rm(cacheDir, { recursive: true, force: true });
  } finally {
    await hub.close();
  }
  return result;
}

// ---------------------------------------------------------------- b. the crash storm -----------

export async function benchCrashStorm({ startEmulator, kills = 20, earlyKills = 7, seed = 10, rate = 40 * MB }) {
  const id = 'bench/storm';
  const repoFiles = [
    { path: 'model-00001-of-00003.safetensors', generated: { size: 200_000_000, seed: 101 } },
    { path: 'model-00002-of-00003.safetensors', generated: { size: 150_000_000, seed: 102 } },
    { path: 'model-00003-of-00003.safetensors', generated: { size: 50_000_000, seed: 103 } },
    { path: 'config.json', content: '{"model_type":"storm"}\n' },
    ...Array.from({ length: 8 }, (_, i) => ({ path: `tokenizer/part-${i}.json`, generated: { size: 20_000 + i * 9_000, seed: 200 + i }, lfs: false })),
  ];
  const hub = await startEmulator([{ id, revisions: [{ refs: ['main'], files: repoFiles }] }]);
  const digests = await hub.digests(id, repoFiles.map((f) => f.path));
  const repoBytes = digests.reduce((n, d) => n + d.size, 0);
  await hub.setFaults({ aggregateBytesPerSec: rate });
  await hub.resetStats();
  const cacheDir = await tempDir('storm');
  const args = ['download', id, '--endpoint', hub.url, '--cache-dir', cacheDir, '--json'];
  // Kill moments, shuffled: `earlyKills` in the first 500 ms of a run (counted from the spawn:
  // start-up, planning, claiming partials), the rest 0–1 s after the run's first content byte
  // (mid-transfer; 13 such kills at 40 MB/s leave part of the repo for the final run).
  const rng = createRng(seed);
  const moments = Array.from({ length: kills }, (_, i) => (i < earlyKills ? { fromStart: rng() * 500 } : { afterFirstByte: rng() * 1000 }));
  for (let i = moments.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [moments[i], moments[j]] = [moments[j], moments[i]];
  }
  let highWater = 0;
  let completedEarly = 0;
  const result = { repoBytes, kills, earlyKills, seed, rateMb: rate / MB };
  try {
    log(`crash storm: ${(repoBytes / MB).toFixed(0)} MB, ${kills} SIGKILLs (seed ${seed}), ${rate / MB} MB/s cap…`);
    for (const moment of moments) {
      const servedBefore = (await hub.stats()).bytesServed;
      const run = runMlcache(args, { timeoutMs: 120_000 });
      let killAt;
      if (moment.fromStart !== undefined) {
        killAt = setTimeout(() => run.child.kill('SIGKILL'), moment.fromStart);
      } else {
        // Wait (bounded) for this run's first content byte, then for the moment.
        const giveUp = performance.now() + 60_000;
        while (run.child.exitCode === null && performance.now() < giveUp && (await hub.stats()).bytesServed === servedBefore) await sleep(20);
        killAt = setTimeout(() => run.child.kill('SIGKILL'), moment.afterFirstByte);
      }
      const end = await run.exited;
      clearTimeout(killAt);
      if (end.signal !== 'SIGKILL') completedEarly++;
      const usage = await diskUsage(cacheDir);
      highWater = Math.max(highWater, usage.bytes);
    }
    const stormServed = (await hub.stats()).bytesServed;
    log(`  storm served ${(stormServed / MB).toFixed(0)} MB; final run…`);
    const final = runMlcache(args, { timeoutMs: 600_000 });
    const end = await final.exited;
    const stats = await hub.stats();
    const usage = await diskUsage(cacheDir);
    highWater = Math.max(highWater, usage.bytes);
    Object.assign(result, {
      completedEarly,
      stormServed,
      served: stats.bytesServed,
      servedRatio: stats.bytesServed / repoBytes,
      finalExit: end.code ?? end.signal,
      finalError: end.errorCode,
      leftovers: usage.leftovers,
      leftoverPaths: usage.leftoverPaths.slice(0, 10),
      highWater,
      finalBytes: usage.bytes,
    });
    log(`  served ÷ repo ${result.servedRatio.toFixed(2)}, final exit ${result.finalExit}, leftovers ${JSON.stringify(usage.leftovers)}, high-water ${(highWater / MB).toFixed(0)} MB`);
  } finally {
    await hub.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
  return result;
}

// ---------------------------------------------------------------- c. the lying CDN -------------

export const LIES = [
  { name: 'body 1000 bytes longer, honest Content-Length (200)', action: { kind: 'wrong-length', delta: 1000 } },
  { name: 'body 1000 bytes shorter, honest Content-Length (200)', action: { kind: 'wrong-length', delta: -1000 } },
  { name: '206 with Content-Range start shifted by 1000', action: { kind: 'wrong-content-range', shift: 1000 } },
  { name: '206 with Content-Range total = size + 1000', action: { kind: 'wrong-total', delta: 1000 } },
];

export async function benchLyingCdn({ startEmulator, timeoutSec = 180 }) {
  const id = 'bench/lie';
  const hub = await startEmulator([{ id, revisions: [{ refs: ['main'], files: [{ path: 'model.safetensors', generated: { size: 64 * 1024 * 1024, seed: 301 } }, { path: 'config.json', content: '{}\n' }] }] }]);
  const rows = [];
  try {
    for (const lie of LIES) {
      await hub.setFaults({ rules: [{ match: { origin: 'cdn' }, action: lie.action }] });
      await hub.resetStats();
      const cacheDir = await tempDir('lie');
      const run = runMlcache(['download', id, '--endpoint', hub.url, '--cache-dir', cacheDir, '--json'], { timeoutMs: timeoutSec * 1000 });
      const end = await run.exited;
      const stats = await hub.stats();
      rows.push({ lie: lie.name, wallMs: end.exitMs, timedOut: run.timedOut, exitCode: end.code ?? end.signal, errorCode: end.errorCode, cdnRequests: stats.requests });
      log(`lying CDN / ${lie.name}: ${fmtMs(end.exitMs)}${run.timedOut ? ' (timed out)' : ''}, exit ${end.code ?? end.signal}, ${end.errorCode ?? 'no error code'}, ${stats.requests} requests`);
      await rm(cacheDir, { recursive: true, force: true });
    }
  } finally {
    await hub.close();
  }
  return rows;
}

// ---------------------------------------------------------------- tables ------------------------

function fmtMs(ms) {
  return ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`;
}

export function formatRobustness({ huge, storm, lying, python }) {
  const out = [];
  if (huge) {
    const h = huge;
    const wall = h.timedOut ? `> ${h.timeoutSec} s (killed at the cap)` : fmtMs(h.wallMs);
    const first = h.firstRequestMs === undefined ? `no request within ${h.timedOut ? `${h.timeoutSec} s` : 'the run'}` : fmtMs(h.firstRequestMs);
    const plan = h.planMs === undefined ? `no file event within ${h.timedOut ? `${h.timeoutSec} s` : 'the run'}` : fmtMs(h.planMs);
    const sigint = h.sigintKilled ? `> ${h.sigintCapSec} s (killed at the cap)` : fmtMs(h.sigintExitMs);
    out.push(
      `Huge listing: ${h.files.toLocaleString('en-US')} tiny files in a synthetic dataset, tree pages of 1000 (Python huggingface_hub: ${python ?? 'not importable here, not measured'}).`,
      '',
      '| files | time to plan | time to first request | total wall | exit | peak RSS MB | SIGINT sent at | time to exit after SIGINT | emulator peak RSS MB |',
      '| ---: | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: |',
      `| ${h.files.toLocaleString('en-US')} | ${plan} | ${first} | ${wall} | ${h.timedOut ? 'killed' : `${h.exitCode}${h.errorCode ? ` ${h.errorCode}` : ''}`} | ${h.peakRssMb.toFixed(0)} | ${fmtMs(h.sigintSentAtMs)} (${h.sigintPhase}) | ${sigint} (exit ${h.sigintExitCode}) | ${h.emulatorRssMb.toFixed(0)} |`,
      '',
    );
  }
  if (storm) {
    const s = storm;
    const left = Object.entries(s.leftovers).map(([k, v]) => `${v} ${k}`).join(', ');
    out.push(
      `Crash storm: ${(s.repoBytes / MB).toFixed(0)} MB repo (3 LFS files + 9 small), ${s.kills} SIGKILLs (${s.earlyKills} in the first 500 ms of a run, the rest 0–1 s after the run's first content byte; seed ${s.seed}), CDN capped at ${s.rateMb} MB/s, then one final run. Target: served ≤ 1.10 × repo, zero leftovers.`,
      '',
      '| served ÷ repo | served during the storm | final run | leftovers after the final run | disk high-water MB | runs that finished before their kill |',
      '| ---: | ---: | --- | --- | ---: | ---: |',
      `| ${s.servedRatio.toFixed(2)} | ${(s.stormServed / MB).toFixed(0)} MB | exit ${s.finalExit}${s.finalError ? ` ${s.finalError}` : ''} | ${left} | ${(s.highWater / MB).toFixed(0)} | ${s.completedEarly} |`,
      '',
    );
    if (s.leftoverPaths.length) out.push(`Leftovers (first ${s.leftoverPaths.length}): ${s.leftoverPaths.map((p) => `\`${p}\``).join(', ')}`, '');
  }
  if (lying) {
    out.push('Lying CDN (every CDN answer lies the same way; a 64 MiB LFS file). Target: a clear failure in < 10 s.', '', '| lie | time to failure | exit code | error code | requests |', '| --- | ---: | ---: | --- | ---: |');
    for (const r of lying) out.push(`| ${r.lie} | ${r.timedOut ? '> cap (killed)' : fmtMs(r.wallMs)} | ${r.exitCode} | ${r.errorCode ?? '–'} | ${r.cdnRequests} |`);
    out.push('');
  }
  return out.join('\n');
}
