/**
 * What a networked command needs, built once per run: the undici dispatcher (keep-alive pools,
 * proxy), the token, the Hub client, and the one transfer engine shared by every repo of the run.
 */
import type { Dispatcher } from 'undici';
import { acquireLock } from '../cache/index.js';
import type { Settings } from '../config/settings.js';
import { resolveToken, type ResolvedToken } from '../config/token.js';
import { createTransferEngine } from '../download/index.js';
import type { TransferEngine, TransferEngineOptions, TransferEvent } from '../download/types.js';
import { createDispatcher, createHubClient } from '../hub/index.js';
import type { HubClient, HubClientOptions } from '../hub/types.js';
import { MlcacheError } from '../errors.js';

export interface RuntimeOptions {
  settings: Settings;
  /** --token; otherwise HF_TOKEN, HUGGING_FACE_HUB_TOKEN, then the token file. */
  token?: string | undefined;
  /** Injected transport (tests); otherwise built from the proxy settings. */
  dispatcher?: Dispatcher | undefined;
  /** Global connection budget. @default 16 */
  connections?: number | undefined;
  /** Global rate cap in bytes/s. */
  maxRate?: number | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: TransferEvent) => void) | undefined;
  /**
   * Timing knobs for library callers and tests (a hostile server that hangs must not cost
   * minutes): the engine's stall timeout and retry policy, the Hub client's per-request timeout
   * and retries. Defaults are those of createTransferEngine / createHubClient.
   */
  tuning?: RuntimeTuning | undefined;
}

export interface RuntimeTuning {
  engine?: Pick<TransferEngineOptions, 'stallTimeoutMs' | 'retry'> | undefined;
  hub?: Pick<HubClientOptions, 'timeoutMs' | 'maxRetries' | 'baseDelayMs' | 'maxBackoffMs'> | undefined;
}

export interface Runtime {
  hub: HubClient;
  engine: TransferEngine;
  token: ResolvedToken | undefined;
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

/** Refuse network work in offline mode, as huggingface_hub does with HF_HUB_OFFLINE=1. */
export function verifyOnline(settings: Settings): void {
  if (settings.offline) {
    throw new MlcacheError('OFFLINE', 'HF_HUB_OFFLINE is set, so mlcache will not contact the Hub.', {
      hint: 'Unset HF_HUB_OFFLINE (and TRANSFORMERS_OFFLINE) to download, or use `mlcache offline-check` to inspect the cache.',
    });
  }
}

export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { settings } = options;
  const token = await resolveToken(settings, options.token);
  const ownDispatcher = options.dispatcher === undefined;
  const dispatcher = options.dispatcher ?? createDispatcher(settings.proxy, { connections: options.connections });
  const hub = createHubClient({
    ...options.tuning?.hub,
    endpoint: settings.endpoint,
    token: token?.value,
    dispatcher,
    signal: options.signal,
    onRetry: (info) =>
      options.onEvent?.({ type: 'retry', id: info.url, label: info.url, attempt: info.attempt, delayMs: info.delayMs, reason: info.reason }),
  });
  const engine = createTransferEngine({
    ...options.tuning?.engine,
    dispatcher,
    connections: options.connections,
    maxRate: options.maxRate,
    signal: options.signal,
    onEvent: options.onEvent,
    acquireLock: (path, opts) => acquireLock(path, { signal: opts.signal, onWait: opts.onWait }),
  });
  return {
    hub,
    engine,
    token,
    dispatcher,
    async close() {
      await engine.close();
      // After an abort, connections still being made (a silent proxy, an unreachable host) must
      // not hold the exit: destroy them rather than wait for them to finish.
      if (ownDispatcher) await (options.signal?.aborted ? dispatcher.destroy() : dispatcher.close());
    },
  };
}
