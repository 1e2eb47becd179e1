/**
 * Renders transfer events (src/download/types.ts) for a person or a program:
 * - tty: cli-progress bars, one overall (bytes, rate, ETA) plus the active files (at most 6);
 * - plain (not a TTY: CI logs): one line every ~5 s, plus failures and retries (each file's first
 *   retry for a given reason; every retry with --verbose);
 * - json: one JSON object per event per line (NDJSON, schema in docs/download.md), redacted;
 * - quiet: nothing.
 * The engine never prints; this is the only place transfer progress becomes text.
 */
import cliProgress from 'cli-progress';
import type { TransferEvent, TransferTotals } from '../../download/types.js';
import { formatBytes } from '../../util/bytes.js';
import { redact } from '../../util/redact.js';
import { REPO_WIDE_CODES } from '../../errors.js';
import { createRateMeter, etaSeconds, formatEta, formatRate, percent, plainProgressLine, truncateLabel } from './progress-format.js';

export interface ProgressRendererOptions {
  mode: 'tty' | 'plain' | 'json' | 'quiet';
  stream: NodeJS.WritableStream;
  verbose?: boolean;
  /** Plain mode: seconds between progress lines. @default 5 */
  plainIntervalMs?: number;
  /** TTY mode: file bars shown at once. @default 6 */
  maxFileBars?: number;
}

export interface ProgressRenderer {
  onEvent(event: TransferEvent): void;
  /** A line for the person, printed above the bars (or as is in plain mode). */
  log(line: string): void;
  finish(): void;
}

/** Deep-redact every string in an event (labels, messages, URLs in messages). */
function redactEvent(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map(redactEvent);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactEvent(v)]));
  return value;
}

type RetryEvent = Extract<TransferEvent, { type: 'retry' }>;

function retryLine(event: RetryEvent): string {
  const wait = event.delayMs > 0 ? ` in ${(event.delayMs / 1000).toFixed(1)}s` : ' now';
  return `retry ${event.attempt}${wait}: ${event.label}: ${event.reason}`;
}

/**
 * Retries are shown, so a slow run says why it is slow; without --verbose only a file's first retry
 * for each reason (a flaky CDN retrying 16 ranges would otherwise flood a CI log).
 */
