/**
 * Stall detection for one attempt: `onStall` fires when nothing arrived for `timeoutMs` while the
 * timer is armed. One timer per attempt, re-armed for the remaining idle time rather than reset on
 * every chunk (a chunk costs a timestamp, not a clearTimeout + setTimeout). Waiting on our own disk
 * or rate limit is not a stall: `pause()` stops the clock until the next `activity()`.
 */
export interface StallTimer {
  /** Data arrived (or reading resumed): the idle clock starts over and the timer runs. */
  activity(): void;
  /** We are holding the connection back ourselves: no stall until the next activity(). */
  pause(): void;
  /** The attempt ended. */
  stop(): void;
}

export function createStallTimer(timeoutMs: number, onStall: () => void, now: () => number = () => performance.now()): StallTimer {
  let timer: NodeJS.Timeout | undefined;
  let last = now();
  let paused = false;
  let stopped = false;
  const check = () => {
    timer = undefined;
    if (stopped || paused) return;
    const idle = now() - last;
    if (idle >= timeoutMs) {
      stopped = true;
      onStall();
    } else timer = setTimeout(check, timeoutMs - idle);
  };
  const clear = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  return {
    activity() {
      if (stopped) return;
      last = now();
      paused = false;
      timer ??= setTimeout(check, timeoutMs);
    },
    pause() {
      paused = true;
      clear();
    },
    stop() {
      stopped = true;
      clear();
    },
  };
}
