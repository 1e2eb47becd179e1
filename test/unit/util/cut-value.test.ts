import { describe, expect, it } from 'vitest';
import { cutValue, ECHO_MAX_CHARS } from '../../../src/util/cut-value.js';

describe('cutValue', () => {
  it('keeps short values whole and cuts long ones to the limit with an ellipsis', () => {
    expect(cutValue('openai/whisper-tiny')).toBe('openai/whisper-tiny');
    expect(cutValue('x'.repeat(ECHO_MAX_CHARS))).toBe('x'.repeat(ECHO_MAX_CHARS));
    const cut = cutValue('y'.repeat(300));
    expect(cut).toBe(`${'y'.repeat(ECHO_MAX_CHARS - 1)}…`);
    expect(Array.from(cut)).toHaveLength(ECHO_MAX_CHARS);
    expect(cutValue('abcdef', 4)).toBe('abc…');
  });

  it('never splits a surrogate pair', () => {
    const cut = cutValue('😀'.repeat(100), 10);
    expect(cut).toBe(`${'😀'.repeat(9)}…`);
    expect(() => encodeURIComponent(cut)).not.toThrow(); // throws on a lone surrogate
  });
});
