import { describe, expect, it } from 'vitest';
import { snapshotFilePath, validateRepoFilePath, validateRevisionName } from '../../../src/cache/index.js';
import { MlcacheError } from '../../../src/errors.js';
import { UNSAFE_PATHS } from './unsafe-paths.js';

const COMMIT = '11c5a3d5811f50298f278a704980280950aedb10';
const repo = { id: 'org/name', type: 'model' as const };


describe('validateRepoFilePath', () => {
  it.each(UNSAFE_PATHS)('refuses %j with a clear reason and a hint', (p, reason) => {
    let caught: unknown;
    try {
      validateRepoFilePath(p);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MlcacheError);
    const error = caught as MlcacheError;
    expect(error.code).toBe('UNSAFE_PATH');
    expect(error.message).toMatch(reason);
    expect(error.message).toContain(JSON.stringify(p));
    expect(error.hint).toMatch(/rename|exclude/);
    expect(() => validateRevisionName(p)).toThrow(expect.objectContaining({ code: 'UNSAFE_PATH' }));
    expect(() => snapshotFilePath('/c', repo, COMMIT, p)).toThrow(expect.objectContaining({ code: 'UNSAFE_PATH' }));
  });

  it.each([
    ['config.json', ['config.json']],
    ['a/b/c.bin', ['a', 'b', 'c.bin']],
    ['..foo/bar..', ['..foo', 'bar..']],
    ['.gitattributes', ['.gitattributes']],
    ['dir with space/ünïcode 文件.txt', ['dir with space', 'ünïcode 文件.txt']],
    ['weird:name', ['weird:name']],
    ['1:x', ['1:x']],
    [`${'n'.repeat(251)}.bin`, [`${'n'.repeat(251)}.bin`]],
  ])('accepts %j', (p, segments) => {
    expect(validateRepoFilePath(p)).toEqual(segments);
  });

  it('accepts nested revisions like refs/pr/1', () => {
    expect(validateRevisionName('refs/pr/1')).toEqual(['refs', 'pr', '1']);
    expect(validateRevisionName('v1.0')).toEqual(['v1.0']);
  });
});
