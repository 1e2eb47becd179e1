import { describe, expect, it } from 'vitest';
import { buildModelArtifact, licensesFromModelCard, sha256Digest, type ArtifactSource } from '../../../src/modelpack/build-artifact.js';
import { classifyFile } from '../../../src/modelpack/classify.js';
import { ANNOTATION, MODEL_ARTIFACT_TYPE, MODEL_CONFIG, OCI_MANIFEST } from '../../../src/modelpack/media-types.js';
import { readArtifactManifest } from '../../../src/modelpack/read-artifact.js';
import { isMlcacheError } from '../../../src/errors.js';

const sha = (c: string) => c.repeat(64);
const git = (c: string) => c.repeat(40);

function source(overrides: Partial<ArtifactSource> = {}): ArtifactSource {
  return {
    repoId: 'Org/Model-X',
    repoType: 'model',
    revision: 'main',
    commit: git('c'),
    sourceUrl: 'https://huggingface.co/Org/Model-X',
    otherFiles: [],
    files: [
      { path: 'model.safetensors', size: 1000, sha256: sha('a'), lfs: true, blobId: git('1') },
      { path: 'config.json', size: 10, sha256: sha('b'), lfs: false, blobId: git('2') },
      { path: 'sub/dír/ñame.txt', size: 3, sha256: sha('d'), lfs: false, blobId: git('3'), xetHash: sha('e') },
      { path: 'README.md', size: 5, sha256: sha('f'), lfs: false, blobId: git('4') },
    ],
    licenses: ['apache-2.0'],
    ...overrides,
  };
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    expect(isMlcacheError(error) ? error.code : String(error)).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('classifyFile', () => {
  it.each([
    ['model.safetensors', 'weight'],
    ['model-00001-of-00002.safetensors', 'weight'],
    ['pytorch_model.bin', 'weight'],
    ['onnx/model.onnx', 'weight'],
    ['ggml-model-q4_0.gguf', 'weight'],
    ['config.json', 'weight.config'],
    ['tokenizer.json', 'weight.config'],
    ['tokenizer.model', 'weight.config'],
    ['sentencepiece.bpe.model', 'weight.config'],
    ['vocab.txt', 'weight.config'],
    ['merges.txt', 'weight.config'],
    ['generation_config.json', 'weight.config'],
    ['README.md', 'doc'],
    ['LICENSE', 'doc'],
    ['LICENSE.txt', 'doc'],
    ['docs/guide.md', 'doc'],
    ['modeling_custom.py', 'code'],
    ['data/train.parquet', 'dataset'],
  ])('%s → %s', (file, kind) => {
    expect(classifyFile(file, { repoType: 'model', lfs: false }).kind).toBe(kind);
  });

  it('an unknown name is packed as a weight (LFS) or weight config, and flagged untested', () => {
    expect(classifyFile('blob.xyz', { repoType: 'model', lfs: true })).toEqual({ kind: 'weight', untested: true });
    expect(classifyFile('.gitattributes', { repoType: 'model', lfs: false })).toEqual({ kind: 'weight.config', untested: true });
  });

  it('a dataset repo packs data files as dataset layers, docs and code as themselves', () => {
    expect(classifyFile('data/x.json', { repoType: 'dataset', lfs: false }).kind).toBe('dataset');
    expect(classifyFile('README.md', { repoType: 'dataset', lfs: false }).kind).toBe('doc');
    expect(classifyFile('loader.py', { repoType: 'dataset', lfs: false }).kind).toBe('code');
  });
});

describe('buildModelArtifact', () => {
  it('writes a ModelPack manifest: one raw layer per file, sorted by path, with path, title and metadata', () => {
    const built = buildModelArtifact(source());
    const manifest = JSON.parse(built.manifest.bytes.toString('utf8'));
    expect(manifest.mediaType).toBe(OCI_MANIFEST);
    expect(manifest.artifactType).toBe(MODEL_ARTIFACT_TYPE);
    expect(manifest.config).toEqual({ mediaType: MODEL_CONFIG, digest: built.config.digest, size: built.config.bytes.length });
    expect(manifest.layers.map((l: { annotations: Record<string, string> }) => l.annotations[ANNOTATION.filepath])).toEqual([
      'README.md',
      'config.json',
      'model.safetensors',
      'sub/dír/ñame.txt',
    ]);
    const weights = manifest.layers[2];
    expect(weights).toMatchObject({ mediaType: 'application/vnd.cncf.model.weight.v1.raw', digest: `sha256:${sha('a')}`, size: 1000 });
    expect(weights.annotations[ANNOTATION.title]).toBe('model.safetensors');
    expect(JSON.parse(weights.annotations[ANNOTATION.fileMetadata])).toEqual({ name: 'model.safetensors', mode: 0o644, uid: 0, gid: 0, size: 1000, mtime: '1970-01-01T00:00:00Z', typeflag: 0 });
    expect(JSON.parse(weights.annotations[ANNOTATION.hubFile])).toEqual({ blob_id: git('1'), lfs: true });
    expect(manifest.annotations).toEqual({
      [ANNOTATION.source]: 'https://huggingface.co/Org/Model-X',
      [ANNOTATION.revision]: git('c'),
      [ANNOTATION.repoId]: 'Org/Model-X',
      [ANNOTATION.repoType]: 'model',
      [ANNOTATION.ref]: 'main',
      [ANNOTATION.files]: 'all',
    });
    expect(built.manifest.digest).toBe(sha256Digest(built.manifest.bytes));
  });

  it('writes a config the closed schema accepts: descriptor, config, modelfs with the layer digests in order', () => {
    const built = buildModelArtifact(source());
    const config = JSON.parse(built.config.bytes.toString('utf8'));
    expect(Object.keys(config).sort()).toEqual(['config', 'descriptor', 'modelfs']);
    expect(config.descriptor).toEqual({ name: 'Org/Model-X', revision: git('c'), sourceURL: 'https://huggingface.co/Org/Model-X', licenses: ['apache-2.0'] });
    expect(config.config).toEqual({ format: 'safetensors' });
    expect(config.modelfs).toEqual({ type: 'layers', diffIds: built.layers.map((l) => l.digest) });
  });

  it('is deterministic: the same snapshot in any order gives the same manifest digest', () => {
    const a = buildModelArtifact(source());
    const b = buildModelArtifact(source({ files: [...source().files].reverse() }));
    expect(b.manifest.digest).toBe(a.manifest.digest);
    expect(buildModelArtifact(source({ commit: git('d') })).manifest.digest).not.toBe(a.manifest.digest);
  });

  it('round-trips through the reader with every Hub fact', () => {
    const built = buildModelArtifact(source());
    const read = readArtifactManifest(built.manifest.bytes);
    expect(read).toMatchObject({ format: 'modelpack', repoId: 'Org/Model-X', repoType: 'model', ref: 'main', commit: git('c'), complete: true, archives: [] });
    expect(read.files.find((f) => f.path === 'sub/dír/ñame.txt')).toEqual({
      path: 'sub/dír/ñame.txt',
      size: 3,
      sha256: sha('d'),
      mediaType: 'application/vnd.cncf.model.doc.v1.raw',
      hub: { blobId: git('3'), lfs: false, xetHash: sha('e') },
    });
    expect(readArtifactManifest(buildModelArtifact(source({ otherFiles: undefined })).manifest.bytes).complete).toBe(false);
  });

  it('lists the commit\'s files a partial snapshot leaves out, so the puller knows the whole tree', () => {
    const other = [
      { path: 'pytorch_model.bin', size: 2000, blobId: git('5'), lfsSha256: sha('9') },
      { path: '.gitattributes', size: 1519, blobId: git('6') },
    ];
    const read = readArtifactManifest(buildModelArtifact(source({ otherFiles: other })).manifest.bytes);
    expect(read.complete).toBe(true);
    expect(read.otherFiles).toEqual([
      { path: '.gitattributes', size: 1519, blobId: git('6'), lfsSha256: undefined, xetHash: undefined },
      { path: 'pytorch_model.bin', size: 2000, blobId: git('5'), lfsSha256: sha('9'), xetHash: undefined },
    ]);
    // A row naming a file the layers carry, or a bad blob id, is refused.
    const bad = (rows: unknown) => {
      const built = JSON.parse(buildModelArtifact(source()).manifest.bytes.toString());
      built.annotations[ANNOTATION.otherFiles] = JSON.stringify(rows);
      return Buffer.from(JSON.stringify(built));
    };
    expectCode(() => readArtifactManifest(bad([['config.json', 1, git('1'), null, null]])), 'ARTIFACT_INVALID');
    expectCode(() => readArtifactManifest(bad([['x', 1, 'zz', null, null]])), 'ARTIFACT_INVALID');
    expectCode(() => readArtifactManifest(bad({})), 'ARTIFACT_INVALID');
  });
});

describe('readArtifactManifest: what other tools push', () => {
  const layer = (mediaType: string, digest: string, annotations: Record<string, string> = {}) => ({ mediaType, digest: `sha256:${digest}`, size: 7, annotations });
  const manifest = (layers: unknown[], extra: Record<string, unknown> = {}) =>
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: MODEL_CONFIG, digest: `sha256:${sha('0')}`, size: 2 }, layers, ...extra }));

  it('modctl: raw and tar layers, paths from org.cncf.model.filepath', () => {
    const read = readArtifactManifest(
      manifest([
        layer('application/vnd.cncf.model.weight.v1.raw', sha('1'), { [ANNOTATION.filepath]: 'w/model.safetensors' }),
        layer('application/vnd.cncf.model.doc.v1.tar', sha('2'), { [ANNOTATION.filepath]: 'README.md' }),
        layer('application/vnd.cncf.model.weight.config.v1.tar+zstd', sha('3'), { [ANNOTATION.filepath]: 'config.json' }),
      ], { artifactType: MODEL_ARTIFACT_TYPE }),
    );
    expect(read.format).toBe('modelpack');
    expect(read.files.map((f) => f.path)).toEqual(['w/model.safetensors']);
    expect(read.files[0]!.hub).toBeUndefined();
    expect(read.archives.map((a) => [a.compression, a.label])).toEqual([['none', 'README.md'], ['zstd', 'config.json']]);
    expect(read.complete).toBe(false);
    expect(read.modelConfigDigest).toBe(`sha256:${sha('0')}`);
  });

  it('legacy cnai media types and org.cnai.model.filepath', () => {
    const read = readArtifactManifest(
      manifest([layer('application/vnd.cnai.model.weight.v1.raw', sha('1'), { [ANNOTATION.legacyFilepath]: 'model.bin' })], {
        artifactType: 'application/vnd.cnai.model.manifest.v1+json',
        config: { mediaType: 'application/vnd.cnai.model.config.v1+json', digest: `sha256:${sha('0')}`, size: 2 },
      }),
    );
    expect(read.format).toBe('modelpack-legacy');
    expect(read.files.map((f) => f.path)).toEqual(['model.bin']);
  });

  it('plain ORAS: a title per file, and unpack folders as tar+gzip', () => {
    const read = readArtifactManifest(
      manifest(
        [
          layer('application/octet-stream', sha('1'), { [ANNOTATION.title]: 'model.onnx' }),
          layer('application/vnd.oci.image.layer.v1.tar+gzip', sha('2'), { [ANNOTATION.title]: 'tokenizer', [ANNOTATION.orasUnpack]: 'true' }),
        ],
        { config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${sha('0')}`, size: 2 } },
      ),
    );
    expect(read.format).toBe('oras');
    expect(read.files.map((f) => f.path)).toEqual(['model.onnx']);
    expect(read.archives).toEqual([expect.objectContaining({ compression: 'gzip', label: 'tokenizer' })]);
    expect(read.modelConfigDigest).toBeUndefined();
  });

  it('refuses a container image layer by naming its media type, an index, and malformed manifests', () => {
    const image = manifest([layer('application/vnd.oci.image.layer.v1.tar+gzip', sha('1'))], { config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha('0')}`, size: 2 } });
    try {
      readArtifactManifest(image);
      throw new Error('accepted');
    } catch (error) {
      expect(isMlcacheError(error) && error.code).toBe('ARTIFACT_UNSUPPORTED');
      expect((error as Error).message).toContain('application/vnd.oci.image.layer.v1.tar+gzip');
    }
    expectCode(() => readArtifactManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }))), 'ARTIFACT_UNSUPPORTED');
    expectCode(() => readArtifactManifest(Buffer.from('{')), 'ARTIFACT_INVALID');
    expectCode(() => readArtifactManifest(manifest([])), 'ARTIFACT_INVALID');
    expectCode(() => readArtifactManifest(manifest([layer('application/vnd.cncf.model.weight.v1.raw', sha('1'))])), 'ARTIFACT_INVALID');
    expectCode(() => readArtifactManifest(manifest([{ mediaType: 'application/vnd.cncf.model.weight.v1.raw', digest: 'md5:abc', size: 1, annotations: { [ANNOTATION.filepath]: 'x' } }])), 'ARTIFACT_INVALID');
    expectCode(
      () => readArtifactManifest(manifest([
        layer('application/vnd.cncf.model.weight.v1.raw', sha('1'), { [ANNOTATION.filepath]: 'x' }),
        layer('application/vnd.cncf.model.weight.v1.raw', sha('2'), { [ANNOTATION.filepath]: 'x' }),
      ])),
      'ARTIFACT_INVALID',
    );
    expectCode(() => readArtifactManifest(manifest([layer('application/vnd.cncf.model.weight.v1.raw', sha('1'), { [ANNOTATION.filepath]: 'x', [ANNOTATION.hubFile]: '{"blob_id":"nope","lfs":true}' })])), 'ARTIFACT_INVALID');
  });
});

describe('licensesFromModelCard', () => {
  it('reads a string, an inline list and a block list; nothing without front matter', () => {
    expect(licensesFromModelCard('---\nlicense: mit\n---\n# x')).toEqual(['mit']);
    expect(licensesFromModelCard('---\nlanguage: en\nlicense: [apache-2.0, "mit"]\n---')).toEqual(['apache-2.0', 'mit']);
    expect(licensesFromModelCard('---\nlicense:\n  - cc-by-4.0\n  - other\ntags: []\n---')).toEqual(['cc-by-4.0', 'other']);
    expect(licensesFromModelCard('# no front matter\nlicense: mit')).toEqual([]);
  });
});
