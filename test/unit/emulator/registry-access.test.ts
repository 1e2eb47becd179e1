import { describe, expect, it } from 'vitest';
import { repositoryMatches } from '../../../src/emulator/registry/create-registry-emulator.js';

describe('registry emulator repository patterns', () => {
  it.each([
    ['*', 'a/b', true],
    ['models/*', 'models/x', true],
    ['models/*', 'models/x/y', true],
    ['models/*', 'modelsx/y', false],
    ['models/*', 'models', false],
    ['models/x', 'models/x', true],
    ['models/x', 'models/xy', false],
  ])('%s matches %s: %s', (pattern, repository, expected) => {
    expect(repositoryMatches(pattern, repository)).toBe(expected);
  });
});
