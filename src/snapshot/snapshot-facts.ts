/**
 * What the cache holds for one repo at one revision, as the facts a ModelPack artifact needs:
 * every file of the snapshot with its size, its blob and the blob's identities (sha256 for the
 * layer digest, the Hub's git blob id for the exact round trip). Read from the cache only — no
 * network — and refused when the snapshot is not whole: a revision with no ref, a link to a missing
 * blob, a blob whose size disagrees with the tree, a regular file whose content is not its name.
 */
import type { Dirent } from 'node:fs';
import { open, opendir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { readTreeCache, repoPaths, type TreeCacheFile } from '../cache/index.js';
import { MlcacheError } from '../errors.js';
import { describeRepo, repoWebUrl } from '../hub/index.js';
import type { RepoRef } from '../hub/types.js';
import { licensesFromModelCard, type ArtifactSource, type SnapshotFileFacts } from '../modelpack/build-artifact.js';
import { hashFile } from '../util/hash.js';
import { cachedCommit } from './plan.js';

export interface LocalSnapshot {
  repo: RepoRef;
  revision: string;
  commit: string;
  snapshotDir: string;
  /** Feed to buildModelArtifact. */
  source: ArtifactSource;
  /** Layer sha256 (hex) → the blob file holding it. */
  blobFiles: Map<string, string>;
}

const SHA256 = /^[0-9a-f]{64}$/;
const SHA1 = /^[0-9a-f]{40}$/;

function notCached(repo: RepoRef, revision: string, why: string): MlcacheError {
  return new MlcacheError('SNAPSHOT_NOT_CACHED', `The cache does not hold ${describeRepo(repo)} at ${revision} completely: ${why}.`, {
    hint: `Run \`mlcache download ${repo.type === 'model' ? '' : `--repo-type ${repo.type} `}${repo.id} --revision ${revision}\` (or \`mlcache verify --repair\`), then try again.`,
  });
}

export async function readLocalSnapshot(
  cacheDir: string,
  repo: RepoRef,
  revision: string,
  options: { endpoint: string; signal?: AbortSignal | undefined },
): Promise<LocalSnapshot> {
  const commit = await cachedCommit(cacheDir, repo, revision);
  if (commit === undefined) throw notCached(repo, revision, `there is no refs/${revision} (an interrupted download writes none)`);
  const paths = repoPaths(cacheDir, repo);
  const snapshotDir = path.join(paths.snapshotsDir, commit);
  const tree = await readTreeCache(cacheDir, repo, commit);
  const byPath = new Map<string, TreeCacheFile>((tree ?? []).map((f) => [f.path, f]));

  const files: SnapshotFileFacts[] = [];
  const blobFiles = new Map<string, string>();
  const entries = await walk(snapshotDir, options.signal);
  if (entries === undefined) throw notCached(repo, revision, `snapshots/${commit.slice(0, 12)} is missing`);
  for (const { relative, entry, full } of entries) {
    const listed = byPath.get(relative);
    let blobName: string | undefined;
    let blobFile = full;
    if (entry.isSymbolicLink()) {
      const target = await readlink(full);
      blobName = path.basename(target);
      blobFile = path.resolve(path.dirname(full), target);
      if (path.dirname(blobFile) !== paths.blobsDir) throw notCached(repo, revision, `"${relative}" links outside the repo's blobs/`);
    } else {
      // A copied snapshot (HF_HUB_DISABLE_SYMLINKS): the tree names its blob.
      blobName = listed ? (listed.lfs?.oid ?? listed.oid) : undefined;
    }
    const st = await stat(blobFile).catch(() => undefined);
    if (!st?.isFile()) throw notCached(repo, revision, `the blob of "${relative}" is missing`);
    const expectedSize = listed ? (listed.lfs?.size ?? listed.size) : undefined;
    if (expectedSize !== undefined && st.size !== expectedSize) {
      throw notCached(repo, revision, `"${relative}" is ${st.size} bytes where the tree says ${expectedSize}`);
    }
    const lfs = listed ? listed.lfs !== undefined : blobName !== undefined && SHA256.test(blobName);
    let sha256: string;
    if (lfs && blobName !== undefined && SHA256.test(blobName)) {
      // The layer digest is the blob name; the registry (or the importer) recomputes it as the bytes arrive.
      sha256 = blobName;
    } else {
      // A regular file (small: the Hub keeps big files in LFS): its git blob id is its name, checked here.
      sha256 = await hashFile(blobFile, 'sha256', { signal: options.signal });
      if (blobName !== undefined && SHA1.test(blobName)) {
        const gitId = await hashFile(blobFile, 'git-sha1', { signal: options.signal });
        if (gitId !== blobName) throw notCached(repo, revision, `"${relative}" does not match its blob name (damaged)`);
      }
    }
    files.push({
      path: relative,
      size: st.size,
      sha256,
      lfs,
      blobId: listed?.oid ?? (blobName !== undefined && SHA1.test(blobName) ? blobName : undefined),
      xetHash: listed?.xetHash,
    });
    blobFiles.set(sha256, blobFile);
  }
  if (files.length === 0) throw notCached(repo, revision, `snapshots/${commit.slice(0, 12)} holds no files`);
  const present = new Set(files.map((f) => f.path));
  // Files of the snapshot the tree does not list: the tree is not this snapshot's (hand-edited cache).
  const treeMatches = tree !== undefined && files.every((f) => byPath.has(f.path));
  const otherFiles = treeMatches
    ? tree.filter((f) => !present.has(f.path)).map((f) => ({ path: f.path, size: f.size, blobId: f.oid, lfsSha256: f.lfs?.oid, xetHash: f.xetHash }))
    : undefined;
  return {
    repo,
    revision,
    commit,
    snapshotDir,
    blobFiles,
    source: {
      repoId: repo.id,
      repoType: repo.type,
      revision,
      commit,
      sourceUrl: repoWebUrl(options.endpoint, repo),
      files,
      otherFiles,
      licenses: await readLicenses(snapshotDir, present),
    },
  };
}

/** Every file and link below `dir`, as `/`-separated paths; undefined when `dir` does not exist. */
async function walk(dir: string, signal: AbortSignal | undefined): Promise<Array<{ relative: string; entry: Dirent; full: string }> | undefined> {
  const out: Array<{ relative: string; entry: Dirent; full: string }> = [];
  const visit = async (folder: string, prefix: string): Promise<boolean> => {
    let handle;
    try {
      handle = await opendir(folder);
    } catch {
      return false;
    }
    for await (const entry of handle) {
      signal?.throwIfAborted();
      const full = path.join(folder, entry.name);
      const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) await visit(full, relative);
      else if (entry.isSymbolicLink() || entry.isFile()) out.push({ relative, entry, full });
    }
    return true;
  };
  if (!(await visit(dir, ''))) return undefined;
  return out;
}

/** The model card's `license:` (first 16 KiB of README.md), when the snapshot has one. */
async function readLicenses(snapshotDir: string, present: ReadonlySet<string>): Promise<string[]> {
  if (!present.has('README.md')) return [];
  const handle = await open(path.join(snapshotDir, 'README.md')).catch(() => undefined);
  if (!handle) return [];
  try {
    const buffer = Buffer.alloc(16_384);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return licensesFromModelCard(buffer.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await handle.close();
  }
}
