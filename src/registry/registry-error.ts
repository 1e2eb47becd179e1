/**
 * A registry's answer as a typed error. Registries answer failures with a JSON body
 * `{"errors":[{"code":"DENIED","message":"…","detail":…}]}` (distribution-spec spec.md "Error
 * Codes"); its first code and message go into our message, redacted and cut, so a person reads what
 * the registry said without a token or a screenful of detail. Pure.
 */
import { MlcacheError, type ErrorCode } from '../errors.js';
import { cutValue } from '../util/cut-value.js';
import { redact } from '../util/redact.js';

const MAX_REGISTRY_MESSAGE_CHARS = 200;

export interface RegistryErrorBody {
  code: string | undefined;
  message: string | undefined;
}

/** The first entry of a distribution-spec error body, or undefineds when the body is not one. */
export function parseRegistryErrorBody(body: Buffer | string | undefined): RegistryErrorBody {
  if (body === undefined || body.length === 0) return { code: undefined, message: undefined };
  try {
    const parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8')) as unknown;
    const errors = (parsed as { errors?: unknown }).errors;
    const first = Array.isArray(errors) ? (errors[0] as { code?: unknown; message?: unknown } | undefined) : undefined;
    return {
      code: typeof first?.code === 'string' ? first.code : undefined,
      message: typeof first?.message === 'string' ? first.message : undefined,
    };
  } catch {
    return { code: undefined, message: undefined };
  }
}

/** ` (CODE: message)` for a message, or '' when the registry said nothing usable. */
export function describeRegistryError(body: RegistryErrorBody): string {
  if (body.code === undefined && body.message === undefined) return '';
  const text = [body.code, body.message].filter((s): s is string => s !== undefined && s.length > 0).join(': ');
  return ` (${cutValue(redact(text.replace(/\s+/g, ' ').trim()), MAX_REGISTRY_MESSAGE_CHARS)})`;
}

export type RegistryOperation = 'manifest' | 'blob' | 'upload' | 'ping' | 'token';

export interface RegistryFailure {
  status: number;
  body: RegistryErrorBody;
  /** `host[:port]` of the registry. */
  registry: string;
  /** What was asked, for the message: e.g. `GET manifest models/x:main`. */
  what: string;
  operation: RegistryOperation;
  /** The token scope(s) the request needed, e.g. `repository:models/x:pull,push`. */
  scope?: string | undefined;
}

const SIZE_WORDS = /\b(size|too large|too big|exceed|limit)/i;

/** The error code for a registry's refusal. Pure. */
export function registryErrorCode(failure: RegistryFailure): ErrorCode {
  const { status, operation } = failure;
  const code = failure.body.code;
  const aboutSize = code === 'SIZE_INVALID' || ((code === 'DENIED' || status === 403 || status === 400) && SIZE_WORDS.test(failure.body.message ?? ''));
  if (status === 413 || aboutSize) return operation === 'manifest' ? 'MANIFEST_TOO_LARGE' : 'LAYER_TOO_LARGE';
  if (status === 401 || status === 403 || code === 'DENIED' || code === 'UNAUTHORIZED') return 'REGISTRY_AUTH';
  if (code === 'DIGEST_INVALID' && operation === 'upload') return 'INTEGRITY';
  if (status === 404 || code === 'MANIFEST_UNKNOWN' || code === 'BLOB_UNKNOWN' || code === 'NAME_UNKNOWN') {
    return operation === 'manifest' ? 'MANIFEST_NOT_FOUND' : operation === 'blob' ? 'BLOB_NOT_FOUND' : 'REGISTRY_ERROR';
  }
  if (status === 405 || code === 'UNSUPPORTED') return 'REGISTRY_UNSUPPORTED';
  return 'REGISTRY_ERROR';
}

const HINTS: Partial<Record<ErrorCode, (f: RegistryFailure) => string>> = {
  REGISTRY_AUTH: (f) =>
    `Log in to ${f.registry} (docker login / podman login write the credentials mlcache reads) or pass --registry-token, and check the account may ${f.scope?.includes('push') ? 'push to' : 'pull from'} that repository.`,
  MANIFEST_NOT_FOUND: () => 'Check the name and tag (skopeo list-tags docker://<host>/<name> lists the tags).',
  BLOB_NOT_FOUND: () => 'The artifact in the registry is incomplete: push it again.',
  MANIFEST_TOO_LARGE: () => 'CNCF distribution and most registries refuse manifests over 4 MiB: split the snapshot into fewer files per artifact.',
  LAYER_TOO_LARGE: () => 'The registry limits the size of one layer (GHCR allows 10 GB per layer): use a registry with a larger limit or raise this one\'s.',
  INTEGRITY: () => 'The local file may be damaged (run `mlcache verify --repair`), or it changed while it was being pushed; then push again.',
  REGISTRY_UNSUPPORTED: () => 'The registry does not support this request: check the address, or push with monolithic uploads.',
  REGISTRY_ERROR: (f) => (f.status >= 500 || f.status === 429 ? `Retry later; ${f.registry} kept failing.` : `Read the registry's message; check the reference and your permissions on ${f.registry}.`),
};

/** A typed error for a registry's refusal (never a credential in it). */
export function registryError(failure: RegistryFailure, options: { cause?: unknown } = {}): MlcacheError {
  const code = registryErrorCode(failure);
  const said = describeRegistryError(failure.body);
  let message: string;
  switch (code) {
    case 'REGISTRY_AUTH':
      message = `${failure.registry} refused ${failure.what}: ${failure.status === 401 ? 'not authorized' : 'access denied'}${failure.scope ? ` for scope ${failure.scope}` : ''}${said}.`;
      break;
    case 'MANIFEST_NOT_FOUND':
      message = `${failure.registry} has no manifest for ${failure.what}${said}.`;
      break;
    case 'BLOB_NOT_FOUND':
      message = `${failure.registry} has no blob for ${failure.what}${said}.`;
      break;
    case 'LAYER_TOO_LARGE':
      message = `${failure.registry} refused ${failure.what} as too large (${failure.status})${said}.`;
      break;
    case 'MANIFEST_TOO_LARGE':
      message = `${failure.registry} refused ${failure.what} as too large (${failure.status})${said}.`;
      break;
    default:
      message = `${failure.registry} answered ${failure.status} to ${failure.what}${said}.`;
  }
  return new MlcacheError(code, redact(message), {
    hint: HINTS[code]?.(failure),
    cause: options.cause,
    details: { status: failure.status, registry: failure.registry, registryCode: failure.body.code },
  });
}
