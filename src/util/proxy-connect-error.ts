/**
 * A failed CONNECT through a proxy, typed where it happens (src/hub/create-dispatcher.ts), and what
 * to tell the user about it: how it failed (pure, from the codes under it) and the message and hint.
 */
import { allCodes, causeChain, CODE_SETS, errorCodeOf, hasErrorNamed, isTlsCode } from './network-codes.js';

/**
 * Reaching a proxy or getting a tunnel through it failed: the proxy refused the connection, could
 * not be resolved, failed the TLS handshake, closed the connection without answering the CONNECT,
 * answered something that is not HTTP, did not answer in time, or answered with a status other
 * than 200. Thrown by the dispatcher (src/hub/create-dispatcher.ts) around undici's CONNECT, so the
 * failure is typed where it happens instead of guessed from codes later. `proxy` is host:port only:
 * a proxy URL may carry user:password, which must never reach a message.
 */
export class ProxyConnectError extends Error {
  override readonly name = 'ProxyConnectError';
  /** host:port of the proxy (never its credentials). */
  readonly proxy: string;
  /** host:port the CONNECT asked for. */
  readonly target: string;
  /** The proxy's answer to the CONNECT, when it answered with a status other than 200. */
  readonly status: number | undefined;
  /** Whether the proxy URL carried credentials (a 407 then means they were rejected). */
  readonly withCredentials: boolean;

  constructor(fields: { proxy: string; target: string; status?: number | undefined; withCredentials?: boolean | undefined }, options: { cause?: unknown } = {}) {
    super(
      fields.status !== undefined
        ? `The proxy ${fields.proxy} answered CONNECT ${fields.target} with ${fields.status}.`
        : `CONNECT ${fields.target} through the proxy ${fields.proxy} failed${codeSuffix(options.cause)}.`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.proxy = fields.proxy;
    this.target = fields.target;
    this.status = fields.status;
    this.withCredentials = fields.withCredentials ?? false;
  }
}

function codeSuffix(error: unknown): string {
  const code = errorCodeOf(error);
  return code ? ` (${code})` : '';
}

/** The ProxyConnectError on `error`'s cause chain, if any. */
export function proxyConnectErrorOf(error: unknown): ProxyConnectError | undefined {
  for (const link of causeChain(error, 8)) if (link instanceof ProxyConnectError) return link;
  return undefined;
}

/** How a proxy failed, from the codes under a ProxyConnectError. Pure. */
export type ProxyFailureKind = 'status' | 'auth' | 'refused' | 'dns' | 'tls' | 'closed' | 'timeout' | 'garbage' | 'other';

export function proxyFailureKind(failure: ProxyConnectError): ProxyFailureKind {
  if (failure.status === 407) return 'auth';
  if (failure.status !== undefined) return 'status';
  const codes = allCodes(failure.cause);
  const has = (set: ReadonlySet<string>) => codes.some((c) => set.has(c));
  if (has(CODE_SETS.NETWORK_REFUSED)) return 'refused';
  if (has(CODE_SETS.NETWORK_DNS)) return 'dns';
  if (codes.some(isTlsCode)) return 'tls';
  if (has(CODE_SETS.NETWORK_TIMEOUT)) return 'timeout';
  if (codes.some((c) => c.startsWith('HPE_')) || hasErrorNamed(failure.cause, 'HTTPParserError')) return 'garbage';
  if (has(CODE_SETS.NETWORK_RESET)) return 'closed';
  return 'other';
}

export function describeProxyFailure(failure: ProxyConnectError, host: string): { message: string; hint: string; systemCode: string | undefined } {
  const { proxy, target } = failure;
  const kind = proxyFailureKind(failure);
  const code = failure.status !== undefined ? `HTTP_${failure.status}` : errorCodeOf(failure.cause);
  const check = 'check HTTPS_PROXY / HTTP_PROXY, or list hosts that need no proxy in NO_PROXY';
  switch (kind) {
    case 'auth':
      return failure.withCredentials
        ? {
            message: `The proxy ${proxy} rejected the credentials in the proxy URL (407 Proxy Authentication Required).`,
            hint: 'Check the user and password in HTTPS_PROXY / HTTP_PROXY (http://user:password@host:port; percent-encode special characters).',
            systemCode: code,
          }
        : {
            message: `The proxy ${proxy} asks for credentials (407 Proxy Authentication Required) to reach ${host}.`,
            hint: 'Put the proxy credentials in the proxy URL: HTTPS_PROXY=http://user:password@host:port (and HTTP_PROXY).',
            systemCode: code,
          };
    case 'status':
      return {
        message: `The proxy ${proxy} refused to open a tunnel to ${target} (it answered CONNECT with ${failure.status}).`,
        hint: `The proxy cannot or may not reach ${host}: ${check}.`,
        systemCode: code,
      };
    case 'refused':
      return { message: `The proxy ${proxy} refused the connection (${code}).`, hint: `Check that the proxy runs at that address: ${check}.`, systemCode: code };
    case 'dns':
      return { message: `The proxy host ${proxy} did not resolve (${code}).`, hint: `Check the proxy's host name: ${check}.`, systemCode: code };
    case 'tls':
      return {
        message: `The TLS handshake with the proxy ${proxy} failed (${code}).`,
        hint: 'If the proxy speaks plain HTTP, write its URL as http://host:port; if it has its own CA, set NODE_EXTRA_CA_CERTS.',
        systemCode: code,
      };
    case 'closed':
      return {
        message: `The proxy ${proxy} closed the connection without answering CONNECT ${target} (${code}).`,
        hint: `The proxy probably cannot reach ${host}: ${check}.`,
        systemCode: code,
      };
    case 'timeout':
      return { message: `The proxy ${proxy} did not answer CONNECT ${target} in time (${code}).`, hint: `Check the proxy: ${check}.`, systemCode: code };
    case 'garbage':
      return {
        message: `The proxy ${proxy} answered CONNECT ${target} with something that is not HTTP (${code}).`,
        hint: `Check that the proxy URL points at an HTTP proxy: ${check}.`,
        systemCode: code,
      };
    default:
      return { message: `CONNECT ${target} through the proxy ${proxy} failed${code ? ` (${code})` : ''}.`, hint: `Check the proxy: ${check}.`, systemCode: code };
  }
}
