import { describe, expect, it } from 'vitest';
import { lockKey, partialEtag, planPrune, planRemoval } from '../../../src/maintenance/prune-plan.js';
import { lockStateOf } from '../../../src/maintenance/lock-state.js';
import { C1, C2, GIT_C, REPO_DIR, SHA_A, SHA_B, blob, link, ref, repo, rev, scanOf } from './fake-scan.js';

const NOW = 10_000_000;
const partial = (name: string, size: number, mtimeMs: number) => ({
  name,
  path: `${REPO_DIR}/blobs/${name}`,
  kind: name.endsWith('.incomplete') ? ('incomplete' as const) : ('journal' as const),
  size,
  allocated: size,
  mtimeMs,
});

describe('partialEtag', () => {
  it.each([
    [`${SHA_A}.0a1b2c3d.incomplete`, SHA_A],
    [`${SHA_A}.incomplete`, SHA_A],
    [`${GIT_C}.0a1b2c3d.mlcache-journal`, GIT_C],
    ['tmpabc.incomplete', undefined],
    ['ABC.incomplete', undefined],
  ])('%s → %s', (name, etag) => {
    expect(partialEtag(name)).toBe(etag);
  });
});

describe('lockStateOf', () => {
  const holder = { pid: 42, host: 'me', startedAt: '', nonce: 'n' };
  const base = { now: NOW, host: 'me', staleMs: 30_000 };
  it.each([
    ['foreign (Python filelock)', undefined, NOW, true, 'foreign'],
    ['live pid, fresh heartbeat', holder, NOW - 1000, true, 'live'],
    ['dead pid on this host', holder, NOW - 1000, false, 'dead'],
    ['heartbeat stopped', holder, NOW - 31_000, true, 'dead'],
    ['other host, fresh', { ...holder, host: 'other' }, NOW - 1000, false, 'live'],
    ['other host, stale', { ...holder, host: 'other' }, NOW - 60_000, false, 'dead'],
  ] as const)('%s', (_name, h, mtime, alive, expected) => {
    expect(lockStateOf(h, mtime, { ...base, isAlive: () => alive })).toBe(expected);
  });
});

describe('planPrune', () => {
  it('removes stale partials and orphans, keeps live-locked and recent ones, lists unreferenced revisions', () => {
    const scan = scanOf(
      repo({
        refs: [ref('main', C1)],
        revisions: [
          rev(C1, [link(C1, 'config.json', GIT_C, 10), link(C1, 'model.bin', SHA_A, 100)]),
          rev(C2, [link(C2, 'config.json', GIT_C, 10), link(C2, 'model.bin', SHA_B, 200)]),
        ],
        blobs: [
          blob(GIT_C, 10, true),
          blob(SHA_A, 100, true),
          blob(SHA_B, 200, true),
          blob('d'.repeat(64), 300, false, NOW - 3_600_000),
          blob('e'.repeat(64), 400, false, NOW - 5_000),
        ],
        partialFiles: [
          partial(`${'f'.repeat(64)}.11111111.incomplete`, 50, NOW - 3_600_000),
          partial(`${'f'.repeat(64)}.11111111.mlcache-journal`, 5, NOW - 3_600_000),
          partial(`${'9'.repeat(64)}.22222222.incomplete`, 60, NOW - 3_600_000),
          partial(`${'8'.repeat(64)}.33333333.incomplete`, 70, NOW - 1_000),
          partial(`${'7'.repeat(64)}.44444444.incomplete`, 80, NOW - 1_000),
        ],
      }),
    );
    const locks = new Map([
      [lockKey('models--org--m', '9'.repeat(64)), 'live' as const],
      [lockKey('models--org--m', '7'.repeat(64)), 'dead' as const],
    ]);
    const plan = planPrune(scan, { now: NOW, locks });
    expect(plan.partials.map((p) => p.path.split('/').pop())).toEqual([
      `${'f'.repeat(64)}.11111111.incomplete`,
      `${'f'.repeat(64)}.11111111.mlcache-journal`,
      `${'7'.repeat(64)}.44444444.incomplete`,
    ]);
    expect(plan.orphanBlobs.map((b) => b.path)).toEqual([`${REPO_DIR}/blobs/${'d'.repeat(64)}`]);
    expect(plan.kept.map((k) => [k.path.split('/').pop()?.slice(0, 3), k.reason])).toEqual([
      ['999', 'a live process holds its lock'],
      ['888', 'modified 1 s ago; it may belong to a running download'],
      ['eee', 'modified 5 s ago; it may belong to a running download'],
    ]);
    // C2 is unreferenced: its own blob goes with it, the shared config blob stays.
    expect(plan.revisions).toHaveLength(1);
    expect(plan.revisions[0]!.commit).toBe(C2);
    expect(plan.revisions[0]!.blobs.map((b) => b.path)).toEqual([`${REPO_DIR}/blobs/${SHA_B}`]);
    expect(plan.bytes).toEqual({ partials: 50 + 5 + 80, orphanBlobs: 300, revisions: 200, total: 635 });
  });

  it('never treats a revision named by a ref with a trailing newline, or pinned by the catalog, as unreferenced', () => {
    const scan = scanOf(
      repo({
        refs: [ref('main', `${C1}\n`)],
        revisions: [rev(C1, [link(C1, 'a', SHA_A, 1)]), rev(C2, [link(C2, 'a', SHA_B, 1)])],
        blobs: [blob(SHA_A, 1, true), blob(SHA_B, 1, true)],
      }),
    );
    expect(planPrune(scan, { now: NOW }).revisions.map((r) => r.commit)).toEqual([C2]);
    expect(planPrune(scan, { now: NOW, protectedCommits: new Set([`models--org--m/${C2}`]) }).revisions).toEqual([]);
  });
});

