/**
 * Typed errors. Every expected failure is an `MlcacheError` with a stable `code`, a one-sentence
 * message, and a `hint` that says what to do next. `src/cli/main.ts` maps codes to exit codes
 * through `EXIT_CODES`; docs/errors.md documents the same table (a test keeps them in sync).
 */
import type { DigestAlgorithm } from './util/digest-algorithm.js';

/** Exit codes, documented in docs/errors.md. */
export const EXIT = {
  OK: 0,
  /** Some entries failed while others succeeded (cache-models, verify found damage). */
  FAILED: 1,
  /** Bad flags or arguments. */
  USAGE: 2,
  /** A config, catalog or journal file is invalid. */
  CONFIG: 3,
  /** Authentication or authorization: missing/invalid token, gated repo. */
  AUTH: 4,
  /** Repo, revision or file not found on the Hub. */
  NOT_FOUND: 5,
  /** Network failure: DNS, refused, reset, timeout, TLS, proxy. */
  NETWORK: 6,
  /** The Hub answered with errors after retries (5xx, 429) or broke the protocol. */
  REMOTE: 7,
  /** Downloaded bytes did not match their expected hash. */
  INTEGRITY: 8,
  /** Not enough free disk space (preflight or ENOSPC). */
  DISK_SPACE: 9,
  /** A local filesystem problem: permissions, read-only, unsafe path. */
  FILESYSTEM: 10,
  /** The cache is damaged or incomplete (verify, offline-check). */
  CACHE_DAMAGED: 11,
  /** Internal error: a bug in mlcache. */
  INTERNAL: 70,
  /** Interrupted by Ctrl-C / SIGINT (128 + 2). */
  INTERRUPTED: 130,
  /** Stopped by SIGTERM (128 + 15: `timeout`, CI runners, `docker stop`); the INTERRUPTED error then exits with this. */
  TERMINATED: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Every error code mlcache can produce, with its exit code. */
export const EXIT_CODES = {
  USAGE: EXIT.USAGE,
  INVALID_REPO_ID: EXIT.USAGE,
  INVALID_PATTERN: EXIT.USAGE,
  INVALID_SIZE: EXIT.USAGE,
  INVALID_REFERENCE: EXIT.USAGE,
  INSECURE_REGISTRY: EXIT.USAGE,
  CONFIG_INVALID: EXIT.CONFIG,
  CATALOG_INVALID: EXIT.CONFIG,
  UNKNOWN_GROUP: EXIT.USAGE,
  HARDWARE_CACHE_INVALID: EXIT.CONFIG,
  CONFIG_NOT_FOUND: EXIT.CONFIG,
  LOCK_NOT_FOUND: EXIT.CONFIG,
  LOCK_INVALID: EXIT.CONFIG,
  LOCK_MISMATCH: EXIT.CONFIG,
  TOKEN_MISSING: EXIT.AUTH,
  TOKEN_INVALID: EXIT.AUTH,
  GATED_REPO: EXIT.AUTH,
  FORBIDDEN: EXIT.AUTH,
  REPO_DISABLED: EXIT.AUTH,
  REGISTRY_AUTH: EXIT.AUTH,
  REPO_NOT_FOUND: EXIT.NOT_FOUND,
  REVISION_NOT_FOUND: EXIT.NOT_FOUND,
  ENTRY_NOT_FOUND: EXIT.NOT_FOUND,
  MANIFEST_NOT_FOUND: EXIT.NOT_FOUND,
  BLOB_NOT_FOUND: EXIT.NOT_FOUND,
  NETWORK_DNS: EXIT.NETWORK,
  NETWORK_REFUSED: EXIT.NETWORK,
  NETWORK_RESET: EXIT.NETWORK,
  NETWORK_TIMEOUT: EXIT.NETWORK,
  NETWORK_TLS: EXIT.NETWORK,
  NETWORK_PROXY: EXIT.NETWORK,
  NETWORK: EXIT.NETWORK,
  OFFLINE: EXIT.NETWORK,
  RATE_LIMITED: EXIT.REMOTE,
  SERVER_ERROR: EXIT.REMOTE,
  BAD_REQUEST: EXIT.REMOTE,
  PROTOCOL: EXIT.REMOTE,
  REGISTRY_ERROR: EXIT.REMOTE,
  REGISTRY_UNSUPPORTED: EXIT.REMOTE,
  MANIFEST_TOO_LARGE: EXIT.REMOTE,
  LAYER_TOO_LARGE: EXIT.REMOTE,
  INTEGRITY: EXIT.INTEGRITY,
  ARTIFACT_INVALID: EXIT.REMOTE,
  ARTIFACT_UNSUPPORTED: EXIT.REMOTE,
  BUNDLE_INVALID: EXIT.REMOTE,
  SNAPSHOT_NOT_CACHED: EXIT.CACHE_DAMAGED,
  DISK_FULL: EXIT.DISK_SPACE,
  INSUFFICIENT_SPACE: EXIT.DISK_SPACE,
  UNSAFE_PATH: EXIT.FILESYSTEM,
  FILESYSTEM: EXIT.FILESYSTEM,
  PERMISSION: EXIT.FILESYSTEM,
  LOCK_TIMEOUT: EXIT.FILESYSTEM,
  CACHE_NOT_FOUND: EXIT.CACHE_DAMAGED,
  CACHE_DAMAGED: EXIT.CACHE_DAMAGED,
  INCOMPLETE: EXIT.CACHE_DAMAGED,
  PARTIAL_FAILURE: EXIT.FAILED,
  COMMAND_FAILED: EXIT.FAILED,
  UNSUPPORTED_PLATFORM: EXIT.USAGE,
  INTERRUPTED: EXIT.INTERRUPTED,
  INTERNAL: EXIT.INTERNAL,
} as const satisfies Record<string, ExitCode>;

export type ErrorCode = keyof typeof EXIT_CODES;

/**
 * Refusals that hold for every file of a repo, not for one file: a gated repo, a missing or rejected
 * token, a repo that does not exist or is disabled. Once one file gets one, a snapshot stops asking
 * for the others, and the run reports it once, as one sentence about the repo.
 */
export const REPO_WIDE_CODES: ReadonlySet<string> = new Set<ErrorCode>(['GATED_REPO', 'TOKEN_MISSING', 'TOKEN_INVALID', 'REPO_NOT_FOUND', 'REPO_DISABLED']);

export interface MlcacheErrorOptions {
  /** One line: what the user should do next. */
  hint?: string;
  cause?: unknown;
  /** Structured details for --json output (never secrets). */
  details?: Record<string, unknown>;
}

export class MlcacheError extends Error {
  override readonly name: string = 'MlcacheError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: MlcacheErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  get exitCode(): ExitCode {
    return EXIT_CODES[this.code];
  }
}

