/**
 * Helpers for the bundle tests: fixture repos with nested and non-ASCII paths, a whole-cache
 * fingerprint (every file's bytes, every link's target, every folder), and tar rewriting (reorder,
 * tamper, inject entries) with tar-stream.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, pack as tarPack } from 'tar-stream';
import type { FixtureRepo } from '../../src/emulator/index.js';

export const MODEL = 'acme/bundle-model';
export const DATASET = 'acme/bundle-data';

export function bundleRepos(): FixtureRepo[] {
  const shared = { path: 'README.md', content: '# shared card\n' };
  return [
    {
      id: MODEL,
      revisions: [
        {
          refs: ['main'],
          files: [
            shared,
            { path: 'config.json', content: '{"model_type":"bert"}\n' },
            { path: 'weights/model.safetensors', generated: { size: 2_500_000, seed: 11 } },
            { path: 'onnx/sub/deep/model.onnx', generated: { size: 300_000, seed: 12 } },
            { path: 'données/modèle ü.txt', content: 'é à ü ß\n' },
            { path: '日本語/設定.json', content: '{"言語":"日本語"}\n' },
            { path: 'copy-of-card.md', content: '# shared card\n' },
          ],
        },
        {
          refs: ['v1'],
          files: [shared, { path: 'config.json', content: '{"model_type":"bert","v":1}\n' }, { path: 'weights/model.safetensors', generated: { size: 2_500_000, seed: 11 } }],
        },
      ],
    },
    {
      id: DATASET,
      type: 'dataset',
      revisions: [
        {
          refs: ['main'],
          files: [
            shared,
            { path: 'data/train/part-000.parquet', generated: { size: 700_000, seed: 21 } },
            { path: 'data/test/ünïcode.csv', content: 'a,b\n1,2\n' },
          ],
        },
      ],
    },
  ];
}

/** Every entry under `root` (but `.locks/`): folders, file contents (sha256) and link targets, by relative path. */
export async function cacheFingerprint(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const full = path.join(dir, name);
      const rel = path.relative(root, full);
      if (rel === '.locks') continue;
      const st = await lstat(full);
      if (st.isSymbolicLink()) out[rel] = `link ${await readlink(full)}`;
      else if (st.isDirectory()) {
        out[rel] = 'dir';
        await walk(full);
      } else out[rel] = `file ${createHash('sha256').update(await readFile(full)).digest('hex')}`;
    }
  };
  await walk(root);
  return out;
}

export interface TarEntryCopy {
  name: string;
  data: Buffer;
  type?: 'file' | 'directory' | 'symlink';
  linkname?: string;
}

/** All entries of a (small, test-sized) tar in memory. */
export async function readTar(file: string): Promise<TarEntryCopy[]> {
  const extract = tarExtract();
  const entries: TarEntryCopy[] = [];
  const feeding = pipeline(createReadStream(file), extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk);
    entries.push({ name: entry.header.name, data: Buffer.concat(chunks), type: entry.header.type as 'file' });
  }
  await feeding;
  return entries;
}

export async function writeTar(file: string, entries: readonly TarEntryCopy[]): Promise<void> {
  const pack = tarPack();
  const writing = pipeline(pack, createWriteStream(file));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: e.linkname ?? '' }, (err) => (err ? reject(err) : resolve()));
      else if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory' }, (err) => (err ? reject(err) : resolve()));
      else pack.entry({ name: e.name, size: e.data.length }, e.data, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await writing;
}
