/**
 * `mlcache export <repo[@rev]…|--group G…> <bundle.tar | folder | ->`: cached snapshots as one OCI
 * image layout, one CNCF ModelPack manifest per snapshot (the same bytes `mlcache push` would
 * send), each blob once. Reads only the local cache: no network, so it runs on the connected side
 * of an air gap and `mlcache import` (or skopeo, then `mlcache pull`) on the other.
 * docs/registry.md "Bundles" describes the format.
 */
import path from 'node:path';
import type { Writable } from 'node:stream';
import { createBlobProgress } from '../bundle/progress.js';
import { snapshotRefName } from '../bundle/layout.js';
import { writeBundle, type BundleImage, type BundleTarget } from '../bundle/write-bundle.js';
import { verifyCacheDir } from '../cache/verify-cache-dir.js';
import { loadCatalog, selectEntries } from '../catalog/index.js';
import type { Settings } from '../config/settings.js';
import type { TransferEvent, TransferTotals } from '../download/types.js';
import { MlcacheError, usageError } from '../errors.js';
import { parseRepoId } from '../hub/index.js';
import type { RepoType } from '../hub/types.js';
import { buildModelArtifact } from '../modelpack/build-artifact.js';
import { readLocalSnapshot } from '../snapshot/snapshot-facts.js';

export interface ExportRepo {
  repoId: string;
  /** @default 'model' */
  repoType?: RepoType | undefined;
  /** @default 'main' */
  revision?: string | undefined;
}

export interface ExportBundleOptions {
  settings: Settings;
  /** Snapshots named on the command line (`org/name[@rev]`). */
  repos?: readonly ExportRepo[] | undefined;
  /** Catalog groups (`--group`): their Hub entries at their revisions, as `cache-models` caches them. */
  groups?: readonly string[] | undefined;
  /** --catalog FILE (wins over Settings.catalogPath). */
  catalogPath?: string | undefined;
  /** A `.tar` path, a folder path (existing, or ending in `/`), `-` (write `stdout`), or a stream. */
  target: string | Writable;
  /** What `-` writes to. @default process.stdout */
  stdout?: Writable | undefined;
  /** Write a folder layout even when the path does not exist yet and has no trailing slash. */
  folder?: boolean | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: TransferEvent) => void) | undefined;
  /** Platform for catalog constraints. @default { os: process.platform, arch: process.arch } */
  platform?: { os: string; arch: string } | undefined;
}

export interface ExportedSnapshot {
  refName: string;
  repoId: string;
  repoType: RepoType;
  revision: string;
  commit: string;
  manifestDigest: string;
  files: number;
  bytes: number;
}

export interface ExportBundleResult {
  target: string;
  kind: BundleTarget['kind'];
  snapshots: ExportedSnapshot[];
  blobs: number;
  bytesWritten: number;
  blobsKept: number;
  durationMs: number;
  totals: TransferTotals;
}

export async function exportBundle(options: ExportBundleOptions): Promise<ExportBundleResult> {
  const started = Date.now();
  const { settings } = options;
  await verifyCacheDir(settings.hubCache, settings.hubCacheSource);
  const wanted = await selectSnapshots(options);
  if (wanted.length === 0) throw usageError('Nothing to export: name repos (org/name[@revision]) or --group.', 'Run `mlcache export --help` for usage.');

  const images: BundleImage[] = [];
  const snapshots: ExportedSnapshot[] = [];
  const seen = new Set<string>();
  for (const want of wanted) {
    const repo = parseRepoId(want.repoId, want.repoType ?? 'model');
    const facts = await readLocalSnapshot(settings.hubCache, repo, want.revision ?? 'main', { endpoint: settings.endpoint, signal: options.signal });
    const refName = snapshotRefName(repo, facts.revision, facts.commit);
    if (seen.has(refName)) continue;
    seen.add(refName);
    const artifact = buildModelArtifact(facts.source);
    images.push({
      refName,
      manifest: artifact.manifest,
      config: artifact.config,
      annotations: { 'io.mlcache.hf.repo-id': repo.id, 'io.mlcache.hf.repo-type': repo.type, 'org.opencontainers.image.revision': facts.commit },
      layers: artifact.layers.map((layer) => {
        const hex = layer.digest.slice('sha256:'.length);
        const file = facts.blobFiles.get(hex);
        if (file === undefined) {
          throw new MlcacheError('SNAPSHOT_NOT_CACHED', `${repo.id}@${facts.revision}: the blob of ${layer.path} is not in the cache.`, {
            hint: `Run \`mlcache download ${repo.id} --revision ${facts.revision}\` (or \`mlcache verify --repair\`), then export again.`,
          });
        }
        return { hex, size: layer.size, file, label: `${repo.id}: ${layer.path}` };
      }),
    });
    snapshots.push({
      refName,
      repoId: repo.id,
      repoType: repo.type,
      revision: facts.revision,
      commit: facts.commit,
      manifestDigest: artifact.manifest.digest,
      files: artifact.layers.length,
      bytes: artifact.layers.reduce((sum, l) => sum + l.size, 0),
    });
  }

  const target = await resolveTarget(options);
  const progress = createBlobProgress(options.onEvent);
  let written: Awaited<ReturnType<typeof writeBundle>>;
  try {
    written = await writeBundle(target, images, { progress, signal: options.signal });
  } catch (error) {
    // Ctrl-C: the streams report an AbortError; say what it was (a `.tar` target was not left behind).
    if (options.signal?.aborted) {
      const reason: unknown = options.signal.reason;
      throw reason instanceof MlcacheError
        ? reason
        : new MlcacheError('INTERRUPTED', 'Interrupted; the export stopped.', { hint: 'Run the same command again (a folder target keeps the blobs already written).' });
    }
    throw error;
  }
  return {
    target: typeof options.target === 'string' ? options.target : '-',
    kind: target.kind,
    snapshots,
    blobs: written.blobs,
    bytesWritten: written.bytesWritten,
    blobsKept: written.blobsKept,
    durationMs: Date.now() - started,
    totals: written.totals,
  };
}

async function resolveTarget(options: ExportBundleOptions): Promise<BundleTarget> {
  const { target } = options;
  if (typeof target !== 'string') return { kind: 'stream', stream: target };
  if (target === '-') return { kind: 'stream', stream: options.stdout ?? process.stdout };
  const { stat } = await import('node:fs/promises');
  const st = await stat(target).catch(() => undefined);
  if (st?.isDirectory() === true || options.folder === true || target.endsWith('/') || target.endsWith(path.sep)) return { kind: 'folder', path: target };
  if (st !== undefined && !st.isFile()) throw usageError(`${target} exists and is neither a file nor a folder.`, 'Give a .tar path, a folder, or - for stdout.');
  return { kind: 'tar', path: target };
}

async function selectSnapshots(options: ExportBundleOptions): Promise<ExportRepo[]> {
  const wanted: ExportRepo[] = [...(options.repos ?? [])];
  if ((options.groups?.length ?? 0) === 0) return wanted;
  const { catalog } = await loadCatalog({ cwd: options.settings.cwd, catalogPath: options.catalogPath, envCatalogPath: options.settings.catalogPath });
  const selection = selectEntries(catalog, { groups: options.groups, platform: options.platform ?? { os: process.platform, arch: process.arch } });
  for (const entry of selection.entries) {
    // Files outside the HF cache (URL entries) and entries for another platform are not snapshots to export.
    if (entry.kind !== 'hub' || entry.skipped !== undefined) continue;
    wanted.push({ repoId: entry.repo.id, repoType: entry.repo.type, revision: entry.revision });
  }
  return wanted;
}
