import { describe, expect, it } from 'vitest';
import { firstHeaderValue, headerGetter, headerValues, joinedHeaderValue } from '../../../src/util/http-headers.js';

describe('http-headers: first value vs joined values', () => {
  const undiciStyle = { link: ['<a>; rel="prev"', '<b>; rel="next"'], location: ['/one', '/two'], 'content-length': '12', 'X-Mixed-Case': 'v', empty: [] as string[] };

  it('joinedHeaderValue joins a repeated header with ", " (RFC 9110 §5.3); firstHeaderValue keeps the first', () => {
    expect(joinedHeaderValue(undiciStyle, 'link')).toBe('<a>; rel="prev", <b>; rel="next"');
    expect(firstHeaderValue(undiciStyle, 'location')).toBe('/one');
    expect(joinedHeaderValue(undiciStyle, 'location')).toBe('/one, /two');
    expect(headerValues(undiciStyle, 'location')).toEqual(['/one', '/two']);
  });

  it('both agree on a single value, read names case-insensitively, and say undefined when absent', () => {
    for (const read of [firstHeaderValue, joinedHeaderValue]) {
      expect(read(undiciStyle, 'Content-Length')).toBe('12');
      expect(read(undiciStyle, 'x-mixed-case')).toBe('v');
      expect(read(undiciStyle, 'etag')).toBeUndefined();
      expect(read(undiciStyle, 'empty')).toBeUndefined();
      expect(read(undefined, 'etag')).toBeUndefined();
    }
    expect(headerValues(undiciStyle, 'etag')).toEqual([]);
  });

  it('numbers (as node:http gives content-length) come back as strings', () => {
    expect(firstHeaderValue({ 'content-length': 42 }, 'content-length')).toBe('42');
  });

  it('on a WHATWG Headers (already combined) both return the combined value', () => {
    const headers = new Headers([
      ['Link', '<a>'],
      ['Link', '<b>'],
    ]);
    expect(joinedHeaderValue(headers, 'link')).toBe('<a>, <b>');
    expect(firstHeaderValue(headers, 'LINK')).toBe('<a>, <b>');
    expect(firstHeaderValue(headers, 'etag')).toBeUndefined();
  });

  it('headerGetter reads joined values through get()', () => {
    expect(headerGetter({ 'retry-after': ['5', '7'] }).get('Retry-After')).toBe('5, 7');
    expect(headerGetter(undefined).get('retry-after')).toBeUndefined();
  });
});
