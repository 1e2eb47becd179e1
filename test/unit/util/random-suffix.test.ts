import { describe, expect, it } from 'vitest';
import { randomHex8 } from '../../../src/util/random-suffix.js';

describe('randomHex8', () => {
  it('is 8 lower-case hex characters and differs between calls', () => {
    const values = Array.from({ length: 200 }, randomHex8);
    for (const v of values) expect(v).toMatch(/^[0-9a-f]{8}$/);
    expect(new Set(values).size).toBe(200);
  });
});
