/**
 * `mlcache pull oci://<registry>/<name>:<tag|@digest>`: a model artifact from an OCI registry into
 * the HF hub cache, written exactly as `download` writes it (blobs, snapshot links, refs/<revision>,
 * trees/<commit>.json when the artifact is the whole commit). Raw layers go through the transfer
 * engine (ranged, parallel, resumable, verified); a blob the cache has is not fetched. Tar layers
 * (modctl's packing, ORAS folders) are fetched whole, verified, then unpacked into blobs.
 */
import { rm } from 'node:fs/promises';
import { isMlcacheError } from '../errors.js';
import { pathExists } from '../util/path-exists.js';
import { blobPath, lockPath, readRef, removeRepoTempDirIfEmpty, writeRef } from '../cache/index.js';
import { verifyCacheDir } from '../cache/verify-cache-dir.js';
import type { RepoType } from '../hub/types.js';
import { readArtifactManifest, readModelConfig, type ArtifactContents } from '../modelpack/read-artifact.js';
import type { RegistryClient } from '../registry/types.js';
import { artifactIdentity, artifactTree, executeSnapshot, planTree, unpackArchive, type ArtifactIdentity, type SnapshotPlan } from '../snapshot/index.js';
import { symlinksSupported } from '../cache/index.js';
import { createRuntime } from '../runtime/hub-runtime.js';
import { formatReference, needsTagOrDigest, openRegistry, parseReference, type RegistryAccess } from '../runtime/registry-session.js';
import { failuresError, insufficientSpace, interrupted, preflight, type DownloadSpace } from '../runtime/snapshot-checks.js';
import type { TransferRunOptions } from './run-options.js';

export interface PullOptions extends RegistryAccess, TransferRunOptions {
  /** `oci://host[:port]/name:tag` or `…@sha256:…`. */
  reference: string;
  /** Cache the artifact under this repo id / type / ref instead of what it says (or, for other tools' artifacts, its name). */
  repoId?: string | undefined;
  repoType?: RepoType | undefined;
  revision?: string | undefined;
}

export interface PullResult {
  reference: string;
  manifestDigest: string;
  format: ArtifactContents['format'];
  repoId: string;
  repoType: RepoType;
  revision: string;
  commit: string;
  snapshotPath: string;
  dryRun: boolean;
  files: Array<{ path: string; size: number; cached: boolean }>;
  /** Tar layers (their files are known only once unpacked). */
  archives: number;
  bytesTotal: number;
  bytesNeeded: number;
  bytesFetched: number;
  filesFetched: number;
  durationMs: number;
  space: DownloadSpace;
}

export async function pull(options: PullOptions): Promise<PullResult> {
  const started = Date.now();
  const { settings } = options;
  const reference = parseReference(options.reference);
  if (reference.tag === undefined && reference.digest === undefined) throw needsTagOrDigest(reference);
  await verifyCacheDir(settings.hubCache, settings.hubCacheSource);
  const runtime = await createRuntime(options);
  const client = await openRegistry(settings, reference, { ...options, dispatcher: runtime.dispatcher });
  try {
    return await pullWith({ ...options, client, started }, runtime, reference);
  } finally {
    await client.close();
    await runtime.close();
  }
}