/** A failed HTTP exchange with the Hub or a CDN. `url` never carries a token (see redactUrl). */
export class HubHttpError extends MlcacheError {
  override readonly name = 'HubHttpError';
  readonly status: number;
  readonly url: string;
  readonly requestId: string | undefined;
  /** Seconds to wait before retrying, from Retry-After or the RateLimit header. */
  readonly retryAfter: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    fields: { status: number; url: string; requestId?: string | undefined; retryAfter?: number | undefined },
    options: MlcacheErrorOptions = {},
  ) {
    super(code, message, options);
    this.status = fields.status;
    this.url = fields.url;
    this.requestId = fields.requestId;
    this.retryAfter = fields.retryAfter;
  }
}

/** Bytes that do not hash to what the Hub declared. */
export class IntegrityError extends MlcacheError {
  override readonly name = 'IntegrityError';
  readonly expected: string;
  readonly actual: string;
  readonly algorithm: DigestAlgorithm;

  constructor(
    message: string,
    fields: { expected: string; actual: string; algorithm: DigestAlgorithm },
    options: MlcacheErrorOptions = {},
  ) {
    super('INTEGRITY', message, options);
    this.expected = fields.expected;
    this.actual = fields.actual;
    this.algorithm = fields.algorithm;
  }
}

/** A connection-level failure, classified by its error code (never by message). */
export class NetworkError extends MlcacheError {
  override readonly name = 'NetworkError';
  /** The system or undici error code, e.g. ECONNRESET, UND_ERR_SOCKET. */
  readonly systemCode: string | undefined;
  readonly host: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    fields: { systemCode?: string | undefined; host?: string | undefined },
    options: MlcacheErrorOptions = {},
  ) {
    super(code, message, options);
    this.systemCode = fields.systemCode;
    this.host = fields.host;
  }
}

export function isMlcacheError(error: unknown): error is MlcacheError {
  return error instanceof MlcacheError;
}

/** Shorthand for usage errors, which always point at --help. */
export function usageError(message: string, hint = 'Run `mlcache --help` for usage.'): MlcacheError {
  return new MlcacheError('USAGE', message, { hint });
}
