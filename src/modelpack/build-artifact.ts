/**
 * An HF snapshot as a CNCF ModelPack artifact (modelpack/model-spec v0.0.7 docs/spec.md,
 * docs/config.md, schema/config-schema.json): one uncompressed (`raw`) layer per file, classified by
 * name, a config whose schema is closed (`descriptor`, `config`, `modelfs`), and the Hub facts the
 * config cannot hold as annotations (docs/registry.md has the full list).
 *
 * Deterministic: the same snapshot always gives the same bytes and so the same manifest digest —
 * layers sorted by path, fixed file metadata (mode 0644, uid/gid 0, mtime at the epoch, as the
 * spec's "Reproducibility" guidance asks of tar layers), and no creation time (`createdAt` is
 * optional in the schema; a timestamp would make every push of an unchanged snapshot a new
 * manifest). Pure.
 */
import { createHash } from 'node:crypto';
import { classifyFile } from './classify.js';
import { ANNOTATION, MODEL_ARTIFACT_TYPE, MODEL_CONFIG, OCI_MANIFEST, layerMediaType } from './media-types.js';

export interface SnapshotFileFacts {
  /** Path in the repo, `/`-separated. */
  path: string;
  size: number;
  /** sha256 of the content (lower-case hex): the layer digest. For an LFS file it is the HF blob name. */
  sha256: string;
  lfs: boolean;
  /** The Hub tree's `blob_id`: git blob sha1 of the file (of its pointer, for LFS). The HF blob name of a regular file. */
  blobId?: string | undefined;
  xetHash?: string | undefined;
}

/** A file of the commit that the artifact does not carry: its entry in the Hub's tree. */
export interface OtherFile {
  path: string;
  size: number;
  blobId: string;
  /** sha256 of an LFS file. */
  lfsSha256?: string | undefined;
  xetHash?: string | undefined;
}

export interface ArtifactSource {
  repoId: string;
  repoType: 'model' | 'dataset' | 'space';
  /** The ref the snapshot was cached under (`main`, a tag), or the commit itself. */
  revision: string;
  commit: string;
  /** The repo's page on the Hub (descriptor.sourceURL and org.opencontainers.image.source). */
  sourceUrl: string;
  files: readonly SnapshotFileFacts[];
  /**
   * The commit's files that are not in the snapshot (from trees/<commit>.json), or undefined when
   * the commit's tree is unknown. An empty list: the snapshot is the whole commit.
   */
  otherFiles: readonly OtherFile[] | undefined;
  /** From the model card's front matter (`license:`), when there is one. */
  licenses?: readonly string[] | undefined;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string> | undefined;
}

export interface BuiltArtifact {
  manifest: { bytes: Buffer; digest: string; mediaType: string };
  config: { bytes: Buffer; digest: string };
  /** In manifest order (by path); `path` is the repo file each layer holds. */
  layers: Array<Descriptor & { path: string }>;
}

/** OCI descriptors' digests: `sha256:<hex>`. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const EPOCH = '1970-01-01T00:00:00Z';

/** Code-point order (what Go's sort.Strings and Python's sorted() give): the same on every machine. */
function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export function buildModelArtifact(source: ArtifactSource): BuiltArtifact {
  const files = [...source.files].sort(byPath);
  const layers = files.map((file) => {
    const { kind, untested } = classifyFile(file.path, { repoType: source.repoType, lfs: file.lfs });
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    const annotations: Record<string, string> = {
      [ANNOTATION.filepath]: file.path,
      [ANNOTATION.title]: file.path,
      // model-spec annotations.go FileMetadata; typeflag 0 is a regular file (as modctl writes it).
      [ANNOTATION.fileMetadata]: JSON.stringify({ name, mode: 0o644, uid: 0, gid: 0, size: file.size, mtime: EPOCH, typeflag: 0 }),
    };
    if (untested) annotations[ANNOTATION.mediaTypeUntested] = 'true';
    if (file.blobId !== undefined) {
      annotations[ANNOTATION.hubFile] = JSON.stringify({ blob_id: file.blobId, lfs: file.lfs, ...(file.xetHash ? { xet_hash: file.xetHash } : {}) });
    }
    return { mediaType: layerMediaType(kind), digest: `sha256:${file.sha256}`, size: file.size, annotations, path: file.path };
  });

  const format = weightFormat(files.map((f) => f.path));
  const config = {
    descriptor: {
      name: source.repoId,
      revision: source.commit,
      sourceURL: source.sourceUrl,
      ...(source.licenses && source.licenses.length > 0 ? { licenses: [...source.licenses] } : {}),
    },
    config: format ? { format } : {},
    modelfs: { type: 'layers', diffIds: layers.map((l) => l.digest) },
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = sha256Digest(configBytes);

  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: MODEL_ARTIFACT_TYPE,
    config: { mediaType: MODEL_CONFIG, digest: configDigest, size: configBytes.length },
    layers: layers.map(({ path: _path, ...descriptor }) => descriptor),
    annotations: {
      [ANNOTATION.source]: source.sourceUrl,
      [ANNOTATION.revision]: source.commit,
      [ANNOTATION.repoId]: source.repoId,
      [ANNOTATION.repoType]: source.repoType,
      [ANNOTATION.ref]: source.revision,
      [ANNOTATION.files]: source.otherFiles !== undefined ? 'all' : 'subset',
      ...(source.otherFiles !== undefined && source.otherFiles.length > 0
        ? {
            [ANNOTATION.otherFiles]: JSON.stringify(
              [...source.otherFiles].sort(byPath).map((f) => [f.path, f.size, f.blobId, f.lfsSha256 ?? null, f.xetHash ?? null]),
            ),
          }
        : {}),
    },
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    manifest: { bytes: manifestBytes, digest: sha256Digest(manifestBytes), mediaType: OCI_MANIFEST },
    config: { bytes: configBytes, digest: configDigest },
    layers,
  };
}

/** `config.format` (free text in the schema): the weight format the files show, when there is one. */
function weightFormat(paths: readonly string[]): string | undefined {
  const has = (pattern: RegExp) => paths.some((p) => pattern.test(p));
  if (has(/\.safetensors$/i)) return 'safetensors';
  if (has(/\.gguf$/i)) return 'gguf';
  if (has(/\.onnx$/i)) return 'onnx';
  if (has(/\.(bin|pt|pth)$/i)) return 'pytorch';
  return undefined;
}

/** `license:` (a string or a YAML list) from a model card's front matter; empty when there is none. */
export function licensesFromModelCard(text: string): string[] {
  const match = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (!match) return [];
  const lines = match[1]!.split(/\r?\n/);
  const at = lines.findIndex((l) => /^license:/.test(l));
  if (at === -1) return [];
  const inline = lines[at]!.slice('license:'.length).trim();
  const clean = (v: string) => v.trim().replace(/^["']|["']$/g, '');
  if (inline.startsWith('[')) return inline.slice(1, -1).split(',').map(clean).filter(Boolean);
  if (inline !== '') return [clean(inline)];
  const list: string[] = [];
  for (const line of lines.slice(at + 1)) {
    const item = /^\s*-\s*(.+)$/.exec(line);
    if (!item) break;
    list.push(clean(item[1]!));
  }
  return list.filter(Boolean);
}
