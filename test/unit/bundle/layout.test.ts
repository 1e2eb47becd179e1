import { describe, expect, it } from 'vitest';
import {
  buildIndex,
  classifyEntry,
  isValidRefName,
  parseIndex,
  snapshotRefName,
  splitRefName,
  verifyOciLayout,
} from '../../../src/bundle/layout.js';
import { MlcacheError } from '../../../src/errors.js';

const HEX = 'ab'.repeat(32);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof MlcacheError ? error.code : 'not-typed';
  }
  return undefined;
}

describe('classifyEntry', () => {
  it.each([
    ['oci-layout', { kind: 'oci-layout' }],
    ['./oci-layout', { kind: 'oci-layout' }],
    ['index.json', { kind: 'index' }],
    ['blobs/', { kind: 'ignored' }],
    ['blobs/sha256/', { kind: 'ignored' }],
    [`blobs/sha256/${HEX}`, { kind: 'blob', hex: HEX }],
    [`./blobs/sha256/${HEX}`, { kind: 'blob', hex: HEX }],
    [`blobs/sha512/${'cd'.repeat(64)}`, { kind: 'ignored' }],
    ['README', { kind: 'ignored' }],
  ])('%s → %o', (name, expected) => {
    expect(classifyEntry(name)).toEqual(expected);
  });

  it.each([['../x'], ['blobs/../../x'], ['/etc/passwd'], ['blobs\\sha256\\x'], ['a/\u0007b'], [`blobs/sha256/${HEX.toUpperCase()}`], ['blobs/sha256/abc'], [`blobs/sha256/${HEX}/x`]])(
    '%s is refused as UNSAFE_PATH',
    (name) => {
      expect(codeOf(() => classifyEntry(name))).toBe('UNSAFE_PATH');
    },
  );
});

describe('oci-layout and index.json', () => {
  it('accepts layout version 1.x only', () => {
    expect(codeOf(() => verifyOciLayout(Buffer.from('{"imageLayoutVersion":"1.0.0"}')))).toBeUndefined();
    expect(codeOf(() => verifyOciLayout(Buffer.from('{"imageLayoutVersion":"1.1.0"}')))).toBeUndefined();
    expect(codeOf(() => verifyOciLayout(Buffer.from('{"imageLayoutVersion":"2.0.0"}')))).toBe('BUNDLE_INVALID');
    expect(codeOf(() => verifyOciLayout(Buffer.from('{}')))).toBe('BUNDLE_INVALID');
    expect(codeOf(() => verifyOciLayout(Buffer.from('nope')))).toBe('BUNDLE_INVALID');
  });

  it('buildIndex and parseIndex round-trip, ref names in the OCI annotation', () => {
    const bytes = buildIndex([
      { digest: `sha256:${HEX}`, size: 123, refName: 'acme/tiny:main', annotations: { 'io.mlcache.hf.repo-id': 'acme/tiny' } },
      { digest: `sha256:${'cd'.repeat(32)}`, size: 7, refName: 'datasets/acme/data:v1' },
    ]);
    const json = JSON.parse(bytes.toString('utf8'));
    expect(json.schemaVersion).toBe(2);
    expect(json.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(json.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe('acme/tiny:main');
    expect(parseIndex(bytes)).toEqual([
      { hex: HEX, size: 123, mediaType: 'application/vnd.oci.image.manifest.v1+json', refName: 'acme/tiny:main' },
      { hex: 'cd'.repeat(32), size: 7, mediaType: 'application/vnd.oci.image.manifest.v1+json', refName: 'datasets/acme/data:v1' },
    ]);
  });

  it.each([
    ['not json', 'x'],
    ['no manifests', '{"schemaVersion":2}'],
    ['empty', '{"schemaVersion":2,"manifests":[]}'],
    ['sha512', `{"schemaVersion":2,"manifests":[{"mediaType":"m","digest":"sha512:${'a'.repeat(128)}","size":1}]}`],
    ['negative size', `{"schemaVersion":2,"manifests":[{"mediaType":"m","digest":"sha256:${HEX}","size":-1}]}`],
    ['a 5 MiB manifest', `{"schemaVersion":2,"manifests":[{"mediaType":"m","digest":"sha256:${HEX}","size":${5 * 1024 * 1024}}]}`],
  ])('parseIndex refuses %s (BUNDLE_INVALID)', (_what, text) => {
    expect(codeOf(() => parseIndex(Buffer.from(text)))).toBe('BUNDLE_INVALID');
  });
});

describe('ref names', () => {
  it('follow the image-spec ref.name grammar', () => {
    for (const ok of ['main', 'acme/tiny:main', 'datasets/acme/x:refs/pr/1', 'a--b', 'Org/Name_1.0:v1.2+x']) expect(isValidRefName(ok), ok).toBe(true);
    for (const bad of ['', 'a..b', '-a', 'a/', 'a b', 'a:ü', 'a__']) expect(isValidRefName(bad), bad).toBe(false);
  });

  it('snapshotRefName: <repo>:<revision>, prefixed for datasets, the commit when the revision does not fit', () => {
    const commit = 'c'.repeat(40);
    expect(snapshotRefName({ id: 'acme/tiny', type: 'model' }, 'main', commit)).toBe('acme/tiny:main');
    expect(snapshotRefName({ id: 'acme/data', type: 'dataset' }, 'refs/pr/3', commit)).toBe('datasets/acme/data:refs/pr/3');
    expect(snapshotRefName({ id: 'acme/tiny', type: 'model' }, 'väri', commit)).toBe(`acme/tiny:${commit}`);
  });

  it('splitRefName gives the repository and tag artifactIdentity reads', () => {
    expect(splitRefName('acme/tiny:main')).toEqual({ repository: 'acme/tiny', tag: 'main' });
    expect(splitRefName('datasets/acme/data:refs/pr/3')).toEqual({ repository: 'acme/data', tag: 'refs/pr/3' });
    expect(splitRefName('latest')).toEqual({ repository: '', tag: 'latest' });
    expect(splitRefName(undefined)).toEqual({ repository: '' });
  });
});
