/**
 * One AbortController per request attempt or retry pause, each aborted when the caller's signal
 * (or an extra one, such as an upload's) aborts. Each outside signal gets ONE listener however many
 * attempts wait on it, present only while something waits: a listener per request on a run-wide
 * signal would trip Node's MaxListenersExceededWarning as soon as more than ten requests are in
 * flight (the download engine resolves up to 16 files at once), and costs O(n) per add when
 * thousands queue up. Shared by the Hub client (src/hub/hub-exchange.ts) and the registry client
 * (src/registry/registry-exchange.ts).
 */
import { MlcacheError } from '../errors.js';
import { sleep } from './backoff.js';

/** A controller for one attempt or pause. Call `done()` when the attempt ends. */
export type ScopedController = AbortController & { done(): void };

export interface AbortScope {
  /** The caller's signal, if any. */
  readonly signal: AbortSignal | undefined;
  /** What to throw once the caller's signal aborted: its reason, else INTERRUPTED. */
  reason(): unknown;
  /**
   * A controller aborted with the caller's signal (and with `extra`, when given). Throws the
   * reason at once when either signal already aborted.
   */
  begin(extra?: AbortSignal): ScopedController;
  /** Wait `ms`, stopping early (rejecting with the abort reason) when either signal aborts. */
  sleep(ms: number, extra?: AbortSignal): Promise<void>;
}

const interrupted = (): MlcacheError => new MlcacheError('INTERRUPTED', 'The operation was aborted.');

/** Controllers waiting on each outside signal, and that signal's one listener. */
const linked = new WeakMap<AbortSignal, { controllers: Set<AbortController>; onAbort: () => void }>();

function link(signal: AbortSignal, controller: AbortController): () => void {
  let entry = linked.get(signal);
  if (entry === undefined) {
    const controllers = new Set<AbortController>();
    const onAbort = () => {
      for (const c of controllers) c.abort(signal.reason ?? interrupted());
    };
    entry = { controllers, onAbort };
    linked.set(signal, entry);
  }
  const { controllers, onAbort } = entry;
  if (controllers.size === 0) signal.addEventListener('abort', onAbort);
  controllers.add(controller);
  return () => {
    if (!controllers.delete(controller)) return;
    if (controllers.size === 0) signal.removeEventListener('abort', onAbort);
  };
}

export function createAbortScope(signal: AbortSignal | undefined): AbortScope {
  const reason = (): unknown => signal?.reason ?? interrupted();
  const begin = (extra?: AbortSignal): ScopedController => {
    if (signal?.aborted) throw reason();
    if (extra?.aborted) throw extra.reason ?? interrupted();
    const controller = new AbortController() as ScopedController;
    const unlinks = [signal, extra === signal ? undefined : extra].filter((s): s is AbortSignal => s !== undefined).map((s) => link(s, controller));
    controller.done = () => {
      for (const unlink of unlinks) unlink();
    };
    return controller;
  };
  const pause = async (ms: number, extra?: AbortSignal): Promise<void> => {
    const controller = begin(extra);
    try {
      await sleep(ms, controller.signal);
    } finally {
      controller.done();
    }
  };
  return { signal, reason, begin, sleep: pause };
}
