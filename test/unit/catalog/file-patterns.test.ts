import { describe, expect, it } from 'vitest';
import { checkPattern, createFileFilter, filterPaths, patternToRegExp } from '../../../src/catalog/file-patterns.js';
import { MlcacheError } from '../../../src/errors.js';

describe('patternToRegExp (fnmatch.fnmatchcase semantics)', () => {
  it.each([
    ['*.json', 'config.json', true],
    ['*.json', 'sub/dir/config.json', true], // '*' crosses '/'
    ['data/*.json', 'data/sub/x.json', true],
    ['*.JSON', 'config.json', false], // case-sensitive everywhere
    ['model.bin', 'model.bin', true],
    ['model.bin', 'xmodel.bin', false],
    ['model?bin', 'model.bin', true],
    ['vocabulary.*', 'vocabulary.json', true],
    ['vocabulary.*', 'vocabulary.txt', true],
    ['pytorch_model-*-of-*.bin', 'pytorch_model-00001-of-00003.bin', true],
    ['pytorch_model-*-of-*.bin', 'pytorch_model.bin', false],
    ['tokenizer*.json', 'tokenizer_config.json', true],
    ['[abc].txt', 'b.txt', true],
    ['[!abc].txt', 'b.txt', false],
    ['[!abc].txt', 'd.txt', true],
    ['[a-c].txt', 'b.txt', true],
    ['onnx/', 'onnx/model.onnx', true], // trailing '/' = everything below
    ['onnx/', 'onnx', false],
    ['a\\b.txt', 'a/b.txt', true], // '\' normalized to '/'
    ['**/*.md', 'docs/x.md', true],
    ['(x)+.txt', '(x)+.txt', true], // regex metacharacters are literal
  ])('%s vs %s → %s', (pattern, path, expected) => {
    expect(patternToRegExp(pattern).test(path)).toBe(expected);
  });
});

describe('createFileFilter', () => {
  const paths = ['config.json', 'model.bin', 'model.safetensors', 'onnx/model.onnx', 'README.md', 'tokenizer.json'];

  it('keeps everything without patterns', () => {
    expect(filterPaths(paths)).toEqual(paths);
  });

  it('keeps paths matching any include', () => {
    expect(filterPaths(paths, ['*.json', 'model.bin'])).toEqual(['config.json', 'model.bin', 'tokenizer.json']);
  });

  it('exclude wins over include', () => {
    expect(filterPaths(paths, ['*.json', 'model.*'], ['model.safetensors', 'tokenizer*'])).toEqual(['config.json', 'model.bin']);
  });

  it('exclude alone removes from everything', () => {
    expect(filterPaths(paths, undefined, ['onnx/'])).toEqual(paths.filter((p) => !p.startsWith('onnx/')));
  });

  it('an empty include list means no restriction', () => {
    expect(filterPaths(paths, [])).toEqual(paths);
  });

  it('refuses a bad pattern with INVALID_PATTERN', () => {
    let caught: unknown;
    try {
      createFileFilter(['model[.bin'], undefined);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MlcacheError);
    expect((caught as MlcacheError).code).toBe('INVALID_PATTERN');
    expect((caught as MlcacheError).message).toContain("'model[.bin'");
  });
});

describe('checkPattern', () => {
  it.each([
    ['*.json', undefined],
    ['[]].txt', undefined],
    ['', 'empty'],
    ['   ', 'empty'],
    ['/abs/*.bin', 'leading'],
    ['../x', '..'],
    ['model[.bin', 'unclosed'],
  ])('%j', (pattern, fragment) => {
    const problem = checkPattern(pattern);
    if (fragment === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(fragment);
  });
});
