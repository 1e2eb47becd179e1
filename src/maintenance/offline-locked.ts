/**
 * offline-check with mlcache.lock as the truth (`offline-check --frozen`): the ref huggingface_hub
 * reads offline (refs/<revision>, raw) must name the locked commit, and every locked file must
 * resolve under snapshots/<commit>/ to a file of the locked size. The lock lists the selected
 * files, so completeness is proven without trees/<commit>.json. Filesystem only.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isCommitHash, repoPaths, validateRepoFilePath } from '../cache/index.js';
import type { LockedHubEntry, LockedUrlEntry } from '../lock/index.js';
import { checkUrlEntryOffline, type OfflineEntryResult } from './offline-resolve.js';

export async function checkLockedHubEntryOffline(cacheDir: string, entry: LockedHubEntry): Promise<OfflineEntryResult> {
  const repo = { id: entry.repo, type: entry.type };
  const result: OfflineEntryResult = {
    kind: 'hub',
    group: entry.group,
    name: entry.name,
    target: entry.type === 'model' ? entry.repo : `${entry.type}:${entry.repo}`,
    revision: entry.revision,
    commit: entry.commit,
    ok: false,
    problems: [],
    missingFiles: [],
    files: [],
    treeCache: true,
    notes: ['completeness from mlcache.lock'],
  };
  const paths = repoPaths(cacheDir, repo);
  if (!isCommitHash(entry.revision)) {
    const raw = await fs.readFile(path.join(paths.refsDir, ...entry.revision.split('/')), 'utf8').catch(() => undefined);
    if (raw === undefined) result.problems.push(`no refs/${entry.revision}: offline, huggingface_hub cannot map '${entry.revision}' to the locked commit`);
    else if (raw !== entry.commit) {
      result.problems.push(`refs/${entry.revision} names ${raw.trim().slice(0, 12)}, the lock ${entry.commit.slice(0, 12)}: offline, huggingface_hub would load the other snapshot`);
    }
  }
  const snapDir = path.join(paths.snapshotsDir, entry.commit);
  for (const file of entry.files) {
    let pointer: string;
    try {
      pointer = path.join(snapDir, ...validateRepoFilePath(file.path));
    } catch {
      result.missingFiles.push(file.path);
      continue;
    }
    const st = await fs.stat(pointer).catch(() => undefined);
    if (st?.isFile() !== true || st.size !== file.size) {
      result.missingFiles.push(file.path);
      continue;
    }
    result.files.push({ path: file.path, size: st.size, resolvedPath: await fs.realpath(pointer).catch(() => pointer) });
  }
  if (result.missingFiles.length > 0) {
    const first = result.missingFiles.slice(0, 3).join(', ');
    const more = result.missingFiles.length > 3 ? ` and ${result.missingFiles.length - 3} more` : '';
    result.problems.push(`${result.missingFiles.length} locked file(s) missing or of another size in snapshots/${entry.commit.slice(0, 12)}: ${first}${more}`);
  }
  result.ok = result.problems.length === 0;
  return result;
}

export function checkLockedUrlEntryOffline(torchHome: string, entry: LockedUrlEntry): Promise<OfflineEntryResult> {
  return checkUrlEntryOffline(torchHome, { ...entry, optional: false, purpose: '' });
}
