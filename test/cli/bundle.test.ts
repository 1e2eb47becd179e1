/**
 * `mlcache export` / `mlcache import` as a person and a shell use them (spawned binaries, after
 * `npm run build`): `export … - | import -` through a real pipe between two processes, nothing but
 * the tar on export's stdout (progress and --json lines on stderr), an import killed with SIGKILL
 * mid-blob that a rerun completes with nothing left behind, and the documented exit codes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { IMPORT_STAGING_FOLDER } from '../../src/bundle/import-bundle.js';
import { BIN, ensureBuilt, runCli } from '../helpers/cli.js';
import { DATASET, MODEL, bundleRepos, cacheFingerprint, readTar, writeTar } from '../helpers/bundle.js';
import { useEmulator } from '../helpers/emulator.js';

const hub = useEmulator(() => ({ repos: bundleRepos() }));
let root: string;
let source: string;

beforeAll(() => ensureBuilt());
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-cli-bundle-'));
  source = path.join(root, 'source');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const env = () => ({ HOME: root, PATH: process.env.PATH ?? '', NO_COLOR: '1' });
const run = (args: string[]) => runCli(args, { env: env(), cwd: root });

function spawnCli(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env: env(), cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  // A test that fails half-way must not leave a process writing into the folder afterEach removes.
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  // Tests stop importers that still have unread input: writing on to them is an EPIPE, expected here.
  child.stdin.on('error', () => undefined);
  return child;
}

function collect(stream: NodeJS.ReadableStream | null): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return () => text;
}

/** The exit code, or a failure after 60 s (a hang must not hang the suite). */
async function exitOf(child: ChildProcess): Promise<number | null> {
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    const [code] = (await once(child, 'close')) as [number | null];
    return code;
  } finally {
    clearTimeout(timer);
  }
}

