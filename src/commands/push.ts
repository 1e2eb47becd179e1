/**
 * `mlcache push <repo>[@rev] oci://<registry>/<name>[:<tag>]`: a cached snapshot into an OCI
 * registry as a CNCF ModelPack artifact (src/modelpack). Only a whole, verified snapshot is pushed
 * (readLocalSnapshot refuses the rest). Each layer is skipped when the registry has it (HEAD),
 * mounted when this machine pushed it to another repository of the registry, else uploaded —
 * monolithic, or in chunks for big files, resumable from the registry's offset after a kill —
 * several at once; the manifest goes last, so a tag never names an artifact with a missing blob.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { verifyCacheDir } from '../cache/verify-cache-dir.js';
import type { Settings } from '../config/settings.js';
import type { TransferEvent, TransferTotals } from '../download/types.js';
import { MlcacheError } from '../errors.js';
import { createDispatcher, isCommitHash, parseRepoSpec } from '../hub/index.js';
import type { RepoType } from '../hub/types.js';
import { buildModelArtifact } from '../modelpack/build-artifact.js';
import type { RegistryClient, UploadResult } from '../registry/types.js';
import { readLocalSnapshot } from '../snapshot/index.js';
import { runPool } from '../util/run-pool.js';
import { openRegistryMemory } from '../runtime/registry-memory.js';
import { formatReference, openRegistry, parseReference, type RegistryAccess } from '../runtime/registry-session.js';
import { interrupted } from '../runtime/snapshot-checks.js';

export interface PushOptions extends RegistryAccess {
  settings: Settings;
  /** `org/name[@revision]`. */
  repo: string;
  repoType?: RepoType | undefined;
  /** `oci://host[:port]/name[:tag]`. */
  target: string;
  /** Layers uploaded at once. @default 4 */
  jobs?: number | undefined;
  /** Files at or above this size go up in PATCH chunks of this size. @default 64 MiB */
  chunkSize?: number | undefined;
  dispatcher?: Dispatcher | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: TransferEvent) => void) | undefined;
  onWarning?: ((message: string) => void) | undefined;
}

export interface PushResult {
  reference: string;
  repoId: string;
  repoType: RepoType;
  revision: string;
  commit: string;
  manifestDigest: string;
  /** Every tag the manifest was put under: the one asked for (or the revision's) and the full commit. */
  tags: string[];
  layers: number;
  bytesTotal: number;
  bytesUploaded: number;
  layersUploaded: number;
  layersMounted: number;
  layersPresent: number;
  durationMs: number;
}

/** distribution's default limit on a manifest's size (registry/handlers/manifests.go: maxManifestBodySize). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DEFAULT_CHUNK = 64 * 1024 * 1024;

/** A revision as a tag (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`, distribution-spec): `refs/pr/1` → `refs-pr-1`. */
export function tagForRevision(revision: string): string {
  if (isCommitHash(revision)) return revision;
  const tag = revision.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '').slice(0, 128);
  return tag === '' ? 'latest' : tag;
}

export async function push(options: PushOptions): Promise<PushResult> {
  const started = Date.now();
  const { settings } = options;
  const spec = parseRepoSpec(options.repo, options.repoType ?? 'model');
  const reference = parseReference(options.target);
  if (reference.digest !== undefined) {
    throw new MlcacheError('USAGE', `Push to a tag, not a digest (${formatReference(reference)}): the digest is the manifest's own.`, {
      hint: 'Write oci://host/name:TAG, or leave the tag out to use the revision.',
    });
  }
  await verifyCacheDir(settings.hubCache, settings.hubCacheSource);
  const local = await readLocalSnapshot(settings.hubCache, spec.repo, spec.revision ?? 'main', { endpoint: settings.endpoint, signal: options.signal });
  const built = buildModelArtifact(local.source);
  if (built.manifest.bytes.length > MAX_MANIFEST_BYTES) {
    throw new MlcacheError('MANIFEST_TOO_LARGE', `The manifest for ${spec.repo.id} would be ${built.manifest.bytes.length} bytes, over the 4 MiB registries accept (one layer per file: ${built.layers.length} files).`, {
      hint: 'Push fewer files (download a subset with --include into another cache), or use `mlcache export` for an OCI layout.',
    });
  }
  const dispatcher = options.dispatcher ?? createDispatcher(settings.proxy, { connections: Math.max(8, (options.jobs ?? 4) * 2) });
  const client = await openRegistry(settings, reference, { ...options, dispatcher });
  try {
    const tags = [...new Set([reference.tag ?? tagForRevision(local.revision), local.commit])];
    const counts = await uploadAll(options, client, reference.repository, built, local.blobFiles);
    if (options.signal?.aborted) throw interrupted();
    for (const tag of tags) await client.putManifest(reference.repository, tag, built.manifest.bytes, built.manifest.mediaType);
    return {
      reference: formatReference({ ...reference, tag: tags[0] }),
      repoId: spec.repo.id,
      repoType: spec.repo.type,
      revision: local.revision,
      commit: local.commit,
      manifestDigest: built.manifest.digest,
      tags,
      layers: built.layers.length,
      bytesTotal: built.layers.reduce((sum, l) => sum + l.size, 0),
      ...counts,
      durationMs: Date.now() - started,
    };
  } finally {
    await client.close();
    if (options.dispatcher === undefined) await (options.signal?.aborted ? dispatcher.destroy() : dispatcher.close());
  }
}

