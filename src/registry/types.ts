/**
 * The OCI registry client's contract (OCI distribution-spec v1.1: manifests, blobs, uploads) and
 * what pull, push and cache-models need from it. The client knows nothing of ModelPack or the HF
 * cache: it moves manifests and blobs, with the auth flows of the container tools, and never sends
 * a credential to a host other than the registry (a 307 to storage is followed without one).
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { TransferItem } from '../download/types.js';

/** `oci://host[:port]/name[:tag][@sha256:…]` parsed. */
export interface ImageReference {
  /** `host[:port]` as written, lower-cased host. */
  registry: string;
  /** The repository name inside the registry (distribution-spec grammar, lower case). */
  repository: string;
  tag?: string | undefined;
  /** `sha256:<64 hex>`. */
  digest?: string | undefined;
}

/** What a credential store holds for one registry host (docker config.json / containers auth.json). */
export type RegistryCredentials =
  | { kind: 'basic'; username: string; password: string }
  /** `identitytoken`: exchanged for a bearer token as an OAuth2 refresh token. */
  | { kind: 'identity-token'; token: string }
  /** `--registry-token` / `registrytoken`: sent as `Authorization: Bearer` as is. */
  | { kind: 'bearer'; token: string };

export interface RegistryClientOptions {
  dispatcher: Dispatcher;
  /** `host[:port]`. */
  registry: string;
  /** Plain HTTP. Allowed only for a loopback host or a host named by --insecure-registry. */
  insecure?: boolean | undefined;
  credentials?: RegistryCredentials | undefined;
  userAgent?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Retries and other notes, rendered by the CLI like the engine's events. */
  onWarning?: ((message: string) => void) | undefined;
}

export interface ManifestResponse {
  /** `sha256:…` of `bytes` (verified against Docker-Content-Digest and a digest reference). */
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

/** Where a resumable upload stands, kept between runs (keyed by repository + digest). */
export interface UploadSessionStore {
  load(key: string): Promise<string | undefined>;
  save(key: string, uploadUrl: string): Promise<void>;
  remove(key: string): Promise<void>;
}

export interface BlobUpload {
  /** `sha256:…`; the registry checks it, and so does the client before the final PUT. */
  digest: string;
  size: number;
  /** The blob's bytes from `start` to the end (a file read stream). */
  open(start: number): Readable;
  /** Repositories of the same registry that may already hold the blob (cross-repo mount). */
  mountFrom?: readonly string[] | undefined;
  /** Upload in PATCH chunks of this size (0 or undefined: one monolithic PUT). */
  chunkSize?: number | undefined;
  sessions?: UploadSessionStore | undefined;
  onProgress?: ((bytesSent: number) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface UploadResult {
  /** How the blob got there: already present (HEAD), mounted, or uploaded (bytes sent this run). */
  outcome: 'exists' | 'mounted' | 'uploaded';
  bytesSent: number;
  /** Bytes an earlier run had already uploaded into a resumed session. */
  bytesResumed: number;
}

export interface RegistryClient {
  readonly registry: string;
  /** `https://host[:port]` or `http://…`. */
  readonly baseUrl: string;
  /** GET a manifest by tag or digest; MANIFEST_NOT_FOUND when absent; refuses more than 4 MiB. */
  getManifest(repository: string, reference: string): Promise<ManifestResponse>;
  /** HEAD a manifest: its digest, or undefined when absent. */
  headManifest(repository: string, reference: string): Promise<{ digest: string; mediaType: string; size: number } | undefined>;
  putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<{ digest: string }>;
  /** Size of a blob the registry holds, or undefined. */
  headBlob(repository: string, digest: string): Promise<{ size: number } | undefined>;
  /** A small blob (a config) read whole and verified; refuses more than `maxBytes`. */
  getBlob(repository: string, digest: string, maxBytes: number): Promise<Buffer>;
  /**
   * How the transfer engine GETs a blob: the registry URL with its Authorization first; on
   * 'expired' (a 3xx, 401 or 403 from the last attempt) the client refreshes its token and asks
   * where the blob is, and a redirect to another origin is returned without any credential.
   */
  blobSource(repository: string, digest: string): TransferItem['resolve'];
  uploadBlob(repository: string, upload: BlobUpload): Promise<UploadResult>;
  close(): Promise<void>;
}
