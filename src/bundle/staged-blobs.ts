/**
 * Which blobs of one import are staged (verified, in the staging folder) and who waits for them:
 * the snapshots are rebuilt while the bundle is still being read, so a delivery may ask for a layer
 * that has not arrived yet and waits for it; once the reading has ended, a blob that never came is
 * a bundle that lacks it. `used` is everything this run staged or found staged (removed when the
 * run ends on its own).
 */
import { MlcacheError } from '../errors.js';
import { bundleInvalid } from './layout.js';

interface Waiter {
  resolve: (file: string) => void;
  reject: (error: unknown) => void;
}

export class StagedBlobs {
  /** Digests of the blobs this run staged or found staged. */
  readonly used: Set<string>;
  private readonly ready: Map<string, string>;
  private readonly waiters = new Map<string, Waiter[]>();
  private ended = false;

  /** @param ready the verified blobs a killed run left (hex → file), as `sweepStaging` found them */
  constructor(ready: Map<string, string>) {
    this.ready = ready;
    this.used = new Set(ready.keys());
  }

  has(hex: string): boolean {
    return this.ready.has(hex);
  }

  /** The staged file of a blob, or undefined when it is not (yet) staged. */
  file(hex: string): string | undefined {
    return this.ready.get(hex);
  }

  /** A blob is staged: every delivery waiting for it goes on. */
  markReady(hex: string, file: string): void {
    this.ready.set(hex, file);
    this.used.add(hex);
    for (const w of this.waiters.get(hex) ?? []) w.resolve(file);
    this.waiters.delete(hex);
  }

  /** The staged file of a blob, waiting for it while the bundle is still being read. */
  whenReady(hex: string, what: string): Promise<string> {
    const file = this.ready.get(hex);
    if (file !== undefined) {
      this.used.add(hex);
      return Promise.resolve(file);
    }
    if (this.ended) return Promise.reject(missingBlob(hex, what));
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(hex) ?? [];
      list.push({ resolve, reject: (e) => reject(e instanceof MlcacheError ? e : missingBlob(hex, what)) });
      this.waiters.set(hex, list);
    });
  }

  /** The reading has ended: a blob asked for from now on and not staged is missing. */
  endOfInput(): void {
    this.ended = true;
  }

  /** Fail every delivery still waiting (the reading ended or failed). */
  rejectWaiting(labelOf: (hex: string) => string): void {
    for (const [hex, list] of this.waiters) for (const w of list) w.reject(missingBlob(hex, labelOf(hex)));
    this.waiters.clear();
  }
}

export function missingBlob(hex: string, what: string): MlcacheError {
  return bundleInvalid(`The bundle lacks blob sha256:${hex.slice(0, 12)}… (${what}).`, 'The bundle is incomplete (cut short, or exported without that file): export it again and copy it whole.');
}
