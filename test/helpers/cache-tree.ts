/**
 * A repo folder of an HF hub cache as plain data, for "byte-identical cache" assertions: every
 * file, link and folder under `models--org--name/` (mlcache's private `.mlcache-tmp/` aside), with
 * link targets as written and file contents as sha256.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';

export async function describeRepoFolder(folder: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const visit = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (rel === '.mlcache-tmp') continue;
      const full = path.join(dir, entry.name);
      if (entry.isSymbolicLink()) out[rel] = `-> ${await readlink(full)}`;
      else if (entry.isDirectory()) {
        out[rel] = 'dir';
        await visit(full, rel);
      } else out[rel] = `sha256:${createHash('sha256').update(await readFile(full)).digest('hex')}`;
    }
  };
  await visit(folder, '');
  return out;
}
