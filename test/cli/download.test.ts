/**
 * The spawned binary (after `npm run build`): what a person and a script see — the snapshot path
 * alone on stdout, NDJSON with --json, one readable error with a hint and the documented exit code,
 * and never a token or a stack trace.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { EMULATOR_TOKEN, startEmulator, useEmulator } from '../helpers/emulator.js';
import { closedPort } from '../helpers/net.js';

const SECRET = 'hf_SuperSecretTokenValue0123456789';

const hub = useEmulator(() => ({
  repos: [
    {
      id: 'acme/tiny',
      revisions: [
        {
          refs: ['main'],
          files: [
            { path: 'config.json', content: '{"a":1}\n' },
            { path: 'weights/model.safetensors', generated: { size: 2_000_000, seed: 5 } },
          ],
        },
      ],
    },
    { id: 'acme/gated', gated: 'auto', revisions: [{ refs: ['main'], files: [{ path: 'x.txt', content: 'x' }] }] },
  ],
}));

let root: string;
let cacheDir: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mlcache-cli-dl-'));
  cacheDir = path.join(root, 'hub');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function run(args: string[], extraEnv: Record<string, string> = {}) {
  return runCli(args, { env: { HOME: root, PATH: process.env.PATH ?? '', NO_COLOR: '1', ...extraEnv }, cwd: root });
}

function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
  expect(text).not.toContain('internal error');
}

describe('mlcache download (spawned)', () => {
  it('prints the snapshot path alone on stdout, so $(mlcache download …) works', async () => {
    const result = await run(['download', 'acme/tiny', '--endpoint', hub().url, '--cache-dir', cacheDir]);
    expect(result.exitCode).toBe(0);
    const commit = hub().commitOf('acme/tiny', 'main');
    const snapshot = path.join(cacheDir, 'models--acme--tiny', 'snapshots', commit);
    expect(result.stdout).toBe(snapshot);
    expect(await readFile(path.join(result.stdout, 'config.json'), 'utf8')).toBe('{"a":1}\n');
    expect(result.stderr).toMatch(/acme\/tiny@main \([0-9a-f]{12}\): 2 files, 2\.00 MB fetched/);
  });

  it('HF_ENDPOINT and HF_HUB_CACHE are honoured like huggingface_hub', async () => {
    const result = await run(['download', 'acme/tiny', '--quiet'], { HF_ENDPOINT: hub().url, HF_HUB_CACHE: cacheDir });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.startsWith(path.join(cacheDir, 'models--acme--tiny', 'snapshots'))).toBe(true);
    expect(result.stderr).toBe('');
  });

  it('--json prints one JSON object per line, ending with the result', async () => {
    const result = await run(['download', 'acme/tiny', '--endpoint', hub().url, '--cache-dir', cacheDir, '--json']);
    expect(result.exitCode).toBe(0);
    const events = result.stdout.split('\n').map((line) => JSON.parse(line) as { type: string; [k: string]: unknown });
    expect(events.filter((e) => e.type === 'file-done').map((e) => e.label).sort()).toEqual([
      'acme/tiny: config.json',
      'acme/tiny: weights/model.safetensors',
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'result', repoId: 'acme/tiny', bytesFetched: 2_000_008, dryRun: false });
  });

  it('--dry-run lists what would be fetched and writes nothing', async () => {
    const result = await run(['download', 'acme/tiny', '--endpoint', hub().url, '--cache-dir', cacheDir, '--dry-run']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/fetch\s+2\.00 MB\s+weights\/model\.safetensors/);
    expect(result.stdout).toContain('2 files, 2.00 MB in total, 2.00 MB to download.');
    await expect(readFile(path.join(cacheDir, 'CACHEDIR.TAG'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('failures: one sentence, a hint, the documented exit code', () => {
  it('a missing repo exits 5 and never shows the token', async () => {
    const result = await run(['download', 'acme/nope', '--endpoint', hub().url, '--cache-dir', cacheDir, '--token', EMULATOR_TOKEN, '--verbose']);
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toMatch(/^error: .*acme\/nope/m);
    expect(result.stderr).toMatch(/^hint: /m);
    expect(`${result.stdout}${result.stderr}`).not.toContain(EMULATOR_TOKEN);
    expectNoStackTrace(result.stderr);
  });

  it('a gated repo without a token exits 4 and names the page to accept', async () => {
    const result = await run(['download', 'acme/gated', '--endpoint', hub().url, '--cache-dir', cacheDir]);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain(`${hub().url}/acme/gated`);
    expectNoStackTrace(result.stderr);
  });

  it('with a token from HF_TOKEN the gated repo downloads', async () => {
    const result = await run(['download', 'acme/gated', '--endpoint', hub().url, '--cache-dir', cacheDir, '-q'], { HF_TOKEN: EMULATOR_TOKEN });
    expect(result.exitCode).toBe(0);
    expect(await readFile(path.join(result.stdout, 'x.txt'), 'utf8')).toBe('x');
  });

  it('--json failures are a JSON error line too, without the token', async () => {
    const result = await run(['download', 'acme/nope', '--endpoint', hub().url, '--cache-dir', cacheDir, '--json'], { HF_TOKEN: EMULATOR_TOKEN });
    expect(result.exitCode).toBe(5);
    const last = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(last).toMatchObject({ type: 'error', code: 'REPO_NOT_FOUND' });
    expect(result.stdout + result.stderr).not.toContain(EMULATOR_TOKEN);
  });

  it('a rejected token exits 4 and is not echoed', async () => {
    const result = await run(['download', 'acme/tiny', '--endpoint', hub().url, '--cache-dir', cacheDir, '--token', SECRET, '--json', '--verbose']);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/^error: .*token/im);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
    expect(result.stdout + result.stderr).not.toContain(SECRET.slice(3));
  });

  it('a closed port exits 6 with the connection refused', async () => {
    const result = await run(['download', 'acme/tiny', '--endpoint', await closedPort(), '--cache-dir', cacheDir]);
    expect(result.exitCode).toBe(6);
    expect(result.stderr).toMatch(/^error: connection refused/m);
    expectNoStackTrace(result.stderr);
  });

  it('a bad flag or repo id exits 2 and points at --help', async () => {
    const flag = await run(['download', 'acme/tiny', '--bogus']);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr).toContain("unknown option '--bogus'");
    expect(flag.stderr).toContain('mlcache --help');
    const id = await run(['download', 'not a repo id', '--endpoint', hub().url]);
    expect(id.exitCode).toBe(2);
    expect(id.stderr).toMatch(/^error: .*not a repo id/m);
    const rate = await run(['download', 'acme/tiny', '--max-rate', 'fast', '--endpoint', hub().url]);
    expect(rate.exitCode).toBe(2);
    expect(rate.stderr).toContain('--max-rate must be a size per second such as 50MB, not "fast"');
  });

  it('HF_HUB_OFFLINE: a repo not in the cache is exit 6 with a way out; a cached one prints its snapshot with no request, as hf download does', async () => {
    const missing = await run(['download', 'acme/tiny', '--endpoint', hub().url, '--cache-dir', cacheDir], { HF_HUB_OFFLINE: '1' });
    expect(missing.exitCode).toBe(6);
    expect(missing.stderr).toMatch(/^error: HF_HUB_OFFLINE is set and acme\/tiny@main is not complete in the cache .*: no refs\/main/m);
    expect(missing.stderr).toMatch(/^hint: .*offline-check/m);

    const online = await run(['download', 'acme/tiny', '--endpoint', hub().url, '--cache-dir', cacheDir, '-q']);
    expect(online.exitCode, online.stderr).toBe(0);
    hub().resetStats();
    const offline = await run(['download', 'acme/tiny', '--endpoint', hub().url, '--cache-dir', cacheDir, '-q'], { HF_HUB_OFFLINE: '1' });
    expect(offline.exitCode, offline.stderr).toBe(0);
    expect(offline.stdout).toBe(online.stdout);
    expect(hub().stats.requests).toHaveLength(0);
    // A file gone from the snapshot (its blob still cached) is linked again; a blob gone is named.
    const snapshot = online.stdout.trim();
    const [first] = await readdir(snapshot);
    await rm(path.join(snapshot, first!));
    expect((await run(['download', 'acme/tiny', '--cache-dir', cacheDir, '-q'], { HF_HUB_OFFLINE: '1' })).exitCode).toBe(0);
    expect(await readdir(snapshot)).toContain(first);
    const blobs = path.join(cacheDir, 'models--acme--tiny', 'blobs');
    for (const b of await readdir(blobs)) await rm(path.join(blobs, b));
    const gone = await run(['download', 'acme/tiny', '--cache-dir', cacheDir], { HF_HUB_OFFLINE: '1' });
    expect(gone.exitCode).toBe(6);
    expect(gone.stderr).toMatch(/selected files are missing/);
    expect(hub().stats.requests).toHaveLength(0);
  });
});

describe('start-up', () => {
  it('--help lists every command', async () => {
    const result = await run(['--help']);
    expect(result.exitCode).toBe(0);
    for (const command of ['download', 'cache-models', 'bootstrap', 'env', 'run', 'status', 'verify', 'offline-check', 'prune', 'rm', 'doctor']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });

  it('a closed pipe (`mlcache … | head -1`) ends quietly, without an unhandled EPIPE', async () => {
    // 3000 files: the --dry-run listing is far larger than a pipe's buffer, so writes hit the closed pipe.
    const files = Array.from({ length: 3000 }, (_, i) => ({ path: `shard-${String(i).padStart(5, '0')}/part.txt`, content: String(i) }));
    const emulator = await startEmulator({ repos: [{ id: 'acme/many', revisions: [{ refs: ['main'], files }] }] });
    const child = spawn(process.execPath, [BIN, 'download', 'acme/many', '--dry-run', '--endpoint', emulator.url, '--cache-dir', cacheDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { HOME: root, PATH: process.env.PATH ?? '' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Read one chunk, then close our end, as `head -1` does.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const [code] = (await once(child, 'close')) as [number | null];
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });

  it('--stall-timeout sets how long a silent connection is given before its range is retried', async () => {
    // The CDN goes silent for 20 s after 500 kB, once: with --stall-timeout 1 the range is
    // retried after a second and the run finishes long before the server would have resumed.
    hub().setFaults({ rules: [{ match: { origin: 'cdn' }, action: { kind: 'stall', afterBytes: 500_000, ms: 20_000 }, times: 1 }] });
    try {
      const started = Date.now();
      const result = await run(['download', 'acme/tiny', '--endpoint', hub().url, '--cache-dir', cacheDir, '--stall-timeout', '1', '--json']);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      const retries = result.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { type: string; reason?: string })
        .filter((e) => e.type === 'retry');
      expect(retries.map((e) => e.reason)).toEqual(['stalled: no data for 1000 ms']);
    } finally {
      hub().setFaults({});
    }
    const bad = await run(['download', 'acme/tiny', '--endpoint', hub().url, '--cache-dir', cacheDir, '--stall-timeout', '0']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--stall-timeout/);
  });
});