/** The pull itself, on an open client and runtime (cache-models' registry-first path shares it). */
export async function pullWith(
  options: Omit<PullOptions, 'reference'> & { client: RegistryClient; started?: number },
  runtime: Awaited<ReturnType<typeof createRuntime>>,
  reference: ReturnType<typeof parseReference>,
): Promise<PullResult> {
  const started = options.started ?? Date.now();
  const { settings, client } = options;
  const cacheDir = settings.hubCache;
  const manifest = await client.getManifest(reference.repository, reference.digest ?? reference.tag!);
  const contents = readArtifactManifest(manifest.bytes, manifest.mediaType);
  // Another tool's ModelPack artifact names the model in its config; mlcache's says it in annotations.
  const config = contents.repoId === undefined && contents.modelConfigDigest !== undefined
    ? readModelConfig(await client.getBlob(reference.repository, contents.modelConfigDigest, 4 * 1024 * 1024))
    : undefined;
  const identity = artifactIdentity(contents, {
    repoId: options.repoId,
    repoType: options.repoType,
    revision: options.revision,
    repository: reference.repository,
    tag: reference.tag,
    manifestDigest: manifest.digest,
    config,
  });
  const { tree, carried, treeSource, layerOf } = artifactTree(contents);
  const plan = await planTree(
    { cacheDir, signal: options.signal },
    { repo: identity.repo, revision: identity.revision, files: carried },
    { commit: identity.commit, tree, treeSource },
  );
  // Tar layers can only be known by unpacking; a ref already at this commit means an earlier pull finished them.
  const archivesDone = contents.archives.length === 0 || (await readRef(cacheDir, identity.repo, identity.revision)) === identity.commit;
  const archiveBytes = archivesDone ? 0 : contents.archives.reduce((sum, a) => sum + a.size, 0);
  const space = await preflight(cacheDir, { ...plan, bytesNeeded: plan.bytesNeeded + archiveBytes }, options.freeSpace);
  const base = {
    reference: formatReference(reference),
    manifestDigest: manifest.digest,
    format: contents.format,
    repoId: identity.repo.id,
    repoType: identity.repo.type,
    revision: identity.revision,
    commit: identity.commit,
    snapshotPath: plan.snapshotDir,
    files: plan.files.map((f) => ({ path: f.path, size: f.size, cached: f.cached })),
    archives: contents.archives.length,
    bytesTotal: plan.bytesTotal + contents.archives.reduce((sum, a) => sum + a.size, 0),
    bytesNeeded: plan.bytesNeeded + archiveBytes,
    space,
  };
  if (options.dryRun) return { ...base, dryRun: true, bytesFetched: 0, filesFetched: 0, durationMs: Date.now() - started };
  if (!space.fits && options.skipSpaceCheck !== true) throw insufficientSpace(identity.repo.id, space);

  // The ref is written by this function once everything (raw and tar layers) is in place.
  const rawPlan: SnapshotPlan = { ...plan, revision: identity.commit };
  const result = await executeSnapshot(
    {
      engine: runtime.engine,
      cacheDir,
      copy: settings.disableSymlinks,
      signal: options.signal,
      source: (file) => client.blobSource(reference.repository, `sha256:${layerOf.get(file.etag)!}`),
    },
    rawPlan,
  );
  if (options.signal?.aborted) throw interrupted();
  if (result.failureCount > 0) throw failuresError(identity.repo.id, result.failures, result.failureCount);
  let bytesFetched = result.bytesFetched;
  let filesFetched = result.filesFetched;
  if (!archivesDone) {
    const unpacked = await pullArchives(options, runtime, reference.repository, contents, identity, new Set(plan.files.map((f) => f.path)));
    bytesFetched += unpacked.bytes;
    filesFetched += unpacked.files;
  }
  if (identity.revision !== identity.commit) await writeRef(cacheDir, identity.repo, identity.revision, identity.commit);
  await removeRepoTempDirIfEmpty(cacheDir, identity.repo);
  return { ...base, dryRun: false, bytesFetched, filesFetched, durationMs: Date.now() - started };
}

/**
 * Each tar layer: fetched by the engine into blobs/<its sha256> (verified, resumable: a killed run
 * finds it there), unpacked into blobs and links, then removed (no snapshot points at it).
 */
async function pullArchives(
  options: Omit<PullOptions, 'reference'> & { client: RegistryClient },
  runtime: Awaited<ReturnType<typeof createRuntime>>,
  repository: string,
  contents: ArtifactContents,
  identity: ArtifactIdentity,
  seenPaths: Set<string>,
): Promise<{ bytes: number; files: number }> {
  const cacheDir = options.settings.hubCache;
  const copy = options.settings.disableSymlinks || !(await symlinksSupported(cacheDir));
  let bytes = 0;
  let files = 0;
  for (const archive of contents.archives) {
    const destination = blobPath(cacheDir, identity.repo, archive.sha256);
    // A blob of these very bytes may already be in the cache as a file of some snapshot (blobs are
    // content-addressed): then it is that snapshot's, and stays after the unpacking.
    const alreadyThere = await pathExists(destination);
    const fetched = await runtime.engine.download({
      id: destination,
      label: `${identity.repo.id}: ${archive.label}`,
      group: identity.repo.id,
      size: archive.size,
      digest: { algorithm: 'sha256', hex: archive.sha256 },
      destination,
      lockPath: lockPath(cacheDir, identity.repo, archive.sha256),
      resolve: options.client.blobSource(repository, `sha256:${archive.sha256}`),
    });
    bytes += fetched.bytesTransferred;
    let unpacked;
    try {
      unpacked = await unpackArchive({ cacheDir, repo: identity.repo, commit: identity.commit, copy, signal: options.signal }, archive, destination, seenPaths);
    } catch (error) {
      // A layer refused for what it holds is of no use to a later run: do not keep it in blobs/.
      if (!alreadyThere && isMlcacheError(error) && ['UNSAFE_PATH', 'ARTIFACT_INVALID'].includes(error.code)) await rm(destination, { force: true });
      throw error;
    }
    files += unpacked.length;
    // The layer itself is no file of the snapshot: removed, unless it was there before (see above).
    if (!alreadyThere && !unpacked.some((f) => f.sha256 === archive.sha256)) await rm(destination, { force: true });
  }
  return { bytes, files };
}
