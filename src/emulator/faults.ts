/**
 * Fault injection: rule matching with `times` and seeded `probability`, and token-bucket
 * bandwidth caps. Rules are consumed in two phases: `delay`, `status` and `rate-limit` by any
 * matching request; body faults (`drop`, `corrupt`, `ignore-range`, `wrong-content-range`,
 * `wrong-length`, `wrong-total`, `short-body`, `stall`) only by responses that stream file content, so a rule aimed at a file's
 * path is not used up by the hub's 302 for that file.
 */
import type { FaultAction, FaultRule, Faults } from './types.js';
import { createTokenBucket, type TokenBucket as RateBucket } from '../util/token-bucket.js';

export type Origin = 'hub' | 'cdn';
export type BodyFaultKind = 'drop' | 'corrupt' | 'ignore-range' | 'wrong-content-range' | 'wrong-length' | 'wrong-total' | 'short-body' | 'stall';
export type PreFaultKind = 'delay' | 'status' | 'rate-limit';

const BODY_KINDS: ReadonlySet<string> = new Set<BodyFaultKind>(['drop', 'corrupt', 'ignore-range', 'wrong-content-range', 'wrong-length', 'wrong-total', 'short-body', 'stall']);

export function isBodyFault(action: FaultAction): boolean {
  return BODY_KINDS.has(action.kind);
}

/** mulberry32: a tiny seeded PRNG, enough for reproducible fault probabilities. */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function ruleMatches(rule: FaultRule, origin: Origin, method: string, pathname: string): boolean {
  const m = rule.match;
  if (!m) return true;
  if (m.origin && m.origin !== origin) return false;
  if (m.method && m.method.toUpperCase() !== method.toUpperCase()) return false;
  if (m.path !== undefined) {
    if (typeof m.path === 'string') return pathname.includes(m.path);
    m.path.lastIndex = 0;
    return m.path.test(pathname);
  }
  return true;
}

interface RuleState {
  rule: FaultRule;
  used: number;
}

/** The live fault configuration of one emulator. */
export class FaultEngine {
  private faults: Faults = {};
  private rules: RuleState[] = [];
  private rng: () => number = createRng(1);

  constructor(faults: Faults | undefined) {
    this.set(faults ?? {});
  }

  set(faults: Faults): void {
    this.faults = { ...faults };
    this.rules = (faults.rules ?? []).map((rule) => ({ rule, used: 0 }));
    this.rng = createRng(faults.seed ?? 1);
  }

  add(rule: FaultRule): void {
    this.rules.push({ rule, used: 0 });
  }

  get settings(): Readonly<Faults> {
    return this.faults;
  }

  /** Consume the matching rules of the given phase, in declaration order, and return their actions. */
  take(origin: Origin, method: string, pathname: string, phase: 'pre' | 'body'): FaultAction[] {
    const actions: FaultAction[] = [];
    for (const state of this.rules) {
      const { rule } = state;
      if (isBodyFault(rule.action) !== (phase === 'body')) continue;
      if (rule.times !== undefined && state.used >= rule.times) continue;
      if (!ruleMatches(rule, origin, method, pathname)) continue;
      if (rule.probability !== undefined && rule.probability < 1 && this.rng() >= rule.probability) continue;
      state.used++;
      actions.push(rule.action);
    }
    return actions;
  }
}

/**
 * A throttle for the emulator's writes, on util/token-bucket.ts with the caller's clock:
 * `reserve(n, nowMs)` books n bytes and returns how long to wait before sending them. It holds
 * `burstMs` worth of bytes and lets the same amount of debt through before anyone waits, so
 * timers stay coarse (the same as a GCRA "virtual finish time" with a `burstMs` tolerance).
 */
export class TokenBucket {
  private clock = 0;
  private readonly bucket: RateBucket;
  constructor(
    readonly bytesPerSec: number,
    private readonly burstMs = 20,
  ) {
    this.bucket = createTokenBucket(bytesPerSec, { burstBytes: (bytesPerSec * burstMs) / 1000, now: () => this.clock });
  }

  reserve(bytes: number, nowMs: number): number {
    this.clock = nowMs;
    return Math.max(0, this.bucket.reserve(bytes) - this.burstMs);
  }
}

/** Slice size so one throttled write lasts about 20 ms (bounded to 1 KiB – 64 KiB). */
export function throttleSliceSize(rates: Array<number | undefined>): number {
  const set = rates.filter((r): r is number => typeof r === 'number' && r > 0);
  if (set.length === 0) return Number.POSITIVE_INFINITY;
  return Math.max(1024, Math.min(64 * 1024, Math.floor(Math.min(...set) / 50)));
}

/** The `RateLimit` bucket the Hub would name for this path (hub-docs rate-limits.md). */
export function rateLimitBucket(pathname: string): 'resolvers' | 'api' | 'pages' {
  if (pathname.includes('/resolve/')) return 'resolvers';
  if (pathname.startsWith('/api/')) return 'api';
  return 'pages';
}
