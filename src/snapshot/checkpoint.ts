/**
 * Planning a million-file snapshot takes seconds of synchronous-looking loops: every SLICE items
 * they call a checkpoint, which lets the event loop run (a signal handler, the progress display)
 * and stops if the run was aborted.
 */
export type Checkpoint = () => Promise<void>;

/** Items between two checkpoints: a few milliseconds of work. */
export const SLICE = 16_384;

/**
 * Called every SLICE items of the per-file loops: let the event loop run (a signal handler, the
 * progress display) and stop if the run was aborted.
 */
export function checkpoint(signal: AbortSignal | undefined): Checkpoint {
  return async () => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
  };
}