function retryFilter(verbose: boolean): (event: RetryEvent) => boolean {
  const seen = new Set<string>();
  return (event) => {
    if (verbose) return true;
    const key = `${event.id}\u0000${event.reason.replace(/\d+/g, '#')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
}

/**
 * File failures that are not said per file: a refusal of the whole repo (gated, no token …) and an
 * interruption (Ctrl-C, SIGTERM) are the command's one error, not one line per file in flight.
 */
function silentFailure(code: string): boolean {
  return REPO_WIDE_CODES.has(code) || code === 'INTERRUPTED';
}

/** The run's last line, in every human mode: the totals as they ended. Pure. */
export function finalLine(t: TransferTotals): string {
  return `[${String(percent(t.bytesDone, t.bytesTotal)).padStart(3, ' ')}%] ${formatBytes(t.bytesDone)} / ${formatBytes(t.bytesTotal)}  files ${t.filesDone}/${t.filesQueued}${t.filesFailed ? ` (${t.filesFailed} failed)` : ''}`;
}

export function createProgressRenderer(options: ProgressRendererOptions): ProgressRenderer {
  switch (options.mode) {
    case 'json':
      return {
        onEvent: (event) => {
          options.stream.write(`${JSON.stringify({ ...(redactEvent(event) as object), time: new Date().toISOString() })}\n`);
        },
        log: () => undefined,
        finish: () => undefined,
      };
    case 'quiet':
      return { onEvent: () => undefined, log: () => undefined, finish: () => undefined };
    case 'plain':
      return createPlainRenderer(options);
    case 'tty':
      return createTtyRenderer(options);
  }
}

function createPlainRenderer(options: ProgressRendererOptions): ProgressRenderer {
  const shouldShowRetry = retryFilter(options.verbose ?? false);
  const interval = options.plainIntervalMs ?? 5000;
  const write = (line: string) => options.stream.write(`${redact(line)}\n`);
  const meter = createRateMeter();
  let last: TransferTotals | undefined;
  let lastPrintAt = Date.now();
  let printedFinal = false;
  return {
    onEvent(event) {
      switch (event.type) {
        case 'totals': {
          last = event.totals;
          const now = Date.now();
          meter.sample(event.totals.bytesTransferred, now);
          if (now - lastPrintAt >= interval && event.totals.bytesDone < event.totals.bytesTotal) {
            lastPrintAt = now;
            write(plainProgressLine(event.totals, meter.rate));
          }
          break;
        }
        case 'file-failed':
          if (!silentFailure(event.code)) write(`failed: ${event.label}: ${event.message}`);
          break;
        case 'warning':
          write(`warning: ${event.message}`);
          break;
        case 'retry':
          if (shouldShowRetry(event)) write(retryLine(event));
          break;
        case 'waiting-for-lock':
          write(`waiting for another process to finish ${event.label} (${event.lockPath})`);
          break;
        case 'file-done':
          if (options.verbose) write(`done: ${event.label} (${formatBytes(event.size)})`);
          break;
        default:
          break;
      }
    },
    log: write,
    finish() {
      if (last && !printedFinal && last.filesQueued > 0) {
        printedFinal = true;
        write(finalLine(last));
      }
    },
  };
}

function createTtyRenderer(options: ProgressRendererOptions): ProgressRenderer {
  const shouldShowRetry = retryFilter(options.verbose ?? false);
  const maxBars = options.maxFileBars ?? 6;
  const multibar = new cliProgress.MultiBar(
    {
      stream: options.stream,
      hideCursor: true,
      clearOnComplete: true,
      stopOnComplete: false,
      // Every frame redraws every bar. cli-progress otherwise skips a bar whose text did not change,
      // but its line moves whenever a bar above it is removed or a line is logged above the bars:
      // the skipped bar then stays behind on a stale line (a finished file's frozen "9%" beside the
      // live ones). At 8 frames a second and at most 7 bars, the redraw costs nothing.
      forceRedraw: true,
      autopadding: true,
      barsize: 24,
      fps: 8,
      format: (opts, params, payload: { text?: string }) => {
        const bar = cliProgress.Format.BarFormat(params.progress, opts);
        return `${bar} ${payload.text ?? ''}`;
      },
    },
    cliProgress.Presets.shades_classic,
  );
  const meter = createRateMeter();
  let last: TransferTotals | undefined;
  let overall: cliProgress.SingleBar | undefined;
  let stopped = false;
  const files = new Map<string, { label: string; size: number; done: number; bar?: cliProgress.SingleBar }>();
  const fileText = (label: string, done: number, size: number) =>
    `${String(percent(done, size)).padStart(3, ' ')}% ${truncateLabel(label, 48)}  ${formatBytes(done)}/${formatBytes(size)}`;

  const ensureOverall = () => {
    if (!overall && !stopped) overall = multibar.create(1, 0, { text: 'starting…' });
  };
  const promote = () => {
    let shown = [...files.values()].filter((f) => f.bar).length;
    for (const f of files.values()) {
      if (shown >= maxBars) break;
      if (!f.bar && !stopped) {
        f.bar = multibar.create(Math.max(1, f.size), f.done, { text: fileText(f.label, f.done, f.size) });
        shown++;
      }
    }
  };
  const drop = (id: string) => {
    const f = files.get(id);
    if (f?.bar) multibar.remove(f.bar);
    files.delete(id);
    promote();
  };
  const log = (line: string) => {
    if (stopped) options.stream.write(`${redact(line)}\n`);
    // cli-progress writes logged lines over the rows the bars held and erases only the first of
    // them: each line erases the rest of its row itself (ESC[K), so several lines logged in one
    // frame leave no tail of an old bar behind.
    else multibar.log(`${redact(line).replace(/\n/g, '\u001b[K\n')}\u001b[K\n`);
  };
  return {
    onEvent(event) {
      if (stopped) return;
      switch (event.type) {
        case 'file-queued':
          ensureOverall();
          break;
        case 'file-started': {
          // A file can start again (a fresh pass after a failed hash check): keep its one bar,
          // never leave the old one frozen on screen beside a new one.
          const known = files.get(event.id);
          if (known) {
            Object.assign(known, { label: event.label, size: event.size, done: event.resumedBytes });
            known.bar?.setTotal(Math.max(1, event.size));
            known.bar?.update(Math.min(event.resumedBytes, Math.max(1, event.size)), { text: fileText(known.label, known.done, known.size) });
          } else files.set(event.id, { label: event.label, size: event.size, done: event.resumedBytes });
          promote();
          break;
        }
        case 'file-progress': {
          const f = files.get(event.id);
          if (f) {
            f.done = event.bytesDone;
            f.bar?.update(Math.min(event.bytesDone, Math.max(1, f.size)), { text: fileText(f.label, f.done, f.size) });
          }
          break;
        }
        case 'file-done':
          drop(event.id);
          if (options.verbose) log(`done: ${event.label} (${formatBytes(event.size)})`);
          break;
        case 'file-failed':
          drop(event.id);
          if (!silentFailure(event.code)) log(`failed: ${event.label}: ${event.message}`);
          break;
        case 'retry':
          if (shouldShowRetry(event)) log(retryLine(event));
          break;
        case 'warning':
          log(`warning: ${event.message}`);
          break;
        case 'waiting-for-lock':
          log(`waiting for another process to finish ${event.label}`);
          break;
        case 'totals': {
          ensureOverall();
          const t = event.totals;
          last = t;
          const rate = meter.sample(t.bytesTransferred, Date.now());
          const text = `${String(percent(t.bytesDone, t.bytesTotal)).padStart(3, ' ')}% ${formatBytes(t.bytesDone)}/${formatBytes(t.bytesTotal)}  ${formatRate(rate)}  ETA ${formatEta(etaSeconds(t, rate))}  files ${t.filesDone}/${t.filesQueued}${t.filesFailed ? ` (${t.filesFailed} failed)` : ''}`;
          overall?.setTotal(Math.max(1, t.bytesTotal));
          overall?.update(Math.min(t.bytesDone, Math.max(1, t.bytesTotal)), { text });
          break;
        }
      }
    },
    log,
    finish() {
      if (stopped) return;
      stopped = true;
      multibar.stop();
      // The last frame is the true final state, not whatever the bars showed at their last redraw
      // (a throttled frame could end on "99% … files 10/11").
      if (last && last.filesQueued > 0) options.stream.write(`${finalLine(last)}\n`);
    },
  };
}