/** The config and every distinct layer, `jobs` at a time; events as the engine emits them for downloads. */
async function uploadAll(
  options: PushOptions,
  client: RegistryClient,
  repository: string,
  built: ReturnType<typeof buildModelArtifact>,
  blobFiles: Map<string, string>,
): Promise<{ bytesUploaded: number; layersUploaded: number; layersMounted: number; layersPresent: number }> {
  const memory = await openRegistryMemory(options.settings.hubCache, client.registry);
  const emit = options.onEvent ?? (() => undefined);
  const distinct = new Map<string, { digest: string; size: number; path: string }>();
  for (const layer of built.layers) if (!distinct.has(layer.digest)) distinct.set(layer.digest, layer);
  const layers = [...distinct.values()];
  const totals: TransferTotals = { filesQueued: layers.length, filesDone: 0, filesFailed: 0, bytesTotal: 0, bytesDone: 0, bytesTransferred: 0, retries: 0 };
  for (const l of layers) totals.bytesTotal += l.size;
  const label = (p: string) => `${repository}: ${p}`;
  for (const l of layers) emit({ type: 'file-queued', id: l.digest, label: label(l.path), size: l.size });

  // The config first: small, and a registry that refuses pushes says so before any big upload.
  await client.uploadBlob(repository, {
    digest: built.config.digest,
    size: built.config.bytes.length,
    open: (start) => Readable.from([built.config.bytes.subarray(start)]),
    signal: options.signal,
  });

  const counts = { bytesUploaded: 0, layersUploaded: 0, layersMounted: 0, layersPresent: 0 };
  const failures: Array<{ path: string; error: unknown }> = [];
  const startedAt = Date.now();
  const chunk = options.chunkSize ?? DEFAULT_CHUNK;
  await runPool(layers.length, Math.max(1, options.jobs ?? 4), async (index) => {
    const layer = layers[index]!;
    const file = blobFiles.get(layer.digest.replace(/^sha256:/, ''))!;
    const layerStarted = Date.now();
    emit({ type: 'file-started', id: layer.digest, label: label(layer.path), size: layer.size, resumedBytes: 0, chunks: layer.size >= chunk ? Math.ceil(layer.size / chunk) : 1 });
    let result: UploadResult;
    try {
      result = await client.uploadBlob(repository, {
        digest: layer.digest,
        size: layer.size,
        open: (start) => createReadStream(file, { start, highWaterMark: 1024 * 1024 }),
        mountFrom: memory.mountSources(layer.digest, repository),
        chunkSize: layer.size >= chunk ? chunk : undefined,
        sessions: memory.sessions,
        signal: options.signal,
        onProgress: (sent) => emit({ type: 'file-progress', id: layer.digest, bytesDone: sent, size: layer.size }),
      });
    } catch (error) {
      totals.filesFailed++;
      failures.push({ path: layer.path, error });
      const described = error instanceof MlcacheError ? { code: error.code, message: error.message } : { code: 'INTERNAL', message: String(error) };
      emit({ type: 'file-failed', id: layer.digest, label: label(layer.path), ...described });
      return;
    }
    await memory.remember(layer.digest, repository);
    counts.bytesUploaded += result.bytesSent;
    if (result.outcome === 'uploaded') counts.layersUploaded++;
    else if (result.outcome === 'mounted') counts.layersMounted++;
    else counts.layersPresent++;
    totals.filesDone++;
    totals.bytesDone += layer.size;
    totals.bytesTransferred += result.bytesSent;
    emit({ type: 'file-done', id: layer.digest, label: label(layer.path), size: layer.size, bytesTransferred: result.bytesSent, durationMs: Date.now() - layerStarted });
  }, () => options.signal?.aborted === true || failures.length > 0);
  const elapsedMs = Date.now() - startedAt;
  emit({ type: 'totals', totals, bytesPerSecond: elapsedMs > 0 ? (totals.bytesTransferred * 1000) / elapsedMs : 0, elapsedMs });
  if (options.signal?.aborted) throw interrupted();
  if (failures.length > 0) throw failures[0]!.error;
  return counts;
}
