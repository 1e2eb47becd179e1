/**
 * The registry emulator's state, in one object every part takes explicitly: the options with their
 * defaults, blobs and manifests in memory, open upload sessions, issued tokens, the recorded
 * requests, the faults and the three origins' URLs. Also the small answer helpers they share.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { RecordedRegistryRequest, RegistryAuthMode, RegistryEmulatorOptions, RegistryFaults, RegistryUser, RepositoryPattern } from './types.js';

/** A blob digest as the spec writes it. */
export const DIGEST = /^sha256:[0-9a-f]{64}$/;

export type Action = 'pull' | 'push';

export interface Upload {
  repository: string;
  chunks: Buffer[];
  size: number;
  state: number;
}

export interface IssuedToken {
  user: string | undefined;
  grants: Map<string, Set<string>>;
  expiresAt: number;
}

export interface StoredManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface Repository {
  blobs: Set<string>;
  manifests: Map<string, StoredManifest>;
}

export interface RegistryState {
  options: RegistryEmulatorOptions;
  mode: RegistryAuthMode;
  users: Record<string, RegistryUser>;
  anonymousPull: RepositoryPattern[];
  service: string;
  /** `expires_in` announced for issued tokens, in seconds. */
  lifetimeSec: number;
  /** How long issued tokens are really accepted, in seconds. */
  validSec: number;
  host: string;
  /** Blob bytes by digest (shared by all repositories; each repository lists the digests it holds). */
  blobs: Map<string, Buffer>;
  repositories: Map<string, Repository>;
  uploads: Map<string, Upload>;
  tokens: Map<string, IssuedToken>;
  requests: RecordedRegistryRequest[];
  faults: RegistryFaults;
  tokensIssued: number;
  /** The origins, known once the servers listen (server.ts). */
  registryUrl: string;
  tokenUrl: string;
  storageUrl: string;
}

export function createRegistryState(options: RegistryEmulatorOptions): RegistryState {
  const lifetimeSec = options.tokenLifetimeSec ?? 60;
  return {
    options,
    mode: options.auth ?? 'none',
    users: options.users ?? {},
    anonymousPull: options.anonymousPull ?? [],
    service: options.service ?? 'mlcache-registry-emulator',
    lifetimeSec,
    validSec: Math.min(lifetimeSec, options.tokenValidSec ?? lifetimeSec),
    host: options.host ?? '127.0.0.1',
    blobs: new Map(),
    repositories: new Map(),
    uploads: new Map(),
    tokens: new Map(),
    requests: [],
    faults: {},
    tokensIssued: 0,
    registryUrl: '',
    tokenUrl: '',
    storageUrl: '',
  };
}

/** The repository named `name`, created empty on first use. */
export function repositoryOf(state: RegistryState, name: string): Repository {
  let r = state.repositories.get(name);
  if (!r) {
    r = { blobs: new Set(), manifests: new Map() };
    state.repositories.set(name, r);
  }
  return r;
}

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The distribution spec's error body (spec.md "Error Codes"). */
export function errorBody(code: string, message: string): string {
  return JSON.stringify({ errors: [{ code, message, detail: null }] });
}

export function sendError(res: http.ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(errorBody(code, message));
}

/** The request body, or undefined when it is longer than `limit`. */
export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
