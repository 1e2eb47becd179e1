/**
 * sha256 and git blob sha1 of fixture content. Generated files are hashed lazily, at most once per
 * (generator, seed, size) per process, and the result is memoised in
 * `os.tmpdir()/mlcache-emulator-digests-v1.json` so a 1.5 GB fixture costs its hashing time once per
 * machine, not at every test start. The memo is advisory: a missing or unreadable file only costs time.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { atomicReplaceFile } from '../util/atomic-write.js';
import { GENERATOR_VERSION, readAll, readRange, type ContentSource } from './content.js';

export interface ContentDigest {
  sha256: string;
  /** sha1("blob <len>\0" + data), huggingface_hub utils/sha.py::git_hash. */
  gitSha1: string;
}

const MEMO_FILE = path.join(os.tmpdir(), 'mlcache-emulator-digests-v1.json');
/** Below this, hashing is cheaper than touching the memo file. */
const PERSIST_MIN_SIZE = 4 * 1024 * 1024;
/** Yield to the event loop this often while hashing, so servers stay responsive. */
const YIELD_EVERY = 16 * 1024 * 1024;

const inFlight = new Map<string, Promise<ContentDigest>>();
let persisted: Record<string, ContentDigest> | undefined;

export function gitBlobSha1(data: Buffer | string): string {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export function digestBytes(bytes: Buffer): ContentDigest {
  return { sha256: createHash('sha256').update(bytes).digest('hex'), gitSha1: gitBlobSha1(bytes) };
}

function memoKey(seed: number, size: number): string {
  return `${GENERATOR_VERSION}:${seed}:${size}`;
}

function loadMemo(): Record<string, ContentDigest> {
  if (persisted) return persisted;
  try {
    const parsed: unknown = JSON.parse(readFileSync(MEMO_FILE, 'utf8'));
    persisted = parsed && typeof parsed === 'object' ? (parsed as Record<string, ContentDigest>) : {};
  } catch {
    persisted = {};
  }
  return persisted;
}

async function saveMemo(key: string, digest: ContentDigest): Promise<void> {
  // Re-read and merge so parallel test workers don't erase each other's entries; write atomically.
  persisted = undefined;
  const memo = { ...loadMemo(), [key]: digest };
  persisted = memo;
  try {
    await atomicReplaceFile(MEMO_FILE, JSON.stringify(memo));
  } catch {
    // Advisory cache only.
  }
}

async function hashGenerated(source: Extract<ContentSource, { kind: 'generated' }>): Promise<ContentDigest> {
  const sha256 = createHash('sha256');
  const sha1 = createHash('sha1').update(`blob ${source.size}\0`);
  let sinceYield = 0;
  for (const chunk of readRange(source, 0, source.size)) {
    sha256.update(chunk);
    sha1.update(chunk);
    sinceYield += chunk.length;
    if (sinceYield >= YIELD_EVERY) {
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return { sha256: sha256.digest('hex'), gitSha1: sha1.digest('hex') };
}

/** Digests of a content source (memoised for generated content). */
export function digestOfSource(source: ContentSource): Promise<ContentDigest> {
  if (source.kind === 'literal') return Promise.resolve(digestBytes(source.bytes));
  const key = memoKey(source.seed, source.size);
  const running = inFlight.get(key);
  if (running) return running;
  const known = source.size >= PERSIST_MIN_SIZE ? loadMemo()[key] : undefined;
  if (known && typeof known.sha256 === 'string' && typeof known.gitSha1 === 'string') {
    const ready = Promise.resolve(known);
    inFlight.set(key, ready);
    return ready;
  }
  const computed = hashGenerated(source).then(async (digest) => {
    if (source.size >= PERSIST_MIN_SIZE) await saveMemo(key, digest);
    return digest;
  });
  inFlight.set(key, computed);
  computed.catch(() => inFlight.delete(key));
  return computed;
}

/** Exposed for tests that compare against an independent computation. */
export function digestOfSourceUncached(source: ContentSource): ContentDigest {
  return digestBytes(readAll(source));
}
