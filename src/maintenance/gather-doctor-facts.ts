/**
 * The I/O half of `mlcache doctor`: probe directories, symlinks, free space, the endpoint and the
 * token, each with a short timeout, and hand the facts to evaluateDoctor (doctor-checks.ts).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { request, type Dispatcher } from 'undici';
import { symlinksSupported } from '../cache/index.js';
import { existingAncestor, freeSpace } from '../cache/disk-space.js';
import { inspectCacheDir } from '../cache/verify-cache-dir.js';
import type { Settings } from '../config/settings.js';
import { resolveToken } from '../config/token.js';
import { isMlcacheError } from '../errors.js';
import { randomHex8 } from '../util/random-suffix.js';
import { createDispatcher, createHubClient } from '../hub/index.js';
import { classifyNetworkError } from '../util/net.js';
import { findProjectRoot } from '../util/project-root.js';
import type { DirFact, DoctorFacts, HardwareCacheFact } from './doctor-checks.js';

export interface GatherDoctorFactsOptions {
  settings: Settings;
  token?: string | undefined;
  dispatcher?: Dispatcher | undefined;
  /** Endpoint and whoami timeout. @default 3000 */
  timeoutMs?: number | undefined;
  /** @default process.version */
  nodeVersion?: string | undefined;
}

async function probeDir(label: string, dir: string): Promise<DirFact> {
  const state = await inspectCacheDir(dir);
  if (state.kind === 'not-a-directory') {
    // A file where the folder belongs: every command refuses it (USAGE), doctor says so as a failure.
    const error = state.at === path.resolve(dir) ? `it is ${state.what}, not a directory` : `${state.at} is ${state.what}, not a directory`;
    return { label, path: dir, exists: false, writable: false, error, notADirectory: true, freeBytes: undefined };
  }
  const exists = await fs.stat(dir).then((s) => s.isDirectory(), () => false);
  const base = exists ? dir : await existingAncestor(dir);
  let writable = false;
  let error: string | undefined;
  if (exists) {
    const probe = path.join(dir, `.mlcache-doctor-${randomHex8()}`);
    try {
      await fs.writeFile(probe, '');
      writable = true;
    } catch (e) {
      error = (e as NodeJS.ErrnoException).code ?? String(e);
    } finally {
      await fs.rm(probe, { force: true }).catch(() => undefined);
    }
  } else {
    // It will be created on first use: the nearest existing parent must be writable.
    writable = await fs.access(base, fs.constants.W_OK).then(() => true, (e: NodeJS.ErrnoException) => {
      error = `does not exist and ${base} is not writable (${e.code ?? 'error'})`;
      return false;
    });
  }
  const freeBytes = await freeSpace(base).catch(() => undefined);
  return { label, path: dir, exists, writable, error, freeBytes };
}

/** config/hardware_cache.json of the nearest project (util/project-root.ts; `bootstrap` writes it). */
export async function findHardwareCache(cwd: string): Promise<HardwareCacheFact | undefined> {
  const project = findProjectRoot(cwd);
  if (project?.hardwareCacheFile === undefined) return undefined;
  const text = await fs.readFile(project.hardwareCacheFile, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseHardwareCache(text, project.hardwareCacheFile, project.root);
}

/** Pure: the cache block's hf_home / torch_home, resolved against the project root. */
export function parseHardwareCache(text: string, file: string, root: string): HardwareCacheFact {
  const fact: HardwareCacheFact = { file };
  try {
    const data = JSON.parse(text) as { cache?: { hf_home?: unknown; torch_home?: unknown } };
    const cache = data.cache;
    if (typeof cache?.hf_home === 'string') fact.hfHome = path.resolve(root, cache.hf_home);
    if (typeof cache?.torch_home === 'string') fact.torchHome = path.resolve(root, cache.torch_home);
  } catch {
    // unreadable: no conflict rules apply (bootstrap reports a malformed file)
  }
  return fact;
}

export async function gatherDoctorFacts(options: GatherDoctorFactsOptions): Promise<DoctorFacts> {
  const { settings } = options;
  const timeoutMs = options.timeoutMs ?? 3000;
  const dirs = await Promise.all([probeDir('hub cache', settings.hubCache), probeDir('TORCH_HOME', settings.torchHome)]);

  const hubDir = dirs[0];
  const symlinks = hubDir.exists && hubDir.writable ? await symlinksSupported(settings.hubCache).catch(() => undefined) : undefined;

  const ownDispatcher = options.dispatcher === undefined;
  const dispatcher = options.dispatcher ?? createDispatcher(settings.proxy, { connectionsPerOrigin: 2, connectTimeoutMs: 3000 });
  let malformed: string | undefined;
  const token = await resolveToken(settings, options.token).catch((error: unknown) => {
    // A malformed token (src/config/token.ts) is a finding; it is never sent to whoami.
    if (isMlcacheError(error) && error.code === 'USAGE') malformed = error.message;
    return undefined;
  });
  const facts: DoctorFacts = {
    nodeVersion: options.nodeVersion ?? process.version,
    dirs,
    symlinks,
    endpoint: { url: settings.endpoint, reachable: false },
    token: { present: token !== undefined, source: token?.source, ...(malformed !== undefined ? { malformed } : {}) },
    proxy: settings.proxy,
    offline: settings.offline,
    hubCache: settings.hubCache,
    hfHome: settings.hfHome,
    torchHome: settings.torchHome,
    env: {
      TRANSFORMERS_CACHE: settings.env.TRANSFORMERS_CACHE || undefined,
      HF_HOME: settings.env.HF_HOME || undefined,
      HF_HUB_CACHE: settings.env.HF_HUB_CACHE || undefined,
      TORCH_HOME: settings.env.TORCH_HOME || undefined,
      HF_HUB_OFFLINE: settings.env.HF_HUB_OFFLINE || undefined,
      TRANSFORMERS_OFFLINE: settings.env.TRANSFORMERS_OFFLINE || undefined,
    },
    hardwareCache: await findHardwareCache(settings.cwd),
  };
  try {
    if (settings.offline) {
      facts.endpoint.skipped = 'offline mode (HF_HUB_OFFLINE) is on';
      if (token !== undefined) facts.token.error = 'offline mode is on';
      return facts;
    }
    try {
      const res = await request(settings.endpoint, { method: 'HEAD', dispatcher, signal: AbortSignal.timeout(timeoutMs) });
      await res.body.dump();
      facts.endpoint.reachable = true;
      facts.endpoint.status = res.statusCode;
    } catch (error) {
      facts.endpoint.error = describeNetworkError(error, settings.endpoint, timeoutMs);
    }
    if (token !== undefined && facts.endpoint.reachable) {
      const hub = createHubClient({ endpoint: settings.endpoint, token: token.value, dispatcher, maxRetries: 0, timeoutMs });
      try {
        facts.token.name = (await hub.whoami()).name;
      } catch (error) {
        if (isMlcacheError(error) && (error.code === 'TOKEN_INVALID' || error.code === 'TOKEN_MISSING')) facts.token.invalid = true;
        else facts.token.error = error instanceof Error ? error.message : String(error);
      }
    } else if (token !== undefined) {
      facts.token.error = 'the endpoint is unreachable';
    }
    return facts;
  } finally {
    if (ownDispatcher) await dispatcher.close().catch(() => undefined);
  }
}

function describeNetworkError(error: unknown, endpoint: string, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs / 1000} s`;
  let host = endpoint;
  try {
    host = new URL(endpoint).host;
  } catch {
    // keep the raw text
  }
  return classifyNetworkError(error, host).message;
}
