import { describe, expect, it } from 'vitest';
import { MlcacheError } from '../../../src/errors.js';
import { isCommitHash, parseRepoId, parseRepoSpec, repoWebUrl } from '../../../src/hub/index.js';

// Expectations derived from huggingface_hub utils/_validators.py::validate_repo_id (run in python3).
const VALID: string[] = ['gpt2', 'openai-community/gpt2', 'a', '_x', 'x_', 'org/a.b-c_d', 'Org_1/Name.V2', 'x/y.git.txt', `org/${'a'.repeat(96)}`];
const INVALID: string[] = [
  '-x', 'x-', '.x', 'x.', 'org/-x', 'org-/x', 'a--b', 'a..b', 'a/b/c', '/x', 'x/', '', '   ', 'a b', 'a@b', 'x.git',
  `org/${'a'.repeat(97)}`, 'b'.repeat(97),
  // Deviation: Python's \w is Unicode-aware; the Hub only accepts ASCII names, so mlcache refuses these.
  'ünï/x',
];

describe('parseRepoId', () => {
  it.each(VALID)('accepts %s', (id) => {
    expect(parseRepoId(id)).toEqual({ id, type: 'model' });
  });

  it.each(INVALID)('rejects %j with INVALID_REPO_ID and a hint', (id) => {
    let caught: unknown;
    try {
      parseRepoId(id);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MlcacheError);
    expect((caught as MlcacheError).code).toBe('INVALID_REPO_ID');
    expect((caught as MlcacheError).hint).toMatch(/namespace\/name/);
  });

  it('keeps the repo type and trims surrounding whitespace', () => {
    expect(parseRepoId('  org/data ', 'dataset')).toEqual({ id: 'org/data', type: 'dataset' });
  });

  it('names the reason in the message', () => {
    expect(() => parseRepoId('a/b/c')).toThrow(/more than one '\/'/);
    expect(() => parseRepoId('a--b')).toThrow(/'--'/);
  });
});

describe('parseRepoSpec', () => {
  it.each([
    ['org/name', { repo: { id: 'org/name', type: 'model' } }],
    ['org/name@main', { repo: { id: 'org/name', type: 'model' }, revision: 'main' }],
    ['org/name@refs/pr/1', { repo: { id: 'org/name', type: 'model' }, revision: 'refs/pr/1' }],
    ['gpt2@v1.0', { repo: { id: 'gpt2', type: 'model' }, revision: 'v1.0' }],
    [`gpt2@${'a'.repeat(40)}`, { repo: { id: 'gpt2', type: 'model' }, revision: 'a'.repeat(40) }],
  ])('%s', (spec, expected) => {
    expect(parseRepoSpec(spec)).toEqual(expected);
  });

  it.each(['org/name@', 'org/name@a b', '@main', 'bad--id@main'])('rejects %j', (spec) => {
    expect(() => parseRepoSpec(spec)).toThrow(expect.objectContaining({ code: 'INVALID_REPO_ID' }));
  });
});

describe('isCommitHash', () => {
  it.each([
    ['e7da7f221d5bf496a48136c0cd264e630fe9fcc8', true],
    ['E7DA7F221D5BF496A48136C0CD264E630FE9FCC8', false],
    ['e7da7f2', false],
    ['e7da7f221d5bf496a48136c0cd264e630fe9fcc80', false],
    ['g7da7f221d5bf496a48136c0cd264e630fe9fcc8', false],
    ['main', false],
  ])('%s → %s', (value, expected) => {
    expect(isCommitHash(value)).toBe(expected);
  });
});

describe('repoWebUrl', () => {
  it.each([
    [{ id: 'org/m', type: 'model' as const }, 'https://hf.co/org/m'],
    [{ id: 'org/d', type: 'dataset' as const }, 'https://hf.co/datasets/org/d'],
    [{ id: 'org/s', type: 'space' as const }, 'https://hf.co/spaces/org/s'],
  ])('%j', (repo, expected) => {
    expect(repoWebUrl('https://hf.co/', repo)).toBe(expected);
  });
});
