/**
 * The Hub emulator's state, in one object every part takes explicitly: the options it was started
 * with, the fixture repos, the LFS blobs the CDN may serve, the fault engine, the bandwidth buckets,
 * the request statistics and the two origins' URLs. Also the per-request context the routes share.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type http from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { ContentSource } from './content.js';
import { FaultEngine, type Origin, type TokenBucket } from './faults.js';
import { buildRepo, type StoredRepo } from './repo-store.js';
import type { EmulatorStats, HubEmulatorOptions, RecordedRequest, RepoType } from './types.js';

export const DEFAULT_TOKEN = 'hf_emulator_valid_token_0000';
export const DEFAULT_PAGE_SIZE = 1000;
export const DEFAULT_CDN_TTL_SEC = 3600;

export interface EmulatorState {
  options: HubEmulatorOptions;
  /** Tree API page size (at least 1). */
  pageSize: number;
  /** Tokens accepted as valid (unless `acceptAnyToken`). */
  tokens: Set<string>;
  acceptAnyToken: boolean;
  engine: FaultEngine;
  /** Key of the CDN URL signatures (signing.ts). */
  secret: Buffer;
  /** Fixture repos by `repoKey(type, id)`. */
  repos: Map<string, StoredRepo>;
  /** LFS blobs the CDN can serve, registered when the hub first redirects to them. */
  blobs: Map<string, ContentSource>;
  stats: EmulatorStats;
  maxRecorded: number;
  /** Bandwidth buckets of the throttle faults (serve-content.ts). */
  perConnection: WeakMap<Socket, TokenBucket>;
  aggregate: TokenBucket | undefined;
  /** Aborted by close(): every request in flight stops waiting. */
  closing: AbortController;
  /** The origins, known once the servers listen (server.ts). */
  hubUrl: string;
  cdnUrl: string;
}

export function createEmulatorState(options: HubEmulatorOptions): EmulatorState {
  const repos = new Map<string, StoredRepo>();
  for (const fixture of options.repos) {
    const repo = buildRepo(fixture);
    repos.set(repoKey(repo.type, repo.id), repo);
  }
  const closing = new AbortController();
  // One listener per request in flight (the bench runs dozens at once): not a leak.
  setMaxListeners(0, closing.signal);
  return {
    options,
    pageSize: Math.max(1, options.pageSize ?? DEFAULT_PAGE_SIZE),
    tokens: new Set(options.tokens ?? [DEFAULT_TOKEN]),
    acceptAnyToken: options.acceptAnyToken ?? false,
    engine: new FaultEngine(options.faults),
    secret: randomBytes(32),
    repos,
    blobs: new Map(),
    stats: { bytesServed: 0, requestCount: 0, requests: [] },
    maxRecorded: options.maxRecordedRequests ?? Number.POSITIVE_INFINITY,
    perConnection: new WeakMap(),
    aggregate: undefined,
    closing,
    hubUrl: '',
    cdnUrl: '',
  };
}

/** One request on its way through the routes. */
export interface RequestContext {
  origin: Origin;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  record: RecordedRequest;
  /** Raw path as received, no query. */
  pathname: string;
  query: URLSearchParams;
  method: string;
  /** Aborted when the client goes away or the emulator closes. */
  signal: AbortSignal;
}

export function repoKey(type: RepoType, id: string): string {
  return `${type}:${id}`;
}

export function findRepo(state: EmulatorState, type: RepoType, id: string): StoredRepo | undefined {
  return state.repos.get(repoKey(type, id));
}

export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // Aborted: the client went away or the emulator is closing.
  }
}
