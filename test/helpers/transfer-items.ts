/**
 * Build transfer items against the Hub emulator the way the snapshot layer will: resolve the
 * Hub URL once (HEAD, no redirect following), send only the headers meant for the final origin.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { Agent, type Dispatcher } from 'undici';
import type { HubEmulator } from '../../src/emulator/index.js';
import type { TransferEvent, TransferItem, TransferSource } from '../../src/download/index.js';

export const TOKEN = 'hf_emulator_valid_token_0000';

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mlcache-engine-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function testAgent(): Agent {
  const agent = new Agent({ connections: 32, keepAliveTimeout: 1000 });
  onTestFinished(() => agent.close());
  return agent;
}

/** Epoch ms when a signed URL expires (X-Amz-Date + X-Amz-Expires), as the Hub client computes it. */
export function expiryOf(url: string): number | undefined {
  const q = new URL(url).searchParams;
  const date = q.get('X-Amz-Date');
  const expires = q.get('X-Amz-Expires');
  const m = date && /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (!m || !expires) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) + Number(expires) * 1000;
}

export interface ItemOptions {
  repo: string;
  file: string;
  destination: string;
  dispatcher: Dispatcher;
  lockPath?: string;
  /** Record each resolve() call. */
  resolves?: string[];
  /** Override the expiry the resolver reports. */
  expiresAt?: (url: string) => number | undefined;
}

export async function itemFor(hub: HubEmulator, options: ItemOptions): Promise<TransferItem> {
  const digest = await hub.digestOf(options.repo, options.file);
  const hubUrl = `${hub.url}/${options.repo}/resolve/main/${options.file}`;
  const resolve = async (reason: 'initial' | 'expired'): Promise<TransferSource> => {
    options.resolves?.push(reason);
    const u = new URL(hubUrl);
    const res = await options.dispatcher.request({
      origin: u.origin,
      path: u.pathname,
      method: 'HEAD',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    await res.body.dump();
    const location = res.headers.location;
    if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
      const url = new URL(location, hubUrl).toString();
      const sameOrigin = new URL(url).origin === u.origin;
      return {
        url,
        headers: sameOrigin ? { authorization: `Bearer ${TOKEN}` } : {},
        expiresAt: options.expiresAt ? options.expiresAt(url) : expiryOf(url),
      };
    }
    return { url: hubUrl, headers: { authorization: `Bearer ${TOKEN}` } };
  };
  return {
    id: options.destination,
    label: `${options.repo}: ${options.file}`,
    group: options.repo,
    size: digest.size,
    digest: digest.lfs ? { algorithm: 'sha256', hex: digest.sha256 } : { algorithm: 'git-sha1', hex: digest.gitSha1 },
    resolve,
    destination: options.destination,
    lockPath: options.lockPath,
  };
}

export function collectEvents(): { events: TransferEvent[]; onEvent: (e: TransferEvent) => void; of<T extends TransferEvent['type']>(type: T): Array<Extract<TransferEvent, { type: T }>> } {
  const events: TransferEvent[] = [];
  return {
    events,
    onEvent: (e) => events.push(e),
    of: <T extends TransferEvent['type']>(type: T) => events.filter((e): e is Extract<TransferEvent, { type: T }> => e.type === type),
  };
}
