import { describe, expect, it } from 'vitest';
import type { HubHttpError } from '../../../src/errors.js';
import { errorFromResponse, repoFromUrl } from '../../../src/hub/index.js';
import type { ErrorResponseInput } from '../../../src/hub/index.js';

const E = 'https://huggingface.co';
const TOKEN = 'hf_secretsecretsecret1234';
const model = { id: 'org/m', type: 'model' as const };
const dataset = { id: 'org/d', type: 'dataset' as const };

function err(partial: Partial<ErrorResponseInput> & { status: number }): HubHttpError {
  return errorFromResponse({
    headers: {},
    url: `${E}/api/models/org/m/revision/main`,
    method: 'GET',
    hasToken: false,
    endpoint: E,
    ...partial,
  });
}

describe('errorFromResponse: X-Error-Code first (hf_raise_for_status order)', () => {
  it.each([
    // [status, headers, expected code]
    [404, { 'x-error-code': 'RevisionNotFound' }, 'REVISION_NOT_FOUND'],
    [404, { 'x-error-code': 'EntryNotFound' }, 'ENTRY_NOT_FOUND'],
    [401, { 'x-error-code': 'GatedRepo' }, 'GATED_REPO'],
    [403, { 'x-error-code': 'GatedRepo' }, 'GATED_REPO'],
    [403, { 'x-error-message': 'Access to this resource is disabled.' }, 'REPO_DISABLED'],
    [404, { 'x-error-code': 'RepoNotFound' }, 'REPO_NOT_FOUND'],
    [401, { 'x-error-code': 'RepoNotFound' }, 'REPO_NOT_FOUND'],
    // A code wins over the status: RevisionNotFound even on a 401-looking repo URL.
    [401, { 'x-error-code': 'RevisionNotFound' }, 'REVISION_NOT_FOUND'],
    // GatedRepo is checked before the disabled message.
    [403, { 'x-error-code': 'GatedRepo', 'x-error-message': 'Access to this resource is disabled.' }, 'GATED_REPO'],
  ])('%i %j → %s', (status, headers, code) => {
    expect(err({ status, headers }).code).toBe(code);
  });
});

describe('errorFromResponse: by status', () => {
  it.each([
    [401, `${E}/api/models/org/m/revision/main`, {}, 'REPO_NOT_FOUND'],
    [401, `${E}/api/datasets/org/d/tree/main`, {}, 'REPO_NOT_FOUND'],
    [401, `${E}/org/m/resolve/main/config.json`, {}, 'REPO_NOT_FOUND'],
    [401, `${E}/org/m/resolve/main/config.json`, { 'x-error-message': 'Invalid credentials in Authorization header' }, 'TOKEN_INVALID'],
    [401, `${E}/api/whoami-v2`, {}, 'TOKEN_MISSING'],
    [404, `${E}/api/models/org/m/revision/main`, {}, 'REPO_NOT_FOUND'],
    [400, `${E}/api/models/org/m/revision/main`, {}, 'BAD_REQUEST'],
    [403, `${E}/api/models/org/m/revision/main`, {}, 'FORBIDDEN'],
    [407, `${E}/api/models/org/m/revision/main`, {}, 'NETWORK_PROXY'],
    [408, `${E}/api/models/org/m/revision/main`, {}, 'NETWORK_TIMEOUT'],
    [429, `${E}/api/models/org/m/revision/main`, {}, 'RATE_LIMITED'],
    [416, `${E}/org/m/resolve/main/x.bin`, { 'content-range': 'bytes */10' }, 'PROTOCOL'],
    [500, `${E}/api/models/org/m/revision/main`, {}, 'SERVER_ERROR'],
    [502, `${E}/api/models/org/m/revision/main`, {}, 'SERVER_ERROR'],
    [503, `${E}/api/models/org/m/revision/main`, {}, 'SERVER_ERROR'],
    [504, `${E}/api/models/org/m/revision/main`, {}, 'SERVER_ERROR'],
    [418, `${E}/api/models/org/m/revision/main`, {}, 'PROTOCOL'],
    [404, 'https://cdn-lfs.hf.co/repos/ab/cd/blob', {}, 'PROTOCOL'],
  ])('%i %s %j → %s', (status, url, headers, code) => {
    expect(err({ status, url, headers }).code).toBe(code);
  });

  it('401 with a token on an unknown URL is TOKEN_INVALID', () => {
    expect(err({ status: 401, url: `${E}/api/whoami-v2`, hasToken: true }).code).toBe('TOKEN_INVALID');
  });
});

