/**
 * The importer's plan: for each manifest of the bundle's index, the snapshot it rebuilds (identity,
 * tree, `planTree` against the cache), the layers the bundle still has to deliver (files the cache
 * lacks, and every tar layer), their labels for progress, and the disk preflight for the bytes
 * still to write (download's margin). Pure of the reading: the caller hands in the manifests and
 * configs already staged.
 */
import { DOWNLOAD_MARGIN, checkSpace } from '../cache/disk-space.js';
import { MlcacheError } from '../errors.js';
import { readModelConfig, type ArtifactContents } from '../modelpack/read-artifact.js';
import { artifactIdentity, artifactTree, planTree, type ArtifactIdentity, type SnapshotPlan } from '../snapshot/index.js';
import { formatBytes } from '../util/bytes.js';
import { splitRefName, type IndexManifest } from './layout.js';
import type { BlobProgress } from './progress.js';

/** One manifest of the index, read. */
export interface ImportImage {
  entry: IndexManifest;
  contents: ArtifactContents;
}

/** One manifest of the index, planned. */
export interface ImageWork extends ImportImage {
  identity: ArtifactIdentity;
  /** Blob name (etag) → the sha256 of the layer that carries it. */
  layerOf: Map<string, string>;
  plan: SnapshotPlan;
}

/** What the reading of the bundle learns from the plan, filled in as the plan is made. */
export interface ImportPlanState {
  /** Layer sha256 → "repo: path", for progress and error messages. */
  labels: Map<string, string>;
  /** Layer blobs the plans still need (undefined until planned: until then every blob is staged). */
  needed: Set<string> | undefined;
}

export interface PlanImportOptions {
  cacheDir: string;
  signal: AbortSignal;
  /** Manifests and configs, verified and read from the staging folder (hex → bytes). */
  smallBytes: ReadonlyMap<string, Buffer>;
  /** Is this blob already staged (it needs no writing)? */
  isStaged: (hex: string) => boolean;
  progress: BlobProgress;
  skipSpaceCheck?: boolean | undefined;
  freeSpace?: ((dir: string) => Promise<number>) | undefined;
}

export async function planImport(images: readonly ImportImage[], state: ImportPlanState, options: PlanImportOptions): Promise<ImageWork[]> {
  const { cacheDir, signal, smallBytes, progress } = options;
  const work: ImageWork[] = [];
  for (const { entry, contents } of images) {
    const { repository, tag } = splitRefName(entry.refName);
    const configHex = contents.modelConfigDigest?.slice(7);
    const config = configHex !== undefined ? readModelConfig(smallBytes.get(configHex) ?? Buffer.alloc(0)) : undefined;
    const identity = artifactIdentity(contents, { repository, tag, manifestDigest: `sha256:${entry.hex}`, config });
    const tree = artifactTree(contents);
    // Only the files the bundle carries are placed; the commit's others (a partial snapshot's,
    // in an annotation) go into trees/<commit>.json only, as `pull` does.
    const plan = await planTree(
      { cacheDir, signal },
      { repo: identity.repo, revision: identity.revision, files: tree.carried },
      { commit: identity.commit, tree: tree.carried.length > 0 ? tree.tree : [], treeSource: tree.carried.length > 0 ? tree.treeSource : 'subset' },
    );
    work.push({ entry, contents, identity, layerOf: tree.layerOf, plan });
  }
  // What still has to come from the bundle: the layers of files the cache lacks, and tar layers.
  const { labels } = state;
  const want = new Set<string>();
  for (const w of work) {
    for (const file of w.plan.files) {
      const hex = w.layerOf.get(file.etag);
      if (hex === undefined) continue;
      labels.set(hex, `${w.identity.repo.id}: ${file.path}`);
      if (!file.cached) want.add(hex);
    }
    for (const archive of w.contents.archives) {
      labels.set(archive.sha256, `${w.identity.repo.id}: ${archive.label}`);
      want.add(archive.sha256);
    }
  }
  state.needed = want;
  const sizes = new Map<string, number>();
  for (const w of work) {
    for (const f of w.contents.files) sizes.set(f.sha256, f.size);
    for (const a of w.contents.archives) sizes.set(a.sha256, a.size);
  }
  let bytesToWrite = 0;
  for (const hex of want) {
    if (options.isStaged(hex)) continue;
    bytesToWrite += sizes.get(hex) ?? 0;
    progress.queue(hex, labels.get(hex) ?? hex, sizes.get(hex) ?? 0);
  }
  // The disk preflight, as download's: what the layers still to come need against what is free.
  const space = await checkSpace(cacheDir, bytesToWrite, { margin: DOWNLOAD_MARGIN, freeSpace: options.freeSpace });
  if (!space.fits && options.skipSpaceCheck !== true) {
    throw new MlcacheError(
      'INSUFFICIENT_SPACE',
      `Not enough disk space to import the bundle: its layers need ${formatBytes(bytesToWrite)} (${formatBytes(space.bytesRequired)} with margin), but ${formatBytes(space.bytesFree ?? 0)} is free on ${space.path}; nothing was imported.`,
      { hint: 'Free some space or point --cache-dir at a larger disk; --skip-space-check imports anyway.', details: { space } },
    );
  }
  return work;
}