async function populate(): Promise<void> {
  for (const args of [[MODEL], [MODEL, '--revision', 'v1'], [DATASET, '--repo-type', 'dataset']]) {
    const result = await run(['download', ...args, '--endpoint', hub().url, '--cache-dir', source, '--quiet']);
    expect(result.exitCode, result.stderr).toBe(0);
  }
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

// Each test spawns several CLI processes (three downloads first): generous bounds for a loaded machine.
describe('mlcache export | mlcache import (two processes, one pipe)', { timeout: 120_000 }, () => {
  it('streams the snapshots through a pipe and rebuilds the cache byte for byte', async () => {
    await populate();
    const target = path.join(root, 'target');
    const exporter = spawnCli(['export', `${MODEL}@main`, `${MODEL}@v1`, '-', '--cache-dir', source]);
    const importer = spawnCli(['import', '-', '--cache-dir', target]);
    exporter.stdout!.pipe(importer.stdin!);
    const exportErr = collect(exporter.stderr);
    const importErr = collect(importer.stderr);
    const importOut = collect(importer.stdout);
    const [exportCode, importCode] = await Promise.all([exitOf(exporter), exitOf(importer)]);
    expect(exportCode, exportErr()).toBe(0);
    expect(importCode, importErr()).toBe(0);
    // Progress on stderr (plain lines: not a TTY); import prints the snapshot folders on stdout.
    expect(exportErr()).toContain('2 snapshot(s)');
    expect(importOut().trim().split('\n')).toEqual([
      path.join(target, 'models--acme--bundle-model', 'snapshots', hub().commitOf(MODEL, 'main')),
      path.join(target, 'models--acme--bundle-model', 'snapshots', hub().commitOf(MODEL, 'v1')),
    ]);
    const expected = await cacheFingerprint(source);
    for (const key of Object.keys(expected)) if (key.startsWith('datasets--')) delete expected[key];
    expect(await cacheFingerprint(target)).toEqual(expected);
  });

  it('with - and --json, stdout holds the tar alone; the JSON lines go to stderr', async () => {
    await populate();
    const out = path.join(root, 'stdout.tar');
    const child = spawnCli(['export', `${DATASET}`, '--repo-type', 'dataset', '-', '--json', '--cache-dir', source]);
    const sink = createWriteStream(out);
    const sinkClosed = once(sink, 'close');
    child.stdout!.pipe(sink);
    const err = collect(child.stderr);
    expect(await exitOf(child), err()).toBe(0);
    await sinkClosed;
    const names = (await readTar(out)).map((e) => e.name);
    expect(names[0]).toBe('oci-layout');
    expect(names).toContain('index.json');
    expect(names.every((n) => n === 'oci-layout' || n === 'index.json' || /^blobs\/sha256\/[0-9a-f]{64}$/.test(n))).toBe(true);
    const events = err().trim().split('\n').map((line) => JSON.parse(line) as { type: string });
    expect(events.some((e) => e.type === 'file-done')).toBe(true);
    expect(events.at(-1)?.type).toBe('result');
  });

  it('Ctrl-C while the reader of stdout is stalled: exit 130 with a readable message', async () => {
    await populate();
    const child = spawnCli(['export', MODEL, '-', '--cache-dir', source]);
    const err = collect(child.stderr);
    const closed = exitOf(child);
    // Take the first bytes, then stop reading: the export blocks on the full pipe.
    child.stdout!.once('data', () => {
      child.stdout!.pause();
      child.kill('SIGINT');
    });
    expect(await closed).toBe(130);
    expect(err()).toMatch(/^error: Interrupted/m);
    noStackTrace(err());
  });

  it('a repo without a target is a usage error (exit 2) with a hint', async () => {
    const result = await run(['export', MODEL, '--cache-dir', source]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('hint:');
    noStackTrace(result.stderr);
  });
});

describe('mlcache import: interrupted, damaged', { timeout: 120_000 }, () => {
  it('an import killed (SIGKILL) in the middle of a blob is completed by a rerun, and nothing is left behind', async () => {
    await populate();
    const bundle = path.join(root, 'bundle.tar');
    const exported = await run(['export', MODEL, bundle, '--cache-dir', source, '--quiet']);
    expect(exported.exitCode, exported.stderr).toBe(0);
    const bytes = await readFile(bundle);
    const target = path.join(root, 'target');
    const staging = path.join(target, IMPORT_STAGING_FOLDER, 'sha256');

    const importer = spawnCli(['import', '-', '--cache-dir', target]);
    const closed = exitOf(importer);
    // Everything up to ~1 MB into the 2.5 MB weight (the layers are in path order; it is the second to last).
    importer.stdin!.write(bytes.subarray(0, bytes.length - 1_500_000));
    let partial: string | undefined;
    // Bounded at 40 s: on a loaded machine the importer's start-up alone can take seconds.
    for (let i = 0; i < 800 && partial === undefined; i++) {
      await sleep(50);
      for (const name of await readdir(staging).catch(() => [] as string[])) {
        // A partial can be renamed between the listing and the stat: then it is no longer partial.
        if (name.endsWith('.partial') && ((await stat(path.join(staging, name)).catch(() => undefined))?.size ?? 0) >= 500_000) partial = name;
      }
    }
    expect(partial, 'the importer got into the big blob').toBeDefined();
    importer.kill('SIGKILL');
    expect(await closed).toBe(null);
    // Killed: no ref points at the half-built snapshot.
    await expect(stat(path.join(target, 'models--acme--bundle-model', 'refs', 'main'))).rejects.toThrow();

    const rerun = await run(['import', bundle, '--cache-dir', target, '--json']);
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    const result = JSON.parse(rerun.stdout.trim().split('\n').at(-1)!) as { type: string; blobsSkipped: number };
    expect(result.type).toBe('result');
    expect(result.blobsSkipped).toBeGreaterThan(0); // what the killed run had already put in place
    const expected = await cacheFingerprint(source);
    for (const key of Object.keys(expected)) if (key.startsWith('datasets--') || key.includes('refs/v1') || key.includes(hub().commitOf(MODEL, 'v1'))) delete expected[key];
    const actual = await cacheFingerprint(target);
    expect(Object.keys(actual).filter((k) => k.includes('.mlcache') || k.endsWith('.partial') || k.endsWith('.incomplete'))).toEqual([]);
    // The v1 snapshot was not exported; the v1-only blob (its config.json) is not there either.
    for (const key of Object.keys(expected)) if (!(key in actual)) delete expected[key];
    expect(actual).toEqual(expected);
    expect(Object.keys(actual).filter((k) => k.includes('/snapshots/')).length).toBeGreaterThan(8);
  });

  it('Ctrl-C while import waits for more of the pipe: exit 130, the staging folder removed, and a rerun completes', async () => {
    await populate();
    const bundle = path.join(root, 'bundle.tar');
    expect((await run(['export', MODEL, bundle, '--cache-dir', source, '--quiet'])).exitCode).toBe(0);
    const bytes = await readFile(bundle);
    const target = path.join(root, 'target');
    const importer = spawnCli(['import', '-', '--cache-dir', target]);
    const err = collect(importer.stderr);
    const closed = exitOf(importer);
    importer.stdin!.write(bytes.subarray(0, bytes.length - 1_500_000));
    const staging = path.join(target, IMPORT_STAGING_FOLDER, 'sha256');
    for (let i = 0; i < 800; i++) {
      const names = await readdir(staging).catch(() => [] as string[]);
      if (names.some((n) => n.endsWith('.partial'))) break;
      await sleep(50);
    }
    importer.kill('SIGINT');
    expect(await closed).toBe(130);
    expect(err()).toMatch(/^error: Interrupted/m);
    noStackTrace(err());
    expect(await stat(path.join(target, IMPORT_STAGING_FOLDER)).catch(() => undefined)).toBeUndefined();
    expect((await run(['import', bundle, '--cache-dir', target, '--quiet'])).exitCode).toBe(0);
    expect(await stat(path.join(target, 'models--acme--bundle-model', 'refs', 'main'))).toBeTruthy();
  });

  it('a tampered bundle exits 8 (INTEGRITY) with a hint and no stack trace; a non-bundle exits 7 (BUNDLE_INVALID)', async () => {
    await populate();
    const bundle = path.join(root, 'bundle.tar');
    expect((await run(['export', DATASET, '--repo-type', 'dataset', bundle, '--cache-dir', source, '--quiet'])).exitCode).toBe(0);
    const entries = await readTar(bundle);
    const big = entries.find((e) => e.data.length === 700_000)!;
    big.data[5] = big.data[5]! ^ 1;
    const tampered = path.join(root, 'tampered.tar');
    await writeTar(tampered, entries);
    const target = path.join(root, 'target');
    const bad = await run(['import', tampered, '--cache-dir', target]);
    expect(bad.exitCode).toBe(8);
    expect(bad.stderr).toMatch(/^error: .*altered or damaged/m);
    expect(bad.stderr).toMatch(/^hint: /m);
    noStackTrace(bad.stderr);

    const junk = path.join(root, 'junk.tar');
    await writeFile(junk, 'not a tar at all\n'.repeat(100));
    const invalid = await run(['import', junk, '--cache-dir', target, '--json']);
    expect(invalid.exitCode).toBe(7);
    expect(JSON.parse(invalid.stdout.trim().split('\n').at(-1)!)).toMatchObject({ type: 'error', code: 'BUNDLE_INVALID' });
    expect(await stat(path.join(target, IMPORT_STAGING_FOLDER)).catch(() => undefined)).toBeUndefined();
  });
});
