import { describe, expect, it } from 'vitest';
import { fileMetadata } from '../../../src/hub/file-metadata.js';

const HUB = 'https://hub.test/org/m/resolve/abc/model.bin';
const CDN = 'https://cdn.test/blob?X-Amz-Date=20240102T030405Z&X-Amz-Expires=3600&X-Amz-Signature=s';
const SHA256 = 'c'.repeat(64);
const SHA1 = 'b'.repeat(40);
const COMMIT = 'a'.repeat(40);

describe('fileMetadata (file_download.py::get_hf_file_metadata)', () => {
  it('reads an LFS redirect: X-Linked-* on the redirect, the Location as URL, its expiry', () => {
    const redirect = {
      url: HUB,
      status: 302,
      headers: { 'x-linked-etag': `"${SHA256}"`, 'x-linked-size': '1234', etag: '"redirect-etag"', 'content-length': '87', 'x-repo-commit': COMMIT, location: CDN },
    };
    expect(fileMetadata([redirect], redirect, CDN)).toEqual({
      url: CDN,
      commit: COMMIT,
      etag: SHA256,
      size: 1234,
      expiresAt: Date.UTC(2024, 0, 2, 3, 4, 5) + 3600 * 1000,
    });
  });

  it('ignores the ETag and Content-Length of a redirect without X-Linked-* headers', () => {
    const redirect = { url: HUB, status: 307, headers: { etag: `"${SHA1}"`, 'content-length': '0' } };
    const meta = fileMetadata([redirect], redirect, CDN);
    expect(meta.etag).toBeUndefined();
    expect(meta.size).toBeUndefined();
  });

  it('reads a direct answer: ETag (weak prefix dropped) and Content-Length, the URL asked, no expiry', () => {
    const final = { url: HUB, status: 200, headers: { etag: `W/"${SHA1}"`, 'content-length': '42' } };
    expect(fileMetadata([final], final)).toEqual({ url: HUB, commit: undefined, etag: SHA1, size: 42, expiresAt: undefined });
  });

  it('takes the commit from the first hop that names it (a rename redirect before the file)', () => {
    const rename = { url: 'https://hub.test/old/m/resolve/abc/x', status: 301, headers: { 'x-repo-commit': COMMIT } };
    const final = { url: HUB, status: 200, headers: { 'x-repo-commit': 'd'.repeat(40), etag: `"${SHA1}"` } };
    expect(fileMetadata([rename, final], final).commit).toBe(COMMIT);
  });

  it.each([['-1'], ['12.5'], ['1e3'], ['abc'], ['']])('refuses the size %j (only a plain integer counts)', (value) => {
    const final = { url: HUB, status: 200, headers: { 'content-length': value } };
    expect(fileMetadata([final], final).size).toBeUndefined();
  });

  it('accepts a size with surrounding spaces', () => {
    const final = { url: HUB, status: 200, headers: { 'x-linked-size': ' 7 ' } };
    expect(fileMetadata([final], final).size).toBe(7);
  });
});
