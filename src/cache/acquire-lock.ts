/**
 * Cross-process lock on `<cache>/.locks/<repo folder>/<etag>.lock` (the path huggingface_hub's
 * WeakFileLock uses), so two mlcache processes do not download the same blob twice.
 *
 * The cache's correctness NEVER depends on this lock: every writer uses a unique temp file and an
 * atomic rename (see util/atomic-write.ts, commit-blob.ts), exactly as huggingface_hub ≥ 1.18 does
 * since flock silently no-ops on Lustre/GPFS/some NFS (PR #4306). The lock only avoids wasted
 * bandwidth. In particular it does not exclude Python processes: they hold an flock (which Node
 * cannot take) on a file that filelock truncates and never deletes. Such an empty or
 * foreign-format file is therefore treated as free, or it would block mlcache forever.
 *
 * Protocol: the lock file holds JSON {pid, host, startedAt, nonce}. It is created atomically with
 * its content (hard link of a temp file, no-clobber; O_EXCL 'wx' where hard links are
 * unsupported). The holder refreshes the file's mtime every staleMs/3 (heartbeat). A waiter takes
 * over a lock whose owner is dead: same host → process.kill(pid, 0) says ESRCH, or the heartbeat is
 * older than staleMs (pid reuse); other host → heartbeat older than staleMs. Take-over writes a temp
 * file and renames it over the lock, waits a moment, then re-reads: last writer wins, losers go back
 * to waiting. Release deletes the file only if it still holds our nonce.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MlcacheError } from '../errors.js';
import { sleep } from '../util/net.js';
import { tempSibling } from '../util/atomic-write.js';
import { fsError } from '../util/fs-error.js';
import { makeDirectory } from './make-directory.js';

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO date when the holder acquired the lock. */
  startedAt: string;
  nonce: string;
}

export interface AcquireLockOptions {
  signal?: AbortSignal;
  /** Delay between two attempts while waiting. @default 250 */
  pollMs?: number;
  /** A heartbeat older than this marks the holder dead. @default 30000 */
  staleMs?: number;
  /** Give up with LOCK_TIMEOUT after this long. @default Infinity */
  timeoutMs?: number;
  /**
   * Called when we start waiting, and again when the holder changes. `undefined` for an
   * unreadable or foreign (e.g. Python filelock) lock file.
   */
  onWait?: (holder: LockHolder | undefined) => void;
}

export interface LockHandle {
  readonly path: string;
  readonly holder: LockHolder;
  /**
   * Someone else held the lock file when we first tried (we waited, or took over a dead owner's):
   * what it protects may have changed since the caller last looked.
   */
  readonly contended: boolean;
  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): Promise<void>;
}

/** An empty/foreign lock file younger than this may be one being written right now: wait. */
const FOREIGN_GRACE_MS = 2000;
const LOCK_MODE = 0o664; // huggingface_hub utils/_fixes.py::WeakFileLock(mode=0o664), group-writable

export async function acquireLock(lockPath: string, options: AcquireLockOptions = {}): Promise<LockHandle> {
  const pollMs = options.pollMs ?? 250;
  const staleMs = options.staleMs ?? 30_000;
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  const me: LockHolder = {
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date().toISOString(),
    nonce: randomBytes(8).toString('hex'),
  };
  const content = JSON.stringify(me);
  await makeDirectory(path.dirname(lockPath), `create the lock folder ${path.dirname(lockPath)}`);

  let lastReported: string | null = null;
  for (let tries = 0; ; tries++) {
    options.signal?.throwIfAborted();
    if (await createExclusive(lockPath, content)) return holdLock(lockPath, me, staleMs, tries > 0);

    const seen = await inspect(lockPath);
    if (seen !== undefined) {
      if (isStale(seen, me.host, staleMs) && (await takeOver(lockPath, content, me.nonce, seen.raw, pollMs))) {
        return holdLock(lockPath, me, staleMs, true);
      }
      const key = seen.holder?.nonce ?? 'foreign';
      if (key !== lastReported) {
        lastReported = key;
        options.onWait?.(seen.holder);
      }
    }
    if (Date.now() >= deadline) {
      throw new MlcacheError('LOCK_TIMEOUT', `Timed out waiting for the lock ${lockPath}.`, {
        hint: 'Another process is downloading the same file. Wait for it, or delete the lock file if no such process runs.',
        details: { lockPath, holder: seen?.holder },
      });
    }
    await sleep(pollMs, options.signal);
  }
}

