import { describe, expect, it } from 'vitest';
import { isMlcacheError } from '../../../src/errors.js';
import type { ArtifactContents } from '../../../src/modelpack/read-artifact.js';
import { artifactIdentity, artifactTree } from '../../../src/snapshot/from-artifact.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const contents = (over: Partial<ArtifactContents> = {}): ArtifactContents => ({
  format: 'modelpack',
  complete: false,
  otherFiles: [],
  files: [{ path: 'a.bin', size: 3, sha256: 'c'.repeat(64), mediaType: 'application/vnd.cncf.model.weight.v1.raw' }],
  archives: [],
  ...over,
});

describe('artifactIdentity', () => {
  it('flags win, then the annotations, then a ModelPack config, then the registry name and tag', () => {
    const hints = { repository: 'models/org/name', tag: 'v1', manifestDigest: DIGEST };
    expect(artifactIdentity(contents({ repoId: 'Org/Real', ref: 'main', commit: 'd'.repeat(40) }), { ...hints, repoId: 'x/override', revision: 'pinned' })).toMatchObject({
      repo: { id: 'x/override', type: 'model' },
      revision: 'pinned',
      commit: 'd'.repeat(40),
      commitFrom: 'annotation',
    });
    expect(artifactIdentity(contents(), { ...hints, config: { name: 'cfg/name', revision: 'e'.repeat(40) } })).toMatchObject({
      repo: { id: 'cfg/name' },
      revision: 'v1',
      commit: 'e'.repeat(40),
      commitFrom: 'config',
    });
    // Nothing says: the last two name parts, the tag, and a commit from the manifest digest.
    expect(artifactIdentity(contents(), hints)).toMatchObject({ repo: { id: 'org/name' }, revision: 'v1', commit: 'ab'.repeat(20), commitFrom: 'manifest-digest' });
    // A config name that is not a repo id is not used.
    expect(artifactIdentity(contents(), { ...hints, config: { name: 'not a repo id!' } }).repo.id).toBe('org/name');
  });

  it('a bad repo id in the artifact is the artifact\'s fault (ARTIFACT_INVALID, hint --repo); a bad --repo is the user\'s', () => {
    const hints = { repository: 'x/y', manifestDigest: DIGEST };
    try {
      artifactIdentity(contents({ repoId: 'a/b/c/../d' }), hints);
      throw new Error('accepted');
    } catch (error) {
      expect(isMlcacheError(error) && error.code).toBe('ARTIFACT_INVALID');
      expect(isMlcacheError(error) && error.hint).toMatch(/--repo/);
    }
    try {
      artifactIdentity(contents(), { ...hints, repoId: 'bad//id' });
      throw new Error('accepted');
    } catch (error) {
      expect(isMlcacheError(error) && error.code).toBe('INVALID_REPO_ID');
    }
  });

  it('refuses a hostile ref before any byte is fetched', () => {
    for (const ref of ['../../etc', '/abs', 'a/../../b']) {
      try {
        artifactIdentity(contents({ ref }), { repository: 'x/y', manifestDigest: DIGEST });
        throw new Error(`accepted ${ref}`);
      } catch (error) {
        expect(isMlcacheError(error) && error.code).toBe('UNSAFE_PATH');
      }
    }
  });
});

describe('artifactTree', () => {
  it('names blobs as download would: git sha1 for regular files, sha256 for LFS and foreign files', () => {
    const tree = artifactTree(
      contents({
        complete: true,
        files: [
          { path: 'config.json', size: 2, sha256: '1'.repeat(64), mediaType: 'm', hub: { blobId: '2'.repeat(40), lfs: false } },
          { path: 'w.safetensors', size: 9, sha256: '3'.repeat(64), mediaType: 'm', hub: { blobId: '4'.repeat(40), lfs: true } },
        ],
        otherFiles: [{ path: 'skipped.bin', size: 5, blobId: '5'.repeat(40), lfsSha256: '6'.repeat(64) }],
      }),
    );
    expect(tree.treeSource).toBe('artifact');
    expect(tree.carried).toEqual(['config.json', 'w.safetensors']);
    expect(tree.tree).toEqual([
      { path: 'config.json', size: 2, oid: '2'.repeat(40), xetHash: undefined },
      { path: 'w.safetensors', size: 9, oid: '4'.repeat(40), lfs: { oid: '3'.repeat(64), size: 9 }, xetHash: undefined },
      { path: 'skipped.bin', size: 5, oid: '5'.repeat(40), lfs: { oid: '6'.repeat(64), size: 5 }, xetHash: undefined },
    ]);
    expect(tree.layerOf.get('2'.repeat(40))).toBe('1'.repeat(64));
    expect(tree.layerOf.get('3'.repeat(64))).toBe('3'.repeat(64));
    expect(artifactTree(contents()).treeSource).toBe('subset');
  });
});
