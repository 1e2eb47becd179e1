/**
 * CNCF ModelPack media types and annotation keys (modelpack/model-spec v0.0.7:
 * specs-go/v1/mediatype.go and annotations.go), the legacy `vnd.cnai` spelling older modctl
 * releases wrote, ORAS's keys, and mlcache's own keys for the Hub facts the closed config schema
 * cannot hold. Pure.
 */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const OCI_EMPTY_CONFIG = 'application/vnd.oci.empty.v1+json';

export const MODEL_ARTIFACT_TYPE = 'application/vnd.cncf.model.manifest.v1+json';
export const MODEL_CONFIG = 'application/vnd.cncf.model.config.v1+json';
/** modctl before the CNCF rename (model-spec ≤ v0.0.3): the same shapes under `cnai`. */
export const LEGACY_ARTIFACT_TYPE = 'application/vnd.cnai.model.manifest.v1+json';
export const LEGACY_CONFIG = 'application/vnd.cnai.model.config.v1+json';

/** What a layer holds (model-spec spec.md "layers"). */
export type LayerKind = 'weight' | 'weight.config' | 'doc' | 'code' | 'dataset';
/** How a layer's bytes are packed. */
export type LayerPacking = 'raw' | 'tar' | 'tar+gzip' | 'tar+zstd';

export function layerMediaType(kind: LayerKind, packing: LayerPacking = 'raw'): string {
  return `application/vnd.cncf.model.${kind}.v1.${packing}`;
}

const MODEL_LAYER = /^application\/vnd\.(cncf|cnai)\.model\.(weight|weight\.config|doc|code|dataset)\.v1\.(raw|tar|tar\+gzip|tar\+zstd)$/;

/** A ModelPack layer media type (either spelling), or undefined for anything else. */
export function parseModelLayerType(mediaType: string): { kind: LayerKind; packing: LayerPacking; legacy: boolean } | undefined {
  const match = MODEL_LAYER.exec(mediaType);
  if (!match) return undefined;
  return { kind: match[2] as LayerKind, packing: match[3] as LayerPacking, legacy: match[1] === 'cnai' };
}

export const ANNOTATION = {
  /** model-spec annotations.go */
  filepath: 'org.cncf.model.filepath',
  fileMetadata: 'org.cncf.model.file.metadata+json',
  mediaTypeUntested: 'org.cncf.model.file.mediatype.untested',
  legacyFilepath: 'org.cnai.model.filepath',
  /** OCI image-spec annotations.md */
  title: 'org.opencontainers.image.title',
  source: 'org.opencontainers.image.source',
  revision: 'org.opencontainers.image.revision',
  refName: 'org.opencontainers.image.ref.name',
  /** ORAS: a layer that is a tar+gzip of a folder, to be unpacked under its title (oras-go content/file). */
  orasUnpack: 'io.deis.oras.content.unpack',
  /** mlcache's keys: what rebuilds the HF cache exactly (docs/registry.md). */
  repoId: 'io.mlcache.hf.repo-id',
  repoType: 'io.mlcache.hf.repo-type',
  ref: 'io.mlcache.hf.ref',
  /**
   * 'all': the layers plus `otherFiles` are every file of the commit, so the puller writes
   * trees/<commit>.json as a download would; 'subset': the commit's tree was not known to the pusher.
   */
  files: 'io.mlcache.hf.files',
  /**
   * The commit's files the artifact does not carry (a snapshot cached with --include), as
   * `[[path, size, blob_id, lfs_sha256 | null, xet_hash | null], …]`: with them the puller's
   * trees/<commit>.json is the Hub's, and cache-models can tell whether an entry's selection is all here.
   */
  otherFiles: 'io.mlcache.hf.other-files+json',
  /** Per layer: `{"blob_id": git blob sha1, "lfs": bool, "xet_hash"?: …}` (the file's entry in the Hub's tree). */
  hubFile: 'io.mlcache.hf.file+json',
} as const;
