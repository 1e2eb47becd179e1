import { describe, expect, it } from 'vitest';
import { redactSecrets, secretSpellings } from '../../../src/util/redact.js';

describe('redactSecrets', () => {
  it.each([
    ['HTTPS_PROXY=http://user:s3cret@127.0.0.1:8080', 'HTTPS_PROXY=http://user:***@127.0.0.1:8080'],
    ['socks5://a:b%40c@host/', 'socks5://a:***@host/'],
    ['"Authorization":"Basic dXNlcjpwYXNz"', '"Authorization":"Basic ***"'],
    ['proxy-authorization: Basic dXNlcjpwYXNz', 'proxy-authorization: Basic ***'],
    ['authorization: Bearer eyJhbGciOi.x.y', 'authorization: Bearer ***'],
    ['https://cdn/x?X-Amz-Credential=AKIA%2F&Expires=1&Signature=abc', 'https://cdn/x?X-Amz-Credential=***&Expires=1&Signature=***'],
    ['token hf_abcdefghijklmnopqrstu.', 'token hf_***.'],
  ])('masks %j', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  it.each([
    // The placeholders of our own hints, and OCI references, stay readable.
    'Put the proxy credentials in HTTPS_PROXY=http://user:password@host:port',
    'oci://registry.internal:5000/models/name:v1@sha256:0123',
    'oci://ghcr.io/acme/models/bert:v1',
    '\u001b[2K\u001b[1G50% files 3/10',
  ])('leaves %j as it is', (text) => {
    expect(redactSecrets(text)).toBe(text);
  });

  it('masks the secrets it is given, every occurrence', () => {
    expect(redactSecrets('a pass-word-1 b pass-word-1', ['pass-word-1'])).toBe('a *** b ***');
  });

  it('spells a secret as printed raw, inside JSON and in a URL; nothing for too short a value', () => {
    expect(secretSpellings('a"b c')).toEqual(['a"b c', 'a\\"b c', 'a%22b%20c']);
    expect(secretSpellings('abc')).toEqual([]);
    expect(secretSpellings(undefined)).toEqual([]);
  });
});
