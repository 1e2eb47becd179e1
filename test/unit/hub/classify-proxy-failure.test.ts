/** util/net classifyNetworkError's proxy option, as the Hub client uses it. */
import { describe, expect, it } from 'vitest';
import { classifyNetworkError } from '../../../src/util/net.js';

function failure(code: string): Error {
  // undici wraps system errors in `cause`; classification must look there.
  return new Error('fetch failed', { cause: Object.assign(new Error('inner'), { code }) });
}

describe('classifyNetworkError with a proxy in use', () => {
  it.each([
    ['ECONNREFUSED', undefined, 'NETWORK_REFUSED'],
    ['ECONNREFUSED', 'http://user:pass@proxy.local:3128', 'NETWORK_PROXY'],
    ['ENOTFOUND', undefined, 'NETWORK_DNS'],
    ['ENOTFOUND', 'http://proxy.local:3128', 'NETWORK_PROXY'],
    // undici ProxyAgent reports a non-200 CONNECT answer as RequestAbortedError.
    ['UND_ERR_ABORTED', 'http://proxy.local:3128', 'NETWORK_PROXY'],
    // A reset mid-response is still a reset, proxy or not (and stays retryable).
    ['ECONNRESET', 'http://proxy.local:3128', 'NETWORK_RESET'],
    ['UND_ERR_PRX_TLS', undefined, 'NETWORK_PROXY'],
  ])('%s via %s → %s', (code, proxy, expected) => {
    expect(classifyNetworkError(failure(code), 'huggingface.co', { proxy }).code).toBe(expected);
  });

  it('names the proxy host, never its credentials', () => {
    const error = classifyNetworkError(failure('ECONNREFUSED'), 'huggingface.co', { proxy: 'http://user:s3cret@proxy.local:3128' });
    expect(error.message).toContain('proxy.local:3128');
    expect(`${error.message} ${error.hint}`).not.toContain('s3cret');
  });

  it('keeps the old two-argument behaviour', () => {
    expect(classifyNetworkError(failure('ECONNREFUSED'), 'h').code).toBe('NETWORK_REFUSED');
  });
});