interface SeenLock {
  raw: string;
  holder: LockHolder | undefined;
  mtimeMs: number;
}

/** Create the lock file with its content in one step; false if it already exists. */
async function createExclusive(lockPath: string, content: string): Promise<boolean> {
  const temp = tempSibling(lockPath);
  try {
    await fs.writeFile(temp, content, { flag: 'wx', mode: LOCK_MODE });
    await fs.chmod(temp, LOCK_MODE).catch(() => undefined); // the umask must not drop g+w
    try {
      await fs.link(temp, lockPath);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    }
    // No hard links on this filesystem: O_EXCL create (others see it empty for a moment, which
    // the FOREIGN_GRACE_MS rule tolerates).
    try {
      await fs.writeFile(lockPath, content, { flag: 'wx', mode: LOCK_MODE });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  } catch (error) {
    throw fsError(error, `create the lock file ${lockPath}`);
  } finally {
    await fs.rm(temp, { force: true }).catch(() => undefined);
  }
}

async function inspect(lockPath: string): Promise<SeenLock | undefined> {
  try {
    const [raw, st] = await Promise.all([fs.readFile(lockPath, 'utf8'), fs.stat(lockPath)]);
    return { raw, holder: parseHolder(raw), mtimeMs: st.mtimeMs };
  } catch {
    return undefined; // vanished between create and read: just retry
  }
}

export function parseHolder(raw: string): LockHolder | undefined {
  try {
    const v = JSON.parse(raw) as Partial<LockHolder> | null;
    if (
      v !== null && typeof v === 'object' &&
      typeof v.pid === 'number' && Number.isInteger(v.pid) && v.pid > 0 &&
      typeof v.host === 'string' && typeof v.nonce === 'string' && v.nonce !== '' &&
      typeof v.startedAt === 'string'
    ) {
      return { pid: v.pid, host: v.host, startedAt: v.startedAt, nonce: v.nonce };
    }
  } catch {
    // foreign format
  }
  return undefined;
}

function isStale(seen: SeenLock, myHost: string, staleMs: number): boolean {
  const age = Date.now() - seen.mtimeMs;
  if (seen.holder === undefined) return age > FOREIGN_GRACE_MS;
  if (age > staleMs) return true;
  return seen.holder.host === myHost && !isProcessAlive(seen.holder.pid);
}

/** Whether a pid is alive on this host (EPERM means alive, owned by another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function takeOver(lockPath: string, content: string, nonce: string, staleRaw: string, pollMs: number): Promise<boolean> {
  // Narrow the check-then-act window: only replace the exact content we judged stale.
  const now = await fs.readFile(lockPath, 'utf8').catch(() => undefined);
  if (now !== staleRaw) return false;
  const temp = tempSibling(lockPath);
  try {
    await fs.writeFile(temp, content, { flag: 'wx', mode: LOCK_MODE });
    await fs.chmod(temp, LOCK_MODE).catch(() => undefined);
    await fs.rename(temp, lockPath);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw fsError(error, `take over the lock file ${lockPath}`);
  }
  // Let a competing taker's rename land before we check who won.
  await sleep(Math.min(100, Math.max(10, pollMs)));
  const after = await fs.readFile(lockPath, 'utf8').catch(() => undefined);
  return after !== undefined && parseHolder(after)?.nonce === nonce;
}

function holdLock(lockPath: string, me: LockHolder, staleMs: number, contended: boolean): LockHandle {
  const beat = setInterval(() => {
    void heartbeat(lockPath, me.nonce);
  }, Math.max(50, Math.floor(staleMs / 3)));
  beat.unref();
  let released = false;
  return {
    path: lockPath,
    holder: me,
    contended,
    async release() {
      if (released) return;
      released = true;
      clearInterval(beat);
      const raw = await fs.readFile(lockPath, 'utf8').catch(() => undefined);
      if (raw !== undefined && parseHolder(raw)?.nonce === me.nonce) {
        await fs.rm(lockPath, { force: true }).catch(() => undefined);
      }
    },
  };
}

async function heartbeat(lockPath: string, nonce: string): Promise<void> {
  try {
    const raw = await fs.readFile(lockPath, 'utf8');
    if (parseHolder(raw)?.nonce !== nonce) return; // lost: do not refresh someone else's lock
    const now = new Date();
    await fs.utimes(lockPath, now, now);
  } catch {
    // best effort
  }
}
