import { describe, expect, it } from 'vitest';
import { classifyStatus, retryDelayMs, statusError } from '../../../src/download/retry-decision.js';

describe('retry decisions', () => {
  it.each([
    [206, 'ok'], [200, 'ok'],
    [403, 'expired'], [410, 'expired'],
    [408, 'transient'], [429, 'transient'], [500, 'transient'], [502, 'transient'], [503, 'transient'], [504, 'transient'], [520, 'transient'],
    [401, 'fatal'], [404, 'fatal'], [416, 'fatal'], [400, 'fatal'], [302, 'redirect'], [301, 'redirect'], [307, 'redirect'], [308, 'redirect'], [304, 'fatal'], [300, 'fatal'],
  ])('status %i → %s', (status, verdict) => {
    expect(classifyStatus(status)).toBe(verdict);
  });

  it('a 401 is a refusal, unless the source says its credential expires (a registry bearer token)', () => {
    expect(classifyStatus(401, { refreshOnUnauthorized: true })).toBe('expired');
    expect(classifyStatus(401, { refreshOnUnauthorized: false })).toBe('fatal');
    expect(classifyStatus(404, { refreshOnUnauthorized: true })).toBe('fatal');
  });

  it('typed errors carry the status and never the signature of a signed URL', () => {
    const error = statusError(404, 'https://cdn.example/x?X-Amz-Signature=deadbeef&X-Amz-Expires=3600');
    expect(error.code).toBe('ENTRY_NOT_FOUND');
    expect(error.status).toBe(404);
    expect(error.url).not.toContain('deadbeef');
    expect(error.message).not.toContain('deadbeef');
    expect(statusError(401, 'https://h/x').code).toBe('FORBIDDEN');
    expect(statusError(429, 'https://h/x', { retryAfter: 3 }).retryAfter).toBe(3);
  });

  it('server-announced waits win over backoff; backoff grows and is capped', () => {
    const policy = { maxRetries: 8, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(retryDelayMs(1, policy, 4)).toBe(4000);
    expect(retryDelayMs(1, policy, 100_000)).toBe(600_000);
    expect(retryDelayMs(1, policy, undefined, () => 1)).toBe(100);
    expect(retryDelayMs(3, policy, undefined, () => 1)).toBe(400);
    expect(retryDelayMs(3, policy, undefined, () => 0)).toBe(200);
    expect(retryDelayMs(10, policy, undefined, () => 1)).toBe(1000);
  });
});