describe('planRemoval', () => {
  const scanned = repo({
    refs: [ref('main', C1), ref('v1', C2)],
    revisions: [
      rev(C1, [link(C1, 'config.json', GIT_C, 10), link(C1, 'model.bin', SHA_A, 100)]),
      rev(C2, [link(C2, 'config.json', GIT_C, 10), link(C2, 'model.bin', SHA_B, 200)]),
    ],
    blobs: [blob(GIT_C, 10, true), blob(SHA_A, 100, true), blob(SHA_B, 200, true)],
  });

  it('removes one revision, its refs and only the blobs no other revision uses', () => {
    const plan = planRemoval(scanned, '/cache', C2);
    expect(plan.wholeRepo).toBe(false);
    expect(plan.refs).toEqual(['v1']);
    expect(plan.blobs.map((b) => b.path)).toEqual([`${REPO_DIR}/blobs/${SHA_B}`]);
    expect(plan.keptBlobs).toBe(1);
    expect(plan.bytes).toBe(200);
    expect(plan.paths).toEqual([
      `${REPO_DIR}/snapshots/${C2}`,
      `${REPO_DIR}/refs/v1`,
      `${REPO_DIR}/trees/${C2}.json`,
      `${REPO_DIR}/.no_exist/${C2}`,
      `${REPO_DIR}/blobs/${SHA_B}`,
    ]);
  });

  it('removes the whole repo and its lock folder', () => {
    const plan = planRemoval(scanned, '/cache');
    expect(plan.wholeRepo).toBe(true);
    expect(plan.paths).toEqual([REPO_DIR, '/cache/.locks/models--org--m']);
    expect(plan.bytes).toBe(310);
  });
});

describe('planPrune: writers\' temps in .mlcache-tmp/', () => {
  it('removes the ones isTempStale judges stale, keeps the rest, and frees their allocated bytes', () => {
    const temp = (name: string, mtimeMs: number) => ({ name, path: `${REPO_DIR}/.mlcache-tmp/${name}`, kind: 'temp' as const, size: 9, allocated: 4096, mtimeMs });
    const scan = scanOf(repo({ partialFiles: [temp('aaaaaaaa-111-00000000.link', NOW), temp('aaaaaaaa-222-00000000.copy', NOW), temp('odd-name', NOW - 3_600_000)] }));
    const plan = planPrune(scan, { now: NOW, isTempStale: (name, mtime) => name.includes('-111-') || NOW - mtime > 600_000 });
    expect(plan.partials.map((p) => p.path.split('/').pop())).toEqual(['aaaaaaaa-111-00000000.link', 'odd-name']);
    expect(plan.kept.map((p) => p.path.split('/').pop())).toEqual(['aaaaaaaa-222-00000000.copy']);
    expect(plan.bytes.partials).toBe(8192);
  });
});
