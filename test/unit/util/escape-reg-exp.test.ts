import { describe, expect, it } from 'vitest';
import { escapeRegExp } from '../../../src/util/escape-reg-exp.js';

describe('escapeRegExp', () => {
  const specials = '.*+?^${}()|[]\\/';

  it('makes every special character match itself, with and without the u flag', () => {
    for (const flags of ['', 'u']) {
      const re = new RegExp(`^${escapeRegExp(specials)}$`, flags);
      expect(re.test(specials)).toBe(true);
      expect(re.test('x'.repeat(specials.length))).toBe(false);
    }
  });

  it('escapes each special once and leaves other text alone', () => {
    expect(escapeRegExp('a.b')).toBe('a\\.b');
    expect(escapeRegExp('org/model-v1_2')).toBe('org\\/model-v1_2');
    expect(escapeRegExp('plain text-123')).toBe('plain text-123');
  });

  it('a path prefix with dots matches only literally (the synthetic fixture case)', () => {
    const re = new RegExp(`^${escapeRegExp('data.v1')}/(\\d+)$`);
    expect(re.test('data.v1/7')).toBe(true);
    expect(re.test('dataXv1/7')).toBe(false);
  });
});
