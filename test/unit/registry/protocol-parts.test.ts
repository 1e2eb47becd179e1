import { describe, expect, it } from 'vitest';
import { parseTokenResponse, renewalMargin } from '../../../src/registry/auth.js';
import { defaultInsecure, isLoopbackRegistry } from '../../../src/registry/plain-http.js';
import { describeRegistryError, parseRegistryErrorBody, registryError, registryErrorCode } from '../../../src/registry/registry-error.js';
import { normalizeScopes, repositoryScope } from '../../../src/registry/scope.js';
import { parseUploadRange, withDigestParam } from '../../../src/registry/upload-protocol.js';
import { registerSecret } from '../../../src/util/redact.js';

describe('upload Range and Location', () => {
  it.each([
    ['0-0', 0],
    ['0--1', 0],
    ['0-65535', 65536],
    ['bytes=0-99', 100],
    [' 0-9 ', 10],
    ['5-9', undefined],
    ['garbage', undefined],
    [undefined, undefined],
  ])('Range %j → offset %j', (value, offset) => {
    expect(parseUploadRange(value)).toBe(offset);
  });

  it('adds digest= keeping the query string (distribution puts _state there)', () => {
    expect(withDigestParam('http://r/v2/a/blobs/uploads/u?_state=ab%3D%3D&x=~', 'sha256:00')).toBe('http://r/v2/a/blobs/uploads/u?_state=ab%3D%3D&x=~&digest=sha256%3A00');
    expect(withDigestParam('http://r/v2/a/blobs/uploads/u', 'sha256:00')).toBe('http://r/v2/a/blobs/uploads/u?digest=sha256%3A00');
  });
});

describe('token responses', () => {
  it('reads token or access_token, with expires_in defaulting to 60 s', () => {
    expect(parseTokenResponse('{"token":"t","expires_in":300}')).toEqual({ token: 't', expiresIn: 300 });
    expect(parseTokenResponse('{"access_token":"a"}')).toEqual({ token: 'a', expiresIn: 60 });
    expect(parseTokenResponse('{"token":"","access_token":"a","expires_in":-1}')).toEqual({ token: 'a', expiresIn: 60 });
    expect(parseTokenResponse('{}')).toBeUndefined();
    expect(parseTokenResponse('<html>')).toBeUndefined();
    expect(renewalMargin(60_000)).toBe(10_000);
    expect(renewalMargin(2_000)).toBe(400);
  });
});

describe('scopes', () => {
  it('merges actions per repository and sorts', () => {
    expect(repositoryScope('m/x', ['push', 'pull', 'pull'])).toBe('repository:m/x:pull,push');
    expect(normalizeScopes(['repository:b:pull', 'repository:a:push', 'repository:a:pull'])).toEqual(['repository:a:pull,push', 'repository:b:pull']);
  });
});

describe('registry errors', () => {
  it('parses the distribution-spec error body', () => {
    expect(parseRegistryErrorBody('{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}')).toEqual({
      code: 'DENIED',
      message: 'requested access to the resource is denied',
    });
    expect(parseRegistryErrorBody('<html>502</html>')).toEqual({ code: undefined, message: undefined });
  });

  it('cuts and redacts what the registry says', () => {
    registerSecret('hunter2-secret');
    const text = describeRegistryError({ code: 'DENIED', message: `token hunter2-secret is bad \u001b[2J ${'x'.repeat(500)}` });
    expect(text).not.toContain('hunter2-secret');
    expect(text).not.toContain('\u001b');
    expect(text.length).toBeLessThan(220);
  });

  it.each([
    [413, undefined, undefined, 'upload', 'LAYER_TOO_LARGE'],
    [403, 'DENIED', 'layer exceeds the size limit', 'upload', 'LAYER_TOO_LARGE'],
    [400, 'SIZE_INVALID', 'x', 'manifest', 'MANIFEST_TOO_LARGE'],
    [403, 'DENIED', 'requested access to the resource is denied', 'upload', 'REGISTRY_AUTH'],
    [401, 'UNAUTHORIZED', 'x', 'manifest', 'REGISTRY_AUTH'],
    [404, 'MANIFEST_UNKNOWN', 'x', 'manifest', 'MANIFEST_NOT_FOUND'],
    [404, 'NAME_UNKNOWN', 'x', 'manifest', 'MANIFEST_NOT_FOUND'],
    [404, 'BLOB_UNKNOWN', 'x', 'blob', 'BLOB_NOT_FOUND'],
    [400, 'DIGEST_INVALID', 'x', 'upload', 'INTEGRITY'],
    [405, 'UNSUPPORTED', 'x', 'upload', 'REGISTRY_UNSUPPORTED'],
    [500, undefined, undefined, 'manifest', 'REGISTRY_ERROR'],
  ] as const)('%d %s (%s) on %s → %s', (status, code, message, operation, expected) => {
    expect(registryErrorCode({ status, body: { code, message }, registry: 'r', what: 'x', operation })).toBe(expected);
  });

  it('names the host and the refused scope', () => {
    const e = registryError({ status: 403, body: { code: 'DENIED', message: 'nope' }, registry: 'reg:5000', what: 'PUT manifest m/x:v1', operation: 'manifest', scope: 'repository:m/x:pull,push' });
    expect(e.code).toBe('REGISTRY_AUTH');
    expect(e.message).toBe('reg:5000 refused PUT manifest m/x:v1: access denied for scope repository:m/x:pull,push (DENIED: nope).');
    expect(e.hint).toContain('push to');
  });
});

describe('plain HTTP', () => {
  it.each([
    ['127.0.0.1:5000', true],
    ['127.1.2.3', true],
    ['localhost:5000', true],
    ['[::1]:5000', true],
    ['registry.example.com', false],
    ['10.0.0.1:5000', false],
  ])('%s is loopback: %s', (registry, loopback) => {
    expect(isLoopbackRegistry(registry)).toBe(loopback);
  });

  it('is the default for loopback and listed hosts only', () => {
    expect(defaultInsecure('reg.lan:5000', ['reg.lan'])).toBe(true);
    expect(defaultInsecure('reg.lan:5000', ['reg.lan:5000'])).toBe(true);
    expect(defaultInsecure('reg.lan:5000', ['reg.lan:5001'])).toBe(false);
    expect(defaultInsecure('reg.lan:5000')).toBe(false);
  });
});
