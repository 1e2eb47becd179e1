/** Deleting what a prune or rm plan chose: the thin I/O edge. One failure never stops the rest. */
import fs from 'node:fs/promises';
import { pathExists } from '../util/path-exists.js';

export interface RemovalTarget {
  path: string;
  /** Bytes this deletion frees (from the plan). */
  bytes: number;
}

export interface RemovalOutcome {
  /** Paths deleted (that existed). */
  removed: string[];
  bytesFreed: number;
  failed: Array<{ path: string; message: string }>;
}

export async function removeTargets(targets: readonly RemovalTarget[]): Promise<RemovalOutcome> {
  const removed: string[] = [];
  const failed: RemovalOutcome['failed'] = [];
  let bytesFreed = 0;
  for (const t of targets) {
    if (!(await pathExists(t.path))) continue;
    try {
      await fs.rm(t.path, { recursive: true, force: true });
      removed.push(t.path);
      bytesFreed += t.bytes;
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      failed.push({ path: t.path, message: `${e.code ?? 'error'}: ${e.message}` });
    }
  }
  return { removed, bytesFreed, failed };
}