describe('errorFromResponse: messages and hints', () => {
  it('gated: the hint names the repo page, models without prefix', () => {
    const e = err({ status: 401, headers: { 'x-error-code': 'GatedRepo' }, repo: model });
    expect(e.hint).toBe('Accept the conditions at https://huggingface.co/org/m, then pass a token with --token or HF_TOKEN.');
    expect(e.message).toMatch(/model org\/m is gated/i);
  });

  it('gated dataset: the page is under /datasets/', () => {
    const e = err({ status: 403, headers: { 'x-error-code': 'GatedRepo' }, repo: dataset, hasToken: true });
    expect(e.hint).toContain('https://huggingface.co/datasets/org/d');
    expect(e.hint).not.toContain('pass a token');
  });

  it('repo not found: the hint differs with and without a token', () => {
    const anonymous = err({ status: 401, repo: model });
    const withToken = err({ status: 404, headers: { 'x-error-code': 'RepoNotFound' }, repo: model, hasToken: true });
    expect(anonymous.hint).toBe('Check the id; if it is private or gated, pass a token with --token or HF_TOKEN.');
    expect(withToken.hint).toContain('the account that owns your token');
    expect(anonymous.message).toBe('Model org/m was not found on https://huggingface.co.');
  });

  it('entry not found names the file, repo and revision', () => {
    const e = err({ status: 404, headers: { 'x-error-code': 'EntryNotFound' }, repo: model, revision: 'main', path: 'sub/w.bin', url: `${E}/org/m/resolve/main/sub/w.bin` });
    expect(e.message).toBe("File 'sub/w.bin' in model org/m at main does not exist.");
  });

  it('revision not found names the revision', () => {
    const e = err({ status: 404, headers: { 'x-error-code': 'RevisionNotFound' }, repo: model, revision: 'v9' });
    expect(e.message).toBe("Revision 'v9' was not found in model org/m.");
  });

  it('appends server text from X-Error-Message and the JSON body, without duplicates', () => {
    const e = err({
      status: 400,
      headers: { 'x-error-message': 'Invalid rev' },
      body: JSON.stringify({ error: 'Invalid rev', errors: [{ message: 'rev too long' }] }),
    });
    expect(e.message).toMatch(/\(400\): Invalid rev rev too long\.$/);
  });

  it('ignores non-JSON bodies', () => {
    expect(err({ status: 500, body: '<html>oops</html>' }).message).not.toContain('html');
  });

  it('429 carries retryAfter from RateLimit (t + 1) or Retry-After (n + 1)', () => {
    expect(err({ status: 429, headers: { ratelimit: '"api";r=0;t=55' } }).retryAfter).toBe(56);
    expect(err({ status: 429, headers: { 'retry-after': '7' } }).retryAfter).toBe(8);
    expect(err({ status: 429 }).retryAfter).toBeUndefined();
  });

  it('416 quotes the sent Range and the received Content-Range', () => {
    const e = err({ status: 416, url: `${E}/org/m/resolve/main/x.bin`, range: 'bytes=100-', headers: { 'content-range': 'bytes */10' } });
    expect(e.message).toContain('bytes=100-');
    expect(e.message).toContain('bytes */10');
  });

  it('request id from X-Request-Id, X-Amzn-Trace-Id or X-Amz-Cf-Id', () => {
    expect(err({ status: 500, headers: { 'x-request-id': 'r1', 'x-amz-cf-id': 'c1' } }).requestId).toBe('r1');
    expect(err({ status: 500, headers: { 'x-amzn-trace-id': 't1' } }).requestId).toBe('t1');
    expect(err({ status: 500, headers: { 'x-amz-cf-id': 'c1' } }).requestId).toBe('c1');
    expect(err({ status: 500, headers: new Headers({ 'X-Request-Id': 'h1' }) }).requestId).toBe('h1');
  });

  it('never includes the token or URL signatures', () => {
    const e = err({
      status: 403,
      url: `https://cdn.hf.co/x?X-Amz-Signature=abcdef&token=${TOKEN}`,
      headers: { 'x-error-message': `bad token ${TOKEN}` },
      body: JSON.stringify({ error: `Authorization: Bearer ${TOKEN}` }),
      hasToken: true,
    });
    const all = `${e.message} ${e.hint} ${e.url} ${JSON.stringify(e.details)}`;
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain('abcdef');
    expect(e.status).toBe(403);
  });
});

describe('repoFromUrl', () => {
  it.each([
    ['https://h.co/api/models/org/m/revision/main', { type: 'model', id: 'org/m' }],
    ['https://h.co/api/models/gpt2/revision/main', { type: 'model', id: 'gpt2' }],
    ['https://h.co/api/datasets/org/d/tree/main?recursive=true', { type: 'dataset', id: 'org/d' }],
    ['https://h.co/datasets/org/d/resolve/main/x', { type: 'dataset', id: 'org/d' }],
    ['https://h.co/spaces/org/s/resolve/main/x', { type: 'space', id: 'org/s' }],
    ['https://h.co/org/m/resolve/main/a/b', { type: 'model', id: 'org/m' }],
    ['https://h.co/api/whoami-v2', undefined],
  ])('%s', (url, expected) => {
    expect(repoFromUrl(url)).toEqual(expected);
  });
});
