/**
 * One range until it is on disk or fails for good: take a connection slot, fetch, and after a
 * failed attempt do what `decideRetry` (pure, retry-decision.ts) says — back off, re-resolve the
 * URL, or give up. Every loop here is bounded: attempts and time for transient failures (real
 * progress starts the budget over; a server that trickles a few bytes and stalls does not), one
 * fresh URL for a lie or an expiry. Waits (slot, backoff) end at once when the item's signal aborts.
 */
import { NetworkError } from '../errors.js';
import { networkRetryLimit, sleep } from '../util/net.js';
import { AttemptError } from './fetch-range.js';
import type { PlannedRange } from './chunk-plan.js';
import type { ItemSource } from './item-source.js';
import { decideRetry, type RetryBudgetState } from './retry-decision.js';
import type { Semaphore } from '../util/semaphore.js';
import type { RetryPolicy, TransferSource } from './types.js';

const MiB = 1024 * 1024;
/** Bytes an attempt must add to a range for its retry budget to start over. */
const PROGRESS_RESETS_BUDGET = MiB;

export interface RangeState extends PlannedRange {
  /** Bytes of this range on disk, from `start`. */
  written: number;
  done: boolean;
}

export interface RangeRunnerContext {
  connectionSlots: Semaphore;
  source: ItemSource;
  policy: RetryPolicy;
  signal: AbortSignal;
  /** One attempt at [start + written, end) from `source` (fetchRange with the pass's callbacks). */
  attempt(range: RangeState, source: TransferSource): Promise<void>;
  onRetry(info: { attempt: number; delayMs: number; reason: string; range: PlannedRange }): void;
  now?: () => number;
}

export async function runRange(ctx: RangeRunnerContext, range: RangeState): Promise<void> {
  const { signal } = ctx;
  const now = ctx.now ?? Date.now;
  const budget: RetryBudgetState = { attempts: 0, since: now(), refreshedGeneration: undefined };
  let retrying = false;
  /** The previous attempt of this range closed before any announced byte. */
  let lastEmptyCut = false;
  while (!range.done) {
    signal.throwIfAborted();
    const release = await ctx.connectionSlots.acquire({ urgent: retrying || range.written > 0, signal });
    const writtenBefore = range.written;
    let failure: AttemptError | undefined;
    let generation = 0;
    try {
      const current = await ctx.source.current();
      generation = current.generation;
      await ctx.attempt(range, current.source);
      range.done = true;
    } catch (error) {
      if (!(error instanceof AttemptError)) throw error;
      failure = error;
    } finally {
      release();
    }
    if (!failure) {
      // The file is making progress: its one fresh URL for a lie or an expiry is available again
      // (a flaky server that sometimes misbehaves is not a server that always lies).
      ctx.source.refreshedGeneration = undefined;
      return;
    }
    signal.throwIfAborted();
    // The same range closed twice in a row before any announced byte: the same answer again.
    const kind = failure.emptyCut && lastEmptyCut ? 'lie' : failure.kind;
    lastEmptyCut = failure.emptyCut;
    // Real progress starts the budget over, for this range and for the item's fresh-URL allowance.
    // Bytes of an attempt that ended in a lie are no progress: a body that never ends, or one longer
    // than announced, writes the whole range before it is caught, every time.
    const progressed = range.written - writtenBefore;
    if (kind !== 'lie' && progressed >= Math.min(PROGRESS_RESETS_BUDGET, range.end - range.start - writtenBefore)) {
      budget.attempts = 0;
      budget.since = now();
      ctx.source.refreshedGeneration = undefined;
    }
    budget.refreshedGeneration = ctx.source.refreshedGeneration;
    // A refused connection, an unknown host or a failing proxy is usually permanent: a short budget.
    const policy = failure.error instanceof NetworkError ? { ...ctx.policy, maxRetries: networkRetryLimit(failure.error, ctx.policy.maxRetries) } : ctx.policy;
    const decision = decideRetry({ kind, retryAfterSeconds: failure.retryAfterSeconds, generation }, budget, policy, now());
    if (decision.action === 'fail') throw failure.error;
    retrying = true;
    if (decision.action === 'refresh') {
      const why = { lie: 'resolving the URL again for one fresh attempt', expired: 'the download URL expired, resolving it again', redirect: 'redirected, resolving the download URL' }[decision.why];
      ctx.onRetry({ attempt: 1, delayMs: 0, reason: `${failure.reason}: ${why}`, range });
      await ctx.source.refresh(generation);
      continue;
    }
    budget.attempts = decision.attempt;
    ctx.onRetry({ attempt: decision.attempt, delayMs: decision.delayMs, reason: failure.reason, range });
    await sleep(decision.delayMs, signal);
  }
}
