import { describe, expect, it } from 'vitest';
import { isNoProxy, nextPageUrl, normalizeEtag, parseLinkHeader, proxyForUrl, createDispatcher, signedUrlExpiry } from '../../../src/hub/index.js';

describe('normalizeEtag (file_download.py::_normalize_etag)', () => {
  it.each([
    ['"a16a55fda99d2f2e7b69cce5cf93ff4ad3049930"', 'a16a55fda99d2f2e7b69cce5cf93ff4ad3049930'],
    ['W/"7c5d3f4b8b76583b422fcb9189ad6c89d5d97a094541ce8932dce3ecabde1f21"', '7c5d3f4b8b76583b422fcb9189ad6c89d5d97a094541ce8932dce3ecabde1f21'],
    ['abc', 'abc'],
    ['"abc', 'abc'],
    // lstrip("W/") strips any run of W and / characters, not the literal prefix.
    ['WW//"abc"', 'abc'],
    ['', undefined],
    [undefined, undefined],
    [null, undefined],
  ])('%j → %j', (input, expected) => {
    expect(normalizeEtag(input)).toBe(expected);
  });
});

describe('parseLinkHeader / nextPageUrl', () => {
  const base = 'https://huggingface.co/api/models/org/m/tree/main?recursive=true&expand=false';
  it.each([
    ['<https://huggingface.co/api/datasets/bigscience/P3/tree/main?recursive=1&cursor=abc>; rel="next"', 'https://huggingface.co/api/datasets/bigscience/P3/tree/main?recursive=1&cursor=abc'],
    ['<https://h.co/p?cursor=a,b;c>; rel="next"', 'https://h.co/p?cursor=a,b;c'],
    ['<https://h.co/prev>; rel="prev", <https://h.co/next>; rel="next"', 'https://h.co/next'],
    ['<https://h.co/n>;rel=next', 'https://h.co/n'],
    ['<https://h.co/n>; title="x"; rel="next last"', 'https://h.co/n'],
    ['</api/models/org/m/tree/main?cursor=2>; rel="next"', 'https://huggingface.co/api/models/org/m/tree/main?cursor=2'],
    ['<https://h.co/prev>; rel="prev"', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j', (header, expected) => {
    expect(nextPageUrl(header, base)).toBe(expected);
  });

  it('keeps the first target per rel', () => {
    const links = parseLinkHeader('<a>; rel="next", <b>; rel="next", <c>; rel="xet-auth"');
    expect(links.get('next')).toBe('a');
    expect(links.get('xet-auth')).toBe('c');
  });
});

describe('signedUrlExpiry', () => {
  it.each([
    ['https://cdn/x?X-Amz-Algorithm=AWS4&X-Amz-Date=20240102T030405Z&X-Amz-Expires=3600&X-Amz-Signature=s', 1704168245000],
    ['https://cdn/x?Expires=1704164645&Policy=p&Signature=s&Key-Pair-Id=k', 1704164645000],
    // Both present (the Xet bridge): the earlier one wins.
    ['https://cdn/x?X-Amz-Date=20240102T030405Z&X-Amz-Expires=3600&Expires=1704164645', 1704164645000],
    ['https://cdn/x?x-amz-date=20240102T030405Z&x-amz-expires=3600', 1704168245000],
    ['https://cdn/x?X-Amz-Date=garbage&X-Amz-Expires=3600', undefined],
    ['https://cdn/x?X-Amz-Date=20240102T030405Z', undefined],
    ['https://cdn/x?Expires=soon', undefined],
    ['https://huggingface.co/org/m/resolve/main/x', undefined],
    ['not a url', undefined],
  ])('%s', (url, expected) => {
    expect(signedUrlExpiry(url)).toBe(expected);
  });
});

describe('NO_PROXY matching', () => {
  it.each([
    ['http://127.0.0.1:8080/x', '127.0.0.1', true],
    ['http://127.0.0.1:8080/x', '127.0.0.1:8080', true],
    ['http://127.0.0.1:8080/x', '127.0.0.1:9090', false],
    ['https://cdn.hf.co/x', '.hf.co', true],
    ['https://cdn.hf.co/x', '*.hf.co', true],
    ['https://hf.co/x', 'hf.co', true],
    ['https://nothf.co/x', 'hf.co', false],
    ['https://huggingface.co/x', 'localhost, example.com', false],
    ['https://huggingface.co/x', '*', true],
    ['https://huggingface.co/x', undefined, false],
  ])('%s with NO_PROXY=%j → %s', (url, noProxy, expected) => {
    expect(isNoProxy(url, noProxy)).toBe(expected);
  });

  it('proxyForUrl follows the settings given, not the environment', async () => {
    const direct = createDispatcher({ http: undefined, https: undefined, noProxy: undefined });
    const proxied = createDispatcher({ http: 'http://proxy:3128', https: undefined, noProxy: 'localhost' });
    try {
      expect(proxyForUrl(direct, 'https://huggingface.co/')).toBeUndefined();
      expect(proxyForUrl(proxied, 'http://example.com/')).toBe('http://proxy:3128');
      // EnvHttpProxyAgent falls back to HTTP_PROXY for https URLs when HTTPS_PROXY is unset.
      expect(proxyForUrl(proxied, 'https://huggingface.co/')).toBe('http://proxy:3128');
      expect(proxyForUrl(proxied, 'http://localhost:1234/')).toBeUndefined();
    } finally {
      await direct.close();
      await proxied.close();
    }
  });
});
