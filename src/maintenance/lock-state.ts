/**
 * Who holds the `.locks/<repo folder>/<etag>.lock` files, judged with the cache module's lock
 * protocol (src/cache/acquire-lock.ts): JSON {pid, host, startedAt, nonce} plus an mtime heartbeat
 * every staleMs/3. A Python filelock file is empty and never deleted, so it proves nothing
 * ('foreign'): the caller falls back to recency.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isProcessAlive, parseHolder, type LockHolder } from '../cache/index.js';
import { lockKey, type LockState } from './prune-plan.js';

export interface LockJudgeOptions {
  now: number;
  host: string;
  /** The cache module's default heartbeat staleness. @default 30000 */
  staleMs?: number;
  isAlive: (pid: number) => boolean;
}

/** Pure: the state of one lock file from its parsed holder and mtime. */
export function lockStateOf(holder: LockHolder | undefined, mtimeMs: number, options: LockJudgeOptions): LockState {
  if (holder === undefined) return 'foreign';
  const staleMs = options.staleMs ?? 30_000;
  if (options.now - mtimeMs > staleMs) return 'dead'; // no heartbeat: the holder stopped (or the pid was reused)
  if (holder.host === options.host) return options.isAlive(holder.pid) ? 'live' : 'dead';
  return 'live'; // another host with a fresh heartbeat
}

/** Lock states of every `<etag>.lock` under `<cacheDir>/.locks/`, keyed `<folder>/<etag>`. */
export async function readLockStates(cacheDir: string, now = Date.now()): Promise<Map<string, LockState>> {
  const out = new Map<string, LockState>();
  const root = path.join(cacheDir, '.locks');
  const folders = await fs.readdir(root).catch(() => [] as string[]);
  const host = os.hostname();
  for (const folder of folders) {
    const names = await fs.readdir(path.join(root, folder)).catch(() => [] as string[]);
    for (const name of names) {
      if (!name.endsWith('.lock')) continue;
      const file = path.join(root, folder, name);
      try {
        const [raw, st] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
        out.set(lockKey(folder, name.slice(0, -'.lock'.length)), lockStateOf(parseHolder(raw), st.mtimeMs, { now, host, isAlive: isProcessAlive }));
      } catch {
        // vanished while reading: released
      }
    }
  }
  return out;
}
