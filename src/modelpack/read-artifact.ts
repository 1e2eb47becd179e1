/**
 * What a pulled manifest holds, whoever pushed it, in the order the issue names: ModelPack
 * (`vnd.cncf`: raw, tar, tar+gzip, tar+zstd), its legacy `vnd.cnai` spelling (older modctl), then
 * plain ORAS artifacts (`oras push file…`: a title per layer; `io.deis.oras.content.unpack` marks a
 * tar+gzip of a folder). A file's path comes from `org.cncf.model.filepath`, else
 * `org.cnai.model.filepath`, else the title; a tar layer's paths come from its entries. Anything else
 * (a container image, an unknown media type) is refused by name. Pure: no I/O, every field checked.
 */
import { MlcacheError } from '../errors.js';
import { isCommitHash } from '../util/commit-hash.js';
import {
  ANNOTATION,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  LEGACY_ARTIFACT_TYPE,
  LEGACY_CONFIG,
  MODEL_ARTIFACT_TYPE,
  MODEL_CONFIG,
  OCI_INDEX,
  OCI_MANIFEST,
  parseModelLayerType,
} from './media-types.js';

/** A raw layer: one file, stored as is. */
export interface ArtifactFile {
  path: string;
  size: number;
  /** sha256 hex of the layer (the file's content). */
  sha256: string;
  mediaType: string;
  /** The Hub's facts when the pusher recorded them (mlcache does); undefined for other tools' artifacts. */
  hub?: { blobId: string; lfs: boolean; xetHash?: string | undefined } | undefined;
}

/** A tar layer (optionally compressed): its files are named by its entries. */
export interface ArtifactArchive {
  sha256: string;
  size: number;
  mediaType: string;
  compression: 'none' | 'gzip' | 'zstd';
  /** The layer's filepath/title, for messages. */
  label: string;
}

export interface ArtifactContents {
  format: 'modelpack' | 'modelpack-legacy' | 'oras';
  /** `sha256:…` of the config blob, when it is a ModelPack config worth reading for the name and commit. */
  modelConfigDigest?: string | undefined;
  repoId?: string | undefined;
  repoType?: 'model' | 'dataset' | 'space' | undefined;
  ref?: string | undefined;
  commit?: string | undefined;
  /**
   * The commit's whole tree is known: every layer has its Hub facts and the pusher listed the
   * commit's other files (`otherFiles`, empty for a whole snapshot).
   */
  complete: boolean;
  /** Files of the commit the artifact does not carry (see ANNOTATION.otherFiles). */
  otherFiles: Array<{ path: string; size: number; blobId: string; lfsSha256?: string | undefined; xetHash?: string | undefined }>;
  files: ArtifactFile[];
  archives: ArtifactArchive[];
}

const DIGEST = /^sha256:([0-9a-f]{64})$/;

function invalid(what: string): MlcacheError {
  return new MlcacheError('ARTIFACT_INVALID', `The manifest is not a valid OCI image manifest: ${what}.`, {
    hint: 'Check the reference; if it is right, the artifact was written by a broken tool — push it again.',
  });
}

