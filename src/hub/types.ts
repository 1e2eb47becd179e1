/** The Hub client's contract: what the rest of mlcache sees of the Hub. */
import type { Dispatcher } from 'undici';

export type RepoType = 'model' | 'dataset' | 'space';

export interface RepoRef {
  /** `org/name` or a bare `name` (legacy models such as `gpt2`). */
  id: string;
  type: RepoType;
}

export interface RevisionInfo {
  /** 40-hex commit the revision points at. */
  commit: string;
  gated: false | 'auto' | 'manual';
  private: boolean;
}

export interface RepoFile {
  /** Path inside the repo, `/`-separated (untrusted: validate before using as a file path). */
  path: string;
  size: number;
  /** git blob sha1 (of the pointer, for LFS files). */
  oid: string;
  /** Present for LFS files: sha256 of the real content and its size. */
  lfs?: { oid: string; size: number } | undefined;
  xetHash?: string | undefined;
}

export interface ResolvedFile {
  /** Download URL: the Hub's resolve URL, or the Location of its redirect to the CDN (LFS files). */
  url: string;
  /** Headers to send to `url`: Authorization only when it is the Hub's own origin. */
  headers: Record<string, string>;
  commit: string | undefined;
  /** Normalized etag (sha256 for LFS, git sha1 otherwise). */
  etag: string | undefined;
  size: number | undefined;
  /** Epoch ms when a signed URL expires (from X-Amz-Expires + X-Amz-Date, or Expires). */
  expiresAt: number | undefined;
}

/** A URL on the Hub's own origin and the headers (Authorization included) to GET it with. */
export interface DirectSource {
  url: string;
  headers: Record<string, string>;
}

export interface HubClientOptions {
  /** Hub origin without trailing slash, e.g. https://huggingface.co */
  endpoint: string;
  token?: string | undefined;
  dispatcher: Dispatcher;
  userAgent?: string;
  /** Retries for API calls on 5xx/429/network errors (default 5). */
  maxRetries?: number;
  /** Base backoff delay in ms (default 1000; tests pass small values). */
  baseDelayMs?: number;
  /** Per-request timeout for API calls in ms (default 30000). */
  timeoutMs?: number;
  /** Cap on one exponential backoff delay in ms (default 8000). */
  maxBackoffMs?: number;
  /** Longest Retry-After/RateLimit wait honoured on a 429, in seconds (default 300); longer fails with RATE_LIMITED. */
  maxRetryAfterSec?: number;
  /** Called on each retry (for --verbose and JSON output). */
  onRetry?: (info: { url: string; attempt: number; delayMs: number; reason: string }) => void;
  signal?: AbortSignal;
}

export interface WhoAmI {
  name: string;
  type?: string | undefined;
}

export interface HubClient {
  readonly endpoint: string;
  readonly hasToken: boolean;
  /** `/api/{type}s/{id}/revision/{rev}` → commit. Skips the call when `revision` is already 40 hex. */
  resolveRevision(repo: RepoRef, revision: string): Promise<RevisionInfo>;
  /**
   * One revision call with `?blobs=true`: the commit and its files (path, size, blob id, LFS
   * sha256) from the siblings, without a tree listing. `files` is undefined when the endpoint
   * leaves the blob facts out. (`mlcache outdated`.)
   */
  revisionFiles(repo: RepoRef, revision: string): Promise<{ commit: string; files: RepoFile[] | undefined }>;
  /** Every file at `commit` (recursive tree listing, following `Link: rel="next"`). */
  listFiles(repo: RepoRef, commit: string): Promise<RepoFile[]>;
  /** The resolve URL of a file at a commit (before redirects). */
  resolveUrl(repo: RepoRef, commit: string, path: string): string;
  /**
   * HEAD the resolve URL, following same-origin redirects (repo renames) and stopping at the first
   * redirect to another origin (the CDN) without requesting it: its Location is the URL, the Hub's
   * X-Linked-* headers the metadata. Authorization only in `headers` of a Hub-origin URL.
   */
  resolveFile(repo: RepoRef, commit: string, path: string): Promise<ResolvedFile>;
  /**
   * The resolve URL and the headers for a GET on it, without asking the Hub first (regular git
   * files are served by the Hub itself). Carries Authorization (the URL is on the Hub's origin),
   * so a 3xx answer must never be followed with these headers: call `resolveFile` instead.
   */
  directFileSource(repo: RepoRef, commit: string, path: string): DirectSource;
  /** `/api/whoami-v2`: validates the token. */
  whoami(): Promise<WhoAmI>;
}
