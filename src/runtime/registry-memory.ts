/**
 * What this machine remembers about a registry between runs, kept in the hub cache's `.locks/`
 * folder (every cache reader — huggingface_hub's scan_cache_dir, @huggingface/hub's scanCacheDir —
 * skips it, so the cache stays warning-free):
 * - where each blob was last pushed, so a push to another repository of the same registry mounts it
 *   (distribution-spec "Mounting a blob from another repository") instead of uploading it again;
 * - the URL of each unfinished upload session, so a killed push resumes from the registry's offset.
 * Losing either only costs bytes, never correctness.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { UploadSessionStore } from '../registry/types.js';

export interface RegistryMemory {
  /** Repositories of this registry known to hold `digest`, most recent first. */
  mountSources(digest: string, exclude: string): string[];
  remember(digest: string, repository: string): Promise<void>;
  sessions: UploadSessionStore;
}

const MAX_MOUNT_SOURCES = 3;

export async function openRegistryMemory(hubCache: string, registry: string): Promise<RegistryMemory> {
  const dir = path.join(hubCache, '.locks', 'mlcache-registry', registry.replace(/[^A-Za-z0-9.-]/g, '_'));
  const blobsFile = path.join(dir, 'blobs.log');
  const where = new Map<string, string[]>();
  const text = await readFile(blobsFile, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [digest, repository] = line.split(' ');
    if (!digest || !repository) continue;
    const list = where.get(digest) ?? [];
    where.set(digest, [repository, ...list.filter((r) => r !== repository)].slice(0, MAX_MOUNT_SOURCES + 1));
  }
  const sessionFile = (key: string) => path.join(dir, 'uploads', createHash('sha256').update(key).digest('hex').slice(0, 32));
  return {
    mountSources: (digest, exclude) => (where.get(digest) ?? []).filter((r) => r !== exclude).slice(0, MAX_MOUNT_SOURCES),
    async remember(digest, repository) {
      const list = where.get(digest) ?? [];
      if (list[0] === repository) return;
      where.set(digest, [repository, ...list.filter((r) => r !== repository)].slice(0, MAX_MOUNT_SOURCES + 1));
      await mkdir(dir, { recursive: true });
      await appendFile(blobsFile, `${digest} ${repository}\n`).catch(() => undefined);
    },
    sessions: {
      load: (key) => readFile(sessionFile(key), 'utf8').then((url) => url.trim() || undefined, () => undefined),
      async save(key, uploadUrl) {
        // Whole or not at all: a kill mid-write must not leave an empty session that starts the upload over.
        const file = sessionFile(key);
        const temp = `${file}.${process.pid}.tmp`;
        try {
          await mkdir(path.dirname(file), { recursive: true });
          await writeFile(temp, uploadUrl, { mode: 0o600 });
          await rename(temp, file);
        } catch {
          await rm(temp, { force: true }).catch(() => undefined);
        }
      },
      remove: (key) => rm(sessionFile(key), { force: true }).catch(() => undefined),
    },
  };
}