function unsupported(mediaType: string, where: string): MlcacheError {
  return new MlcacheError('ARTIFACT_UNSUPPORTED', `${where} has media type "${mediaType}", which is not a model file layout mlcache can read.`, {
    hint: 'mlcache pulls CNCF ModelPack artifacts (modctl, KitOps, mlcache push) and ORAS file artifacts; container images are not models.',
  });
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const stringMap = (v: unknown): Record<string, string> => {
  if (v === undefined) return {};
  if (!isObject(v) || Object.values(v).some((x) => typeof x !== 'string')) throw invalid('annotations must map strings to strings');
  return v as Record<string, string>;
};

export function readArtifactManifest(bytes: Uint8Array, mediaTypeHeader?: string): ArtifactContents {
  let manifest: unknown;
  try {
    manifest = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw invalid('it is not JSON');
  }
  if (!isObject(manifest)) throw invalid('it is not a JSON object');
  const mediaType = typeof manifest.mediaType === 'string' ? manifest.mediaType : mediaTypeHeader ?? OCI_MANIFEST;
  if (mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST || Array.isArray(manifest.manifests)) {
    throw new MlcacheError('ARTIFACT_UNSUPPORTED', 'The reference names an image index (a list of manifests), not one model artifact.', {
      hint: 'Pull one of its manifests by digest: oci://host/name@sha256:… (`skopeo inspect --raw` lists them).',
    });
  }
  if (mediaType !== OCI_MANIFEST && mediaType !== DOCKER_MANIFEST) throw unsupported(mediaType, 'The manifest');
  if (manifest.schemaVersion !== 2) throw invalid('schemaVersion is not 2');
  const config = manifest.config;
  if (!isObject(config) || typeof config.mediaType !== 'string' || typeof config.digest !== 'string' || !DIGEST.test(config.digest)) {
    throw invalid('its config descriptor is missing or malformed');
  }
  if (!Array.isArray(manifest.layers)) throw invalid('it has no layers array');
  const annotations = stringMap(manifest.annotations);
  const artifactType = typeof manifest.artifactType === 'string' ? manifest.artifactType : undefined;
  const modelpack = artifactType === MODEL_ARTIFACT_TYPE || config.mediaType === MODEL_CONFIG;
  const legacy = artifactType === LEGACY_ARTIFACT_TYPE || config.mediaType === LEGACY_CONFIG;

  const files: ArtifactFile[] = [];
  const archives: ArtifactArchive[] = [];
  const paths = new Set<string>();
  let sawCncf = false;
  let sawCnai = false;
  for (const [index, layer] of manifest.layers.entries()) {
    const where = `Layer ${index + 1}`;
    if (!isObject(layer) || typeof layer.mediaType !== 'string' || typeof layer.digest !== 'string') throw invalid(`${where.toLowerCase()} is malformed`);
    const digest = DIGEST.exec(layer.digest);
    if (!digest) throw invalid(`${where.toLowerCase()} has digest "${layer.digest.slice(0, 80)}" (only sha256 is read)`);
    if (typeof layer.size !== 'number' || !Number.isSafeInteger(layer.size) || layer.size < 0) throw invalid(`${where.toLowerCase()} has no valid size`);
    const layerAnnotations = stringMap(layer.annotations);
    const filePath = layerAnnotations[ANNOTATION.filepath] ?? layerAnnotations[ANNOTATION.legacyFilepath] ?? layerAnnotations[ANNOTATION.title];
    const label = filePath ?? `${where} (${layer.digest.slice(0, 19)}…)`;
    const model = parseModelLayerType(layer.mediaType);
    if (model?.legacy === true) sawCnai = true;
    else if (model) sawCncf = true;
    const packing = model?.packing ?? (layerAnnotations[ANNOTATION.orasUnpack] === 'true' ? 'tar+gzip' : filePath !== undefined && !modelpack && !legacy ? 'raw' : undefined);
    if (packing === undefined) throw unsupported(layer.mediaType, where);
    if (packing !== 'raw') {
      archives.push({ sha256: digest[1]!, size: layer.size, mediaType: layer.mediaType, compression: packing === 'tar' ? 'none' : packing === 'tar+gzip' ? 'gzip' : 'zstd', label });
      continue;
    }
    if (filePath === undefined) throw invalid(`${where.toLowerCase()} is a raw file layer without a path (${ANNOTATION.filepath} or ${ANNOTATION.title})`);
    if (paths.has(filePath)) throw invalid(`two layers are both "${filePath}"`);
    paths.add(filePath);
    files.push({ path: filePath, size: layer.size, sha256: digest[1]!, mediaType: layer.mediaType, hub: hubFacts(layerAnnotations[ANNOTATION.hubFile], filePath) });
  }
  if (files.length === 0 && archives.length === 0) throw invalid('it has no layers');

  const repoType = annotations[ANNOTATION.repoType];
  if (repoType !== undefined && repoType !== 'model' && repoType !== 'dataset' && repoType !== 'space') throw invalid(`${ANNOTATION.repoType} is "${repoType.slice(0, 40)}"`);
  const commit = annotations[ANNOTATION.revision];
  const complete = annotations[ANNOTATION.files] === 'all' && archives.length === 0 && files.every((f) => f.hub !== undefined);
  return {
    format: modelpack || sawCncf ? 'modelpack' : legacy || sawCnai ? 'modelpack-legacy' : 'oras',
    modelConfigDigest: modelpack || legacy ? config.digest : undefined,
    repoId: annotations[ANNOTATION.repoId],
    repoType,
    ref: annotations[ANNOTATION.ref],
    commit: commit !== undefined && isCommitHash(commit) ? commit : undefined,
    complete,
    otherFiles: complete ? readOtherFiles(annotations[ANNOTATION.otherFiles], paths) : [],
    files,
    archives,
  };
}

function readOtherFiles(text: string | undefined, layerPaths: ReadonlySet<string>): ArtifactContents['otherFiles'] {
  if (text === undefined) return [];
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch {
    throw invalid(`the ${ANNOTATION.otherFiles} annotation is not JSON`);
  }
  if (!Array.isArray(rows)) throw invalid(`the ${ANNOTATION.otherFiles} annotation is not a list`);
  const seen = new Set<string>();
  return rows.map((row: unknown) => {
    if (!Array.isArray(row) || row.length !== 5) throw invalid(`the ${ANNOTATION.otherFiles} annotation has a malformed row`);
    const [p, size, blobId, lfs, xet] = row as unknown[];
    const ok =
      typeof p === 'string' && !layerPaths.has(p) && !seen.has(p) &&
      typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 &&
      typeof blobId === 'string' && /^[0-9a-f]{40}$/.test(blobId) &&
      (lfs === null || (typeof lfs === 'string' && /^[0-9a-f]{64}$/.test(lfs))) &&
      (xet === null || typeof xet === 'string');
    if (!ok) throw invalid(`the ${ANNOTATION.otherFiles} annotation has a malformed or repeated row`);
    seen.add(p);
    return { path: p, size, blobId, lfsSha256: lfs ?? undefined, xetHash: xet ?? undefined };
  });
}

function hubFacts(text: string | undefined, filePath: string): ArtifactFile['hub'] {
  if (text === undefined) return undefined;
  let facts: unknown;
  try {
    facts = JSON.parse(text);
  } catch {
    throw invalid(`the ${ANNOTATION.hubFile} annotation of "${filePath}" is not JSON`);
  }
  if (!isObject(facts) || typeof facts.blob_id !== 'string' || !/^[0-9a-f]{40}$/.test(facts.blob_id) || typeof facts.lfs !== 'boolean') {
    throw invalid(`the ${ANNOTATION.hubFile} annotation of "${filePath}" is malformed`);
  }
  const xet = typeof facts.xet_hash === 'string' ? facts.xet_hash : undefined;
  return { blobId: facts.blob_id, lfs: facts.lfs, xetHash: xet };
}

/** Name and commit from a ModelPack config (`descriptor.name`, `descriptor.revision`), for artifacts other tools pushed. */
export function readModelConfig(bytes: Uint8Array): { name?: string | undefined; revision?: string | undefined } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    const descriptor = isObject(parsed) && isObject(parsed.descriptor) ? parsed.descriptor : {};
    return {
      name: typeof descriptor.name === 'string' ? descriptor.name : undefined,
      revision: typeof descriptor.revision === 'string' ? descriptor.revision : undefined,
    };
  } catch {
    return {};
  }
}
