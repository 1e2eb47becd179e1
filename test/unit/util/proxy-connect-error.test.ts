/**
 * util/net's classification of a typed proxy failure (ProxyConnectError, thrown by the dispatcher
 * around undici's CONNECT): always NETWORK_PROXY, retryable unless the proxy's answer is
 * deterministic, the short retry budget, and the proxy named by host:port only.
 */
import { describe, expect, it } from 'vitest';
import { classifyNetworkError, isRetryableNetworkError, networkRetryLimit, ProxyConnectError } from '../../../src/util/net.js';

function failure(fields: { status?: number; withCredentials?: boolean }, causeCode?: string, causeName?: string): Error {
  const cause = causeCode || causeName ? Object.assign(new Error('low level'), causeCode ? { code: causeCode } : {}, causeName ? { name: causeName } : {}) : undefined;
  const proxyError = new ProxyConnectError({ proxy: 'proxy.corp:3128', target: 'huggingface.co:443', ...fields }, { cause });
  // undici hands it on wrapped, as a request's failure.
  return new Error('request failed', { cause: proxyError });
}

describe('classifyNetworkError on a ProxyConnectError', () => {
  it.each([
    [failure({}, 'ENOTFOUND'), /The proxy host proxy\.corp:3128 did not resolve \(ENOTFOUND\)/, true],
    [failure({}, 'ECONNREFUSED'), /The proxy proxy\.corp:3128 refused the connection/, true],
    [failure({}, 'UND_ERR_SOCKET'), /closed the connection without answering CONNECT huggingface\.co:443/, true],
    [failure({}, 'UND_ERR_HEADERS_TIMEOUT'), /did not answer CONNECT huggingface\.co:443 in time/, true],
    [failure({}, undefined, 'HTTPParserError'), /with something that is not HTTP/, true],
    [failure({}, 'ERR_SSL_WRONG_VERSION_NUMBER'), /TLS handshake with the proxy proxy\.corp:3128 failed/, false],
    [failure({ status: 502 }), /refused to open a tunnel to huggingface\.co:443 \(it answered CONNECT with 502\)/, true],
    [failure({ status: 403 }), /it answered CONNECT with 403/, false],
    [failure({ status: 407 }), /asks for credentials \(407/, false],
    [failure({ status: 407, withCredentials: true }), /rejected the credentials in the proxy URL/, false],
  ])('%#: %s', (error, message, retryable) => {
    const classified = classifyNetworkError(error, 'huggingface.co');
    expect(classified.code).toBe('NETWORK_PROXY');
    expect(classified.message).toMatch(message);
    expect(classified.hint).toBeTruthy();
    expect(isRetryableNetworkError(classified)).toBe(retryable);
    expect(networkRetryLimit(classified, 8)).toBe(2);
  });

  it('outranks the codes underneath: a reset while reaching the proxy is a proxy failure, not NETWORK_RESET', () => {
    expect(classifyNetworkError(failure({}, 'ECONNRESET'), 'huggingface.co').code).toBe('NETWORK_PROXY');
  });
});
