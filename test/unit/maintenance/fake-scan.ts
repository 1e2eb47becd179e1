/** Hand-built CacheScan objects for the pure maintenance tests (shapes from src/cache/scan-types.ts). */
import type { CacheScan, ScannedBlob, ScannedFile, ScannedRef, ScannedRepo, ScannedRevision } from '../../../src/cache/index.js';

export const C1 = '1'.repeat(40);
export const C2 = '2'.repeat(40);
export const SHA_A = 'a'.repeat(64);
export const SHA_B = 'b'.repeat(64);
export const GIT_C = 'c'.repeat(40);

const ROOT = '/cache';
const DIR = `${ROOT}/models--org--m`;

export function blob(name: string, size: number, referenced: boolean, mtimeMs = 0): ScannedBlob {
  return { name, path: `${DIR}/blobs/${name}`, size, nlink: 1, mtimeMs, referenced };
}

export function link(commit: string, path: string, blobName: string, size: number | undefined): ScannedFile {
  const broken = size === undefined;
  return {
    path,
    fullPath: `${DIR}/snapshots/${commit}/${path}`,
    kind: 'symlink',
    linkTarget: `../../blobs/${blobName}`,
    resolvedPath: broken ? undefined : `${DIR}/blobs/${blobName}`,
    blobName,
    size,
    broken,
  };
}

export function rev(commit: string, files: ScannedFile[], refs: string[] = []): ScannedRevision {
  return { commit, path: `${DIR}/snapshots/${commit}`, refs, files, size: 0, hasTreeCache: false };
}

export function ref(name: string, raw: string): ScannedRef {
  return { name, raw, commit: /^[0-9a-f]{40}$/.test(raw) ? raw : undefined, trailingNewline: /\n$/.test(raw) };
}

export function repo(parts: Partial<ScannedRepo>): ScannedRepo {
  return {
    repo: { id: 'org/m', type: 'model' },
    folder: 'models--org--m',
    path: DIR,
    refs: [],
    revisions: [],
    blobs: [],
    partialFiles: [],
    sizeOnDisk: 0,
    blobsSize: (parts.blobs ?? []).reduce((a, b) => a + b.size, 0),
    warnings: [],
    ...parts,
  };
}

export function scanOf(...repos: ScannedRepo[]): CacheScan {
  return {
    cacheDir: ROOT,
    repos,
    sizeOnDisk: 0,
    blobsSize: 0,
    partialFiles: repos.flatMap((r) => r.partialFiles),
    warnings: repos.flatMap((r) => r.warnings),
  };
}

export const REPO_DIR = DIR;
