/**
 * The transfer engine's contract. The engine knows nothing of the Hub or the cache layout: callers
 * give it items (a size, an expected digest, a way to resolve a URL, a destination path) and it
 * delivers verified files at their destinations by atomic rename, emitting events as it goes.
 */
import type { Dispatcher } from 'undici';
import type { DigestAlgorithm } from '../util/digest-algorithm.js';

export type { DigestAlgorithm } from '../util/digest-algorithm.js';

export interface Digest {
  algorithm: DigestAlgorithm;
  /** Lower-case hex. */
  hex: string;
}

/** Where to GET the bytes: the final URL (after redirects) and the headers to send to it. */
export interface TransferSource {
  url: string;
  /** Headers for this URL. Never carries Authorization unless `url` is on the Hub's own origin. */
  headers: Record<string, string>;
  /** Epoch ms after which the URL is no longer valid (from X-Amz-Expires), if known. */
  expiresAt?: number | undefined;
  /**
   * A 401 means the credential in `headers` expired (a registry's short-lived bearer token), not
   * that access is refused: resolve again (once per refresh allowance) instead of failing.
   */
  refreshOnUnauthorized?: boolean | undefined;
}

export interface TransferItem {
  /** Stable identity for events and de-duplication (e.g. the destination path). */
  id: string;
  /** What a person sees: e.g. `org/name: model.safetensors`. */
  label: string;
  /** Group for summaries (e.g. the repo id). */
  group?: string | undefined;
  size: number;
  digest: Digest;
  /**
   * Resolve the URL to download from. Called once per item, and again with 'expired' when the
   * CDN answers 403/410 or the URL's expiry has passed (including when resuming hours later).
   */
  resolve(reason: 'initial' | 'expired'): Promise<TransferSource>;
  /** Final path. Partial data never sits here: it appears only complete and verified. */
  destination: string;
  /**
   * Optional cross-process lock path (e.g. `<cache>/.locks/<repo>/<etag>.lock`). When set, the
   * engine holds it while downloading this item; a lock whose owner is dead is taken over.
   */
  lockPath?: string | undefined;
}

export interface RetryPolicy {
  /** Attempts per range/request after the first (default 8). */
  maxRetries: number;
  /** Base delay in ms for exponential backoff (default 500). */
  baseDelayMs: number;
  /** Cap for one backoff delay in ms (default 30000). */
  maxDelayMs: number;
  /**
   * Time budget in ms for one range's retries since its last real progress (default 300000): a
   * retry whose delay would end past it fails the file instead. Attempts and time both bound a
   * retry loop; whichever runs out first ends it.
   */
  maxElapsedMs: number;
}

export interface TransferEngineOptions {
  dispatcher: Dispatcher;
  /** Global connection budget shared by every item (default 16). */
  connections?: number;
  /** Global rate cap in bytes/s (default: none). */
  maxRate?: number | undefined;
  /** Files at or above this size are split into ranges (default 64 MiB). */
  chunkThreshold?: number;
  /** Range size for chunked files (default 16 MiB). */
  chunkSize?: number;
  /**
   * Range size for the last `connections × chunkSize` bytes of a chunked file (default
   * chunkSize / 4, at least 1 MiB; equal to chunkSize: no smaller tail ranges).
   */
  tailChunkSize?: number;
  retry?: Partial<RetryPolicy>;
  /** No bytes on a connection for this long → abort that range and retry it (default 30 s). */
  stallTimeoutMs?: number;
  /** Emitted from the engine; the CLI renders them. Must not throw. */
  onEvent?: (event: TransferEvent) => void;
  signal?: AbortSignal;
  /**
   * Cross-process lock used when an item has `lockPath` (src/cache provides the real one; a lock
   * whose owner is dead must be taken over). `onWait` is called once if the lock is busy. Without
   * it, items are downloaded unlocked: correctness rests on unique temp names + atomic rename.
   */
  acquireLock?: (lockPath: string, options: { signal?: AbortSignal; onWait?: () => void }) => Promise<{ release(): Promise<void> }>;
}

export interface TransferResult {
  id: string;
  destination: string;
  /** Bytes transferred over the network in this run for this item. */
  bytesTransferred: number;
  /** Bytes reused from an earlier run's partial download. */
  bytesResumed: number;
  /** True if another process delivered the file while we waited for its lock. */
  deliveredByOther: boolean;
  retries: number;
  durationMs: number;
}

export interface TransferEngine {
  /** Schedule an item; resolves when it is at its destination, rejects with a typed error. */
  download(item: TransferItem): Promise<TransferResult>;
  /** Totals so far. */
  readonly totals: TransferTotals;
  /** Release pools and timers (does not close the injected dispatcher). */
  close(): Promise<void>;
}

export interface TransferTotals {
  filesQueued: number;
  filesDone: number;
  filesFailed: number;
  bytesTotal: number;
  bytesDone: number;
  bytesTransferred: number;
  retries: number;
}

/** Events: one JSON object per line with --json (schema in docs/download.md). */
export type TransferEvent =
  | { type: 'file-queued'; id: string; label: string; group?: string | undefined; size: number }
  | { type: 'file-started'; id: string; label: string; size: number; resumedBytes: number; chunks: number }
  | { type: 'file-progress'; id: string; bytesDone: number; size: number }
  | {
      type: 'retry';
      id: string;
      label: string;
      attempt: number;
      delayMs: number;
      reason: string;
      range?: { start: number; end: number } | undefined;
    }
  | { type: 'waiting-for-lock'; id: string; label: string; lockPath: string }
  | { type: 'warning'; id?: string | undefined; message: string }
  | { type: 'file-done'; id: string; label: string; size: number; bytesTransferred: number; durationMs: number }
  | { type: 'file-failed'; id: string; label: string; code: string; message: string }
  | { type: 'totals'; totals: TransferTotals; bytesPerSecond: number; elapsedMs: number };
