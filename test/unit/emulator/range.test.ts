import { describe, expect, it } from 'vitest';
import { parseRange, type ParsedRange } from '../../../src/emulator/range.js';

describe('parseRange', () => {
  const table: Array<[string | undefined, number, ParsedRange]> = [
    [undefined, 100, { kind: 'none' }],
    ['bytes=0-0', 100, { kind: 'range', start: 0, end: 0 }],
    ['bytes=10-19', 100, { kind: 'range', start: 10, end: 19 }],
    ['bytes=90-', 100, { kind: 'range', start: 90, end: 99 }],
    ['bytes=90-1000', 100, { kind: 'range', start: 90, end: 99 }],
    ['bytes=-10', 100, { kind: 'range', start: 90, end: 99 }],
    ['bytes=-1000', 100, { kind: 'range', start: 0, end: 99 }],
    ['bytes=100-', 100, { kind: 'unsatisfiable' }],
    ['bytes=-0', 100, { kind: 'unsatisfiable' }],
    ['bytes=0-0', 0, { kind: 'unsatisfiable' }],
    ['bytes=5-2', 100, { kind: 'none' }],
    ['items=0-5', 100, { kind: 'none' }],
    ['bytes=abc', 100, { kind: 'none' }],
    ['bytes=-', 100, { kind: 'none' }],
    ['bytes=0-4, 10-14', 100, { kind: 'range', start: 0, end: 4 }],
    [' Bytes = 3 - 5 ', 100, { kind: 'range', start: 3, end: 5 }],
  ];
  it.each(table)('%s of %i bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
});
