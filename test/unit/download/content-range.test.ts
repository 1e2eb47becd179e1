import { describe, expect, it } from 'vitest';
import { checkRangeResponse, parseContentRange } from '../../../src/download/content-range.js';

describe('parseContentRange', () => {
  it.each([
    ['bytes 0-9/100', { start: 0, end: 9, total: 100 }],
    ['bytes 90-99/100', { start: 90, end: 99, total: 100 }],
    ['BYTES 5-5/*', { start: 5, end: 5, total: undefined }],
    ['bytes 10-9/100', undefined],
    ['bytes 0-100/100', undefined],
    ['bytes */100', undefined],
    ['items 0-9/100', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%s', (value, want) => {
    expect(parseContentRange(value)).toEqual(want);
  });
});

describe('checkRangeResponse', () => {
  const facts = { start: 100, end: 200, size: 1000, acceptWhole: false };
  it.each([
    { name: 'exact 206', status: 206, cr: 'bytes 100-199/1000', cl: '100', ok: true },
    { name: '206 without Content-Length', status: 206, cr: 'bytes 100-199/1000', cl: undefined, ok: true },
    { name: 'shifted start', status: 206, cr: 'bytes 101-200/1000', cl: '100', ok: false, reason: /does not match/ },
    { name: 'shorter range than asked', status: 206, cr: 'bytes 100-149/1000', cl: '50', ok: false, reason: /does not match/ },
    { name: 'wrong total', status: 206, cr: 'bytes 100-199/999', cl: '100', ok: false, reason: /total 999/ },
    { name: 'unknown total', status: 206, cr: 'bytes 100-199/*', cl: '100', ok: false, reason: /total \*/ },
    { name: 'Content-Length disagrees', status: 206, cr: 'bytes 100-199/1000', cl: '99', ok: false, reason: /Content-Length/ },
    { name: 'missing Content-Range', status: 206, cr: undefined, cl: '100', ok: false, reason: /without a valid Content-Range/ },
    { name: '200 to a range of a chunked file', status: 200, cr: undefined, cl: '1000', ok: false, reason: /ignored the Range/ },
  ])('$name', ({ status, cr, cl, ok, reason }) => {
    const check = checkRangeResponse(facts, status, { contentRange: cr, contentLength: cl });
    expect(check.ok).toBe(ok);
    if (check.ok) expect(check).toMatchObject({ writeAt: 100, length: 100, whole: false });
    else expect(check.reason).toMatch(reason!);
  });

  it('accepts a 200 for a whole-file request only with the full length, written from 0', () => {
    const whole = { start: 400, end: 1000, size: 1000, acceptWhole: true };
    expect(checkRangeResponse(whole, 200, { contentLength: '1000' })).toEqual({ ok: true, writeAt: 0, length: 1000, whole: true });
    expect(checkRangeResponse(whole, 200, { contentLength: '600' }).ok).toBe(false);
  });
});
