/**
 * The error codes under a network failure, by class. Failures are classified by code (undici wraps
 * system errors in `cause`), never by message. Pure.
 */
import type { ErrorCode } from '../errors.js';

export const CODE_SETS = {
  NETWORK_DNS: new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']),
  NETWORK_REFUSED: new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']),
  NETWORK_RESET: new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE']),
  NETWORK_TIMEOUT: new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']),
} satisfies Partial<Record<ErrorCode, ReadonlySet<string>>>;

const TLS_CODES: ReadonlySet<string> = new Set([
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** A TLS or certificate failure (a known code, or an ERR_TLS*, ERR_SSL*, CERT_* one). */
export function isTlsCode(code: string): boolean {
  return TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.startsWith('CERT_');
}

export const CODE_CLASSES: ReadonlyArray<[ErrorCode, ReadonlySet<string>]> = [
  ['NETWORK_DNS', CODE_SETS.NETWORK_DNS],
  ['NETWORK_REFUSED', CODE_SETS.NETWORK_REFUSED],
  ['NETWORK_RESET', CODE_SETS.NETWORK_RESET],
  ['NETWORK_TIMEOUT', CODE_SETS.NETWORK_TIMEOUT],
];

/** The error and its `cause` chain, outermost first, at most `depth` deep. */
export function* causeChain(error: unknown, depth = 6): Generator<object> {
  let current: unknown = error;
  for (let d = 0; d < depth && current && typeof current === 'object'; d++) {
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

/** The first `code` found on the error or its `cause` chain. */
export function errorCodeOf(error: unknown): string | undefined {
  for (const link of causeChain(error)) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return code;
  }
  return undefined;
}

/** Every `code` on the error and its `cause` chain, outermost first. */
export function allCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (const link of causeChain(error)) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

/** Whether an error of this class (e.g. undici's HTTPParserError, which has no code) is on the cause chain. */
export function hasErrorNamed(error: unknown, name: string): boolean {
  for (const link of causeChain(error)) if (link instanceof Error && link.name === name) return true;
  return false;
}
