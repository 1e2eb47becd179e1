import { describe, expect, it } from 'vitest';
import { createPathFilter, fnmatchToRegExp } from '../../../src/util/fnmatch.js';

/**
 * Expected values come from CPython 3.11's fnmatch.fnmatchcase (run once and recorded here), the
 * function huggingface_hub's filter_repo_objects uses.
 */
const FNMATCH_TABLE: Array<[pattern: string, path: string, expected: boolean]> = [
  ['data/*.json', 'data/sub/x.json', true],
  ['*.json', 'a/b.json', true],
  ['*.JSON', 'a.json', false],
  ['dir/*', 'dir/a/b', true],
  ['[ab].txt', 'a.txt', true],
  ['[!ab].txt', 'c.txt', true],
  ['[!ab].txt', 'a.txt', false],
  ['?.txt', 'ab.txt', false],
  ['a?b', 'a/b', true],
  ['*.{a,b}', 'x.a', false],
  ['*.{a,b}', 'x.{a,b}', true],
  ['.*', '.gitattributes', true],
  ['*', '.hidden/x', true],
  ['a[*]b', 'a*b', true],
  ['**/*.py', 'x.py', false],
  ['**/*.py', 'd/x.py', true],
  ['+(a|b)', 'a', false],
  ['!(a)', 'b', false],
  ['[a-c]x', 'bx', true],
  ['[a-c]x', 'dx', false],
  ['[]]x', ']x', true],
  ['[x', '[x', true],
  ['model-0000?-of-00003.bin', 'model-00002-of-00003.bin', true],
  ['vocabulary.*', 'vocabulary.json', true],
  ['(a)', '(a)', true],
  ['a.b', 'axb', false],
  ['^x$', '^x$', true],
];

describe('fnmatch translation', () => {
  it.each(FNMATCH_TABLE)('%s vs %s → %s', (pattern, path, expected) => {
    expect(fnmatchToRegExp(pattern).test(path)).toBe(expected);
  });
});

describe('createPathFilter', () => {
  const files = ['config.json', 'model.safetensors', 'onnx/model.onnx', 'onnx/sub/x.onnx', 'README.md', 'tf_model.h5'];

  it('keeps everything with no patterns', () => {
    expect(files.filter(createPathFilter())).toEqual(files);
  });

  it('a trailing slash means everything below', () => {
    expect(files.filter(createPathFilter(['onnx/']))).toEqual(['onnx/model.onnx', 'onnx/sub/x.onnx']);
  });

  it('exclude wins over include', () => {
    expect(files.filter(createPathFilter(['*.json', '*.safetensors'], ['model*']))).toEqual(['config.json']);
  });

  it('is case-sensitive', () => {
    expect(files.filter(createPathFilter(['readme.md']))).toEqual([]);
  });

  it('normalizes backslashes in patterns', () => {
    expect(files.filter(createPathFilter(['onnx\\*']))).toEqual(['onnx/model.onnx', 'onnx/sub/x.onnx']);
  });

  it('refuses an empty pattern', () => {
    expect(() => createPathFilter([''])).toThrow(/empty pattern/);
  });
});
