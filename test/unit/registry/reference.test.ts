import { describe, expect, it } from 'vitest';
import { formatImageReference, parseImageReference, registryRepositoryFor } from '../../../src/registry/reference.js';

const D = `sha256:${'ab'.repeat(32)}`;

describe('parseImageReference', () => {
  it.each([
    ['oci://registry.example.com/models/llama:main', { registry: 'registry.example.com', repository: 'models/llama', tag: 'main', digest: undefined }],
    ['oci://127.0.0.1:5000/a/b/c', { registry: '127.0.0.1:5000', repository: 'a/b/c', tag: undefined, digest: undefined }],
    ['oci://LOCALHOST:5000/x:V1.0_rc-1', { registry: 'localhost:5000', repository: 'x', tag: 'V1.0_rc-1', digest: undefined }],
    [`oci://ghcr.io/org/m@${D}`, { registry: 'ghcr.io', repository: 'org/m', tag: undefined, digest: D }],
    [`oci://ghcr.io/org/m:t@${D}`, { registry: 'ghcr.io', repository: 'org/m', tag: 't', digest: D }],
    ['ghcr.io/a__b/c.d-e--f', { registry: 'ghcr.io', repository: 'a__b/c.d-e--f', tag: undefined, digest: undefined }],
    ['oci://[::1]:5000/m:t', { registry: '[::1]:5000', repository: 'm', tag: 't', digest: undefined }],
  ])('%s', (text, expected) => {
    expect(parseImageReference(text)).toEqual(expected);
  });

  it.each([
    ['oci://host', 'no repository'],
    ['oci://host/Models/X', 'lower case'],
    ['oci://host/a//b', 'components'],
    ['oci://host/-a', 'components'],
    ['oci://host/a:.bad', 'tag'],
    [`oci://host/a:${'t'.repeat(129)}`, 'tag'],
    ['oci://host/a@sha256:abc', 'digest'],
    [`oci://host/a@sha512:${'a'.repeat(128)}`, 'digest'],
    ['https://host/a', 'oci://'],
    ['oci://ho st/a', 'host'],
    [`oci://host/${'a'.repeat(260)}`, '255'],
  ])('refuses %s (%s)', (text, why) => {
    expect(() => parseImageReference(text)).toThrow(expect.objectContaining({ code: 'INVALID_REFERENCE', message: expect.stringContaining(why) }));
  });

  it('round-trips through formatImageReference', () => {
    const text = `oci://host:1/a/b:t@${D}`;
    expect(formatImageReference(parseImageReference(text))).toBe(text);
  });
});

describe('registryRepositoryFor', () => {
  it.each([
    ['meta-llama/Llama-3.1-8B', '', 'meta-llama/llama-3.1-8b'],
    ['Qwen/Qwen2.5-0.5B-Instruct', 'models', 'models/qwen/qwen2.5-0.5b-instruct'],
    ['org/_private_', 'hf/mirror', 'hf/mirror/org/private'],
    ['org/a._b', '', 'org/a-b'],
    ['org/a___b', '', 'org/a-b'],
    ['org/a__b', '', 'org/a__b'],
    ['gpt2', 'models/', 'models/gpt2'],
  ])('%s under %j → %s', (id, prefix, expected) => {
    expect(registryRepositoryFor(id, prefix)).toBe(expected);
  });

  it('refuses an id that maps to nothing', () => {
    expect(() => registryRepositoryFor('org/___', '')).toThrow(expect.objectContaining({ code: 'INVALID_REFERENCE' }));
  });
});
