import { describe, expect, it } from 'vitest';
import { findJsonErrorPosition, lineColumn } from '../../../src/util/json-error-position.js';

describe('findJsonErrorPosition', () => {
  it.each([
    ['{"a": 1}', undefined],
    ['[1, 2, {"b": [true, false, null, -1.5e3, "x\\u00e9"]}]', undefined],
    ['{"a": 1,}', { line: 1, column: 9 }],
    ['{"a" 1}', { line: 1, column: 6 }],
    ['{"a": 1', { line: 1, column: 8 }],
    ['', { line: 1, column: 1 }],
    ['{}\n x', { line: 2, column: 2 }],
    ['{"a": "b\nc"}', { line: 1, column: 9 }],
    ['{"a": 01}', { line: 1, column: 8 }],
  ])('%j', (text, expected) => {
    const position = findJsonErrorPosition(text);
    if (expected === undefined) expect(position).toBeUndefined();
    else expect(position).toMatchObject(expected);
  });

  // The offsets config/hardware_cache.json errors are reported at (Node 20's messages carry none).
  it.each([
    ['{"a": }', 6],
    ['{"a": 1,}', 8],
    ['[1, 2', 5],
    ['{"a": tru}', 9],
    ['{"a": "x\\q"}', 9],
    ['{"a": 1} x', 9],
    ['{"a": -01}', 8],
  ])('%s fails at offset %i', (text, offset) => {
    expect(findJsonErrorPosition(text)?.offset).toBe(offset);
  });
});

describe('lineColumn', () => {
  it('counts lines by \\n only and columns from 1', () => {
    expect(lineColumn('ab\ncd\r\nef', 0)).toEqual({ offset: 0, line: 1, column: 1 });
    expect(lineColumn('ab\ncd\r\nef', 4)).toEqual({ offset: 4, line: 2, column: 2 });
    expect(lineColumn('ab\ncd\r\nef', 8)).toEqual({ offset: 8, line: 3, column: 2 });
  });
});
