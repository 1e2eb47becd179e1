/** The spawned binary: exit codes and output of status, verify, offline-check, prune, rm, doctor (after `npm run build`). */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitBlobSha1, sha256Hex, writeCacheRepo } from '../helpers/cache-repo.js';
import { runCli } from '../helpers/cli.js';
import { closedPort } from '../helpers/net.js';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const CONTENT = '{"hello":"world"}\n';
const ETAG = gitBlobSha1(CONTENT);

let root: string;
let cache: string;
let env: Record<string, string>;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'mlcache-cli-maint-'));
  cache = path.join(root, 'hub');
  await writeCacheRepo(cache, { id: 'org/m', commit: COMMIT, files: [{ path: 'config.json', content: CONTENT }] });
  env = { HOME: root, HF_HUB_CACHE: cache, TORCH_HOME: path.join(root, 'torch'), HF_ENDPOINT: await closedPort(), NO_COLOR: '1', CI: '' };
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const run = (...args: string[]) => runCli(args, { env, cwd: root });

describe('mlcache maintenance commands (spawned)', () => {
  it('verify: 0 on an intact cache, 11 with a precise message on a flipped byte', async () => {
    const ok = await run('verify');
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain('The cache is intact.');
    await fs.writeFile(path.join(cache, 'models--org--m', 'blobs', ETAG), CONTENT.replace('world', 'World'));
    const bad = await run('verify', 'org/m');
    expect(bad.exitCode).toBe(11);
    expect(bad.stdout).toContain(`blob-mismatch: org/m: blobs/${ETAG} has git blob sha1`);
    expect(bad.stdout).toContain('The cache is DAMAGED.');
    expect(bad.stderr).toContain('mlcache verify --repair');
    const json = await run('verify', '--json');
    expect(json.exitCode).toBe(11);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; kind?: string; intact?: boolean });
    expect(lines.filter((l) => l.type === 'finding').map((l) => l.kind)).toEqual(['blob-mismatch']);
    expect(lines.at(-1)).toMatchObject({ type: 'result', intact: false });
  });

  it('offline-check: 0 when the file resolves, 11 when its blob is gone; status never uses the network', async () => {
    const ok = await run('offline-check', '--model', 'org/m');
    expect(ok.stdout).toContain('ok       (models)/org/m@main');
    expect(ok.exitCode).toBe(0);
    await fs.rm(path.join(cache, 'models--org--m', 'blobs', ETAG));
    const bad = await run('offline-check', '--model', 'org/m');
    expect(bad.exitCode).toBe(11);
    expect(bad.stdout).toContain('missing  (models)/org/m@main: 1 selected file(s) missing from snapshots/0123456789ab: config.json');
    const status = await run('status', '--json', '--all-repos', '--model', 'org/m', '--group', 'nllb');
    expect(status.exitCode).toBe(0);
    const report = JSON.parse(status.stdout) as { repos: Array<{ repo: string; revisions: Array<{ brokenFiles: number }> }> };
    expect(report.repos.map((r) => [r.repo, r.revisions[0]!.brokenFiles])).toEqual([['org/m', 1]]);
  });

  it('prune --dry-run lists an orphan blob without removing it; rm --yes removes the repo; doctor fails on a closed endpoint', async () => {
    const orphan = path.join(cache, 'models--org--m', 'blobs', sha256Hex('x'));
    await fs.writeFile(orphan, 'x');
    const old = new Date(Date.now() - 3_600_000);
    await fs.utimes(orphan, old, old);
    const dry = await run('prune', '--dry-run');
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain(`would remove ${orphan} (1 B): orphan blob (stale`);
    await fs.access(orphan);
    const pruned = await run('prune');
    expect(pruned.stdout).toContain('Freed 1 B.');
    await expect(fs.access(orphan)).rejects.toThrow();

    const rm = await run('rm', 'org/m', '--yes');
    expect(rm.exitCode).toBe(0);
    expect(rm.stdout).toMatch(/^Removed org\/m: 18 B freed\./);
    await expect(fs.access(path.join(cache, 'models--org--m'))).rejects.toThrow();

    const doc = await run('doctor');
    expect(doc.exitCode).toBe(1);
    expect(doc.stdout).toMatch(/fail\s+endpoint http:\/\/127\.0\.0\.1:\d+ unreachable/);
    expect(doc.stdout).toMatch(/warn\s+no Hub token/);
  });
});
