/**
 * Where one item's bytes come from: its resolved URL, resolved once (single-flight) and again when
 * it expires, redirects, or lies. Each resolve bumps `generation`, so a range that failed on an old
 * URL does not trigger a second refresh that another range already did, and a failure on the URL a
 * refresh produced is recognised as "the same answer after a fresh URL" (retry-decision.ts).
 *
 * The initial resolve can start ahead of the item's first connection (`prefetch`), bounded by the
 * engine's resolve slots: the round trip (a HEAD on the Hub for LFS files) then overlaps other
 * items' transfers instead of occupying a connection.
 */
import type { Semaphore } from '../util/semaphore.js';
import type { TransferItem, TransferSource } from './types.js';

/** Refresh a signed URL this long before its announced expiry. */
const EXPIRY_SKEW_MS = 5_000;

export interface ItemSource {
  /** Start the initial resolve now (at most the slots' limit at once); a failure is kept for `current`. */
  prefetch(): void;
  /** The URL to use now (resolving it, or again when it is about to expire) and its generation. */
  current(): Promise<{ source: TransferSource; generation: number }>;
  /** `generation` failed: resolve again unless another range already did. */
  refresh(generation: number): Promise<void>;
  /** The generation the last refresh produced (undefined: none since the budget last started over). */
  refreshedGeneration: number | undefined;
}

export function createItemSource(item: TransferItem, resolveSlots: Semaphore): ItemSource {
  let source: TransferSource | undefined;
  let generation = 0;
  let resolving: Promise<void> | undefined;
  let initial: Promise<void> | undefined;

  const resolve = (reason: 'initial' | 'expired', seen: number, afterFailure = false): Promise<void> => {
    if (source && generation !== seen) return Promise.resolve(); // someone already did it
    resolving ??= (async () => {
      try {
        source = await item.resolve(reason);
        generation++;
        // A refresh after a failed attempt spends the item's one fresh URL; renewing a URL that is
        // about to expire (long downloads) does not.
        if (afterFailure) self.refreshedGeneration = generation;
      } finally {
        resolving = undefined;
      }
    })();
    return resolving;
  };

  const self: ItemSource = {
    refreshedGeneration: undefined,
    prefetch() {
      if (source || initial) return;
      initial = (async () => {
        const release = await resolveSlots.acquire();
        try {
          if (!source) await resolve('initial', generation);
        } finally {
          release();
        }
      })();
      initial.catch(() => undefined); // observed by current()
    },
    async current() {
      if (!source && initial) await initial;
      if (!source) await resolve('initial', generation);
      if (source!.expiresAt !== undefined && Date.now() >= source!.expiresAt - EXPIRY_SKEW_MS) await resolve('expired', generation);
      return { source: source!, generation };
    },
    refresh(seen) {
      return resolve('expired', seen, true);
    },
  };
  return self;
}
