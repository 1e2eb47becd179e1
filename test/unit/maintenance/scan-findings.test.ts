import { describe, expect, it } from 'vitest';
import { FINDING_KINDS, isIntact } from '../../../src/maintenance/findings.js';
import { hashJobsForRepo } from '../../../src/maintenance/hash-jobs.js';
import { literalIncludes } from '../../../src/maintenance/offline-resolve.js';
import { findingsFromScan } from '../../../src/maintenance/scan-findings.js';
import { C1, C2, GIT_C, REPO_DIR, SHA_A, SHA_B, blob, link, ref, repo, rev, scanOf } from './fake-scan.js';

describe('findingsFromScan', () => {
  it('classifies each kind of damage with a precise message', () => {
    const dangling = { ...link(C1, 'sub/x.txt', SHA_B, undefined), blobName: undefined, linkTarget: '/nowhere/x' };
    const scan = scanOf(
      repo({
        refs: [ref('main', `${C1}\n`), ref('v2', C2)],
        revisions: [rev(C1, [link(C1, 'config.json', GIT_C, 10), link(C1, 'model.bin', SHA_A, undefined), dangling])],
        blobs: [blob(GIT_C, 10, true), blob(SHA_B, 7, false)],
        partialFiles: [{ name: `${SHA_A}.abcdef01.incomplete`, path: `${REPO_DIR}/blobs/${SHA_A}.abcdef01.incomplete`, kind: 'incomplete', size: 3, allocated: 4096, mtimeMs: 0 }],
      }),
    );
    const findings = findingsFromScan(scan);
    expect(findings.map((f) => [f.kind, f.severity, f.message])).toEqual([
      ['blob-missing', 'damage', `org/m@111111111111: model.bin points to blobs/${SHA_A}, which does not exist.`],
      ['broken-link', 'damage', 'org/m@111111111111: sub/x.txt is a dangling symlink to /nowhere/x (not a blob of this repo).'],
      ['ref-trailing-newline', 'damage', `org/m: refs/main is ${JSON.stringify(`${C1}\n`)} with a trailing newline; huggingface_hub reads it raw and looks for a snapshot that does not exist.`],
      ['ref-missing-snapshot', 'damage', `org/m: refs/v2 points to "${C2}", but there is no snapshots/${C2}/.`],
      ['partial-download', 'info', `org/m: partial download blobs/${SHA_A}.abcdef01.incomplete (3 bytes, last written 1970-01-01T00:00:00.000Z).`],
      ['orphan-blob', 'info', `org/m: blobs/${SHA_B} (7 bytes) is not used by any snapshot.`],
    ]);
    expect(findings[0]).toMatchObject({ file: 'model.bin', commit: C1, repair: FINDING_KINDS['blob-missing'].repair });
    expect(findings[2]).toMatchObject({ ref: 'main', commit: C1, path: `${REPO_DIR}/refs/main` });
    expect(isIntact(findings)).toBe(false);
    expect(isIntact(findings.filter((f) => f.severity !== 'damage'))).toBe(true);
    expect(isIntact(findings.map((f) => ({ ...f, repaired: 'fixed' as const })))).toBe(true);
  });

  it('a healthy repo has no findings; a folder filter hides other repos and root warnings', () => {
    const healthy = repo({ refs: [ref('main', C1)], revisions: [rev(C1, [link(C1, 'a', SHA_A, 1)])], blobs: [blob(SHA_A, 1, true)] });
    const scan = scanOf(healthy);
    scan.warnings.push({ code: 'NOT_A_REPO_FOLDER', message: 'stray', path: '/cache/x', pythonDropsRepo: true });
    expect(findingsFromScan(scan).map((f) => f.kind)).toEqual(['cache-warning']);
    expect(findingsFromScan(scan, { folders: new Set(['models--org--m']) })).toEqual([]);
  });
});

describe('hashJobsForRepo', () => {
  it('picks sha256 for 64-hex blob names and git sha1 for 40-hex ones; copies are checked against the tree', () => {
    const copy = { path: 'c.txt', fullPath: `${REPO_DIR}/snapshots/${C1}/c.txt`, kind: 'copy' as const, linkTarget: undefined, resolvedPath: `${REPO_DIR}/snapshots/${C1}/c.txt`, blobName: undefined, size: 4, broken: false };
    const r = repo({ revisions: [rev(C1, [copy])], blobs: [blob(SHA_A, 1, true), blob(GIT_C, 2, true)] });
    const jobs = hashJobsForRepo(r, new Map([[C1, [{ path: 'c.txt', size: 4, oid: 'D'.repeat(40) }]]]));
    expect(jobs.map((j) => [j.kind, j.algorithm, j.expected])).toEqual([
      ['blob', 'sha256', SHA_A],
      ['blob', 'git-sha1', GIT_C],
      ['copy', 'git-sha1', 'd'.repeat(40)],
    ]);
  });
});

describe('literalIncludes', () => {
  it('keeps exact names only', () => {
    expect(literalIncludes(['config.json', '*.bin', 'vocab.[jt]*', 'sub/', 'a\\b.txt'])).toEqual(['config.json', 'a/b.txt']);
    expect(literalIncludes(undefined)).toEqual([]);
  });
});
