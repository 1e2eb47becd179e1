/**
 * The registry emulator's contract (docs/emulator.md, "The registry emulator"): a loopback OCI
 * registry for what the real one (Debian's docker-registry, run by the tests) does not exercise —
 * a separate token service with scopes and short expiry, Basic auth, 307s to another origin for
 * blob GETs, 416 on out-of-order chunks, dropped connections, lying blobs, size limits.
 */

export type RegistryAuthMode = 'none' | 'basic' | 'bearer';

/** A repository pattern: an exact name, or `prefix/*` for everything below, or `*`. */
export type RepositoryPattern = string;

export interface RegistryUser {
  password: string;
  /** Repositories this user may pull from. @default ['*'] */
  pull?: RepositoryPattern[];
  /** Repositories this user may push to. @default ['*'] */
  push?: RepositoryPattern[];
}

export interface RegistryEmulatorOptions {
  /** @default 'none' */
  auth?: RegistryAuthMode;
  /** User name → password and permissions (Basic, and Basic at the token service). */
  users?: Record<string, RegistryUser>;
  /** Repositories anyone may pull without credentials (bearer and basic modes). @default [] */
  anonymousPull?: RepositoryPattern[];
  /** Identity tokens (OAuth2 refresh tokens) → user name, accepted by the token service's POST. */
  identityTokens?: Record<string, string>;
  /** Static bearer tokens (`--registry-token`) → user name, accepted by the registry directly. */
  staticTokens?: Record<string, string>;
  /** `expires_in` of issued tokens, in seconds (fractions allowed). @default 60 */
  tokenLifetimeSec?: number;
  /**
   * How long issued tokens are really accepted, in seconds, when shorter than announced: the
   * client's cached token then meets a 401 (a token revoked or expired early). @default tokenLifetimeSec
   */
  tokenValidSec?: number;
  /** Field the token service answers with. @default 'token' */
  tokenField?: 'token' | 'access_token';
  /** `service` in the challenge. @default 'mlcache-registry-emulator' */
  service?: string;
  /** Blob GETs answer 307 to the storage origin (like a registry on S3/GCS). @default false */
  redirectBlobs?: boolean;
  /** A blob upload larger than this is refused with 413 (like a registry's layer limit). */
  maxLayerBytes?: number;
  /** Bind address. @default '127.0.0.1' */
  host?: string;
}

export type RegistryServerName = 'registry' | 'token' | 'storage';

export interface RecordedRegistryRequest {
  server: RegistryServerName;
  method: string;
  /** Path and query. */
  url: string;
  /** `Host` header as received. */
  host: string | undefined;
  hasAuthorization: boolean;
  /** `basic` / `bearer` / undefined. */
  authScheme: string | undefined;
  range: string | undefined;
  contentRange: string | undefined;
  status: number;
}

export interface RegistryFaults {
  /** Blob GET bodies (registry or storage) are cut after this many bytes, `times` times. */
  dropBlob?: { afterBytes: number; times: number } | undefined;
  /** PATCH/PUT upload bodies: the connection is destroyed after this many body bytes (those are kept). */
  dropUpload?: { afterBytes: number; times: number } | undefined;
  /** Blobs served with one byte flipped (their digest no longer matches). */
  lyingBlobs?: string[] | undefined;
  /**
   * After a PATCH, keep `bytes` fewer than were received but answer 202 as if all were stored: the
   * client's next chunk then arrives out of order and gets 416.
   */
  loseChunkTail?: { bytes: number; times: number } | undefined;
  /** Upload PATCH/PUT requests of this method are carried out, then the connection is cut instead of answering. */
  loseAnswer?: { method: 'PATCH' | 'PUT'; times: number } | undefined;
  /** Wait this long before answering each blob GET (registry or storage): a slow download. */
  blobDelayMs?: number | undefined;
  /** Answer `status` (with `Retry-After: 0` for 429/503) to requests whose method and path match. */
  status?: Array<{ method?: string | undefined; pathIncludes?: string | undefined; status: number; times: number }> | undefined;
}

export interface RegistryEmulator {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `127.0.0.1:<port>` (what goes after `oci://`). */
  readonly registry: string;
  /** The token service's origin (a separate server). */
  readonly tokenUrl: string;
  /** The storage origin blob GETs are redirected to (a separate server). */
  readonly storageUrl: string;
  /** Every request to the three servers, in order. */
  readonly requests: RecordedRegistryRequest[];
  /** Tokens the token service issued. */
  readonly tokensIssued: number;
  setFaults(faults: RegistryFaults): void;
  /** A blob's bytes as stored, or undefined. */
  blob(digest: string): Buffer | undefined;
  /** A manifest as stored under a tag or digest. */
  manifest(repository: string, reference: string): { bytes: Buffer; mediaType: string; digest: string } | undefined;
  /** Store a blob in a repository directly (no limits), returning its digest. */
  addBlob(repository: string, bytes: Buffer): string;
  /** Store a manifest directly (no 4 MiB limit: for the client's refusal to read one). */
  addManifest(repository: string, tag: string, bytes: Buffer, mediaType: string): string;
  /** Bytes stored so far in an open upload session (by its id), for tests. */
  uploadSize(id: string): number | undefined;
  resetRequests(): void;
  close(): Promise<void>;
}
