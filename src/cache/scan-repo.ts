/**
 * The scan of one repo folder of an HF hub cache (`models--org--name/`): its refs, blobs and
 * partial files, writers' temps, trees/ files, snapshots and their files, and the warnings
 * huggingface_hub's scan_cache_dir raises for the same conditions. Read-only.
 */
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { allocatedBytes } from '../util/bytes.js';
import type { CacheRepo } from './repo-folder-name.js';
import { REPO_TEMP_FOLDER } from './repo-paths.js';
import { isBlobName, isCommitHash } from './safe-path.js';
import type { CacheWarning, CacheWarningCode, ScannedBlob, ScannedFile, ScannedPartialFile, ScannedRef, ScannedRepo, ScannedRevision } from './scan-types.js';

/** OS helper files huggingface_hub ignores inside refs/ and snapshots/. */
const FILES_TO_IGNORE = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini']);

/** One repo folder: refs/, blobs/ and partials, .mlcache-tmp/, trees/, snapshots/, and the refs that land nowhere. */
export async function scanRepo(repoDir: string, folder: string, repo: CacheRepo): Promise<ScannedRepo> {
  const warnings: CacheWarning[] = [];
  const blobsDir = path.join(repoDir, 'blobs');
  const snapshotsDir = path.join(repoDir, 'snapshots');
  const refsDir = path.join(repoDir, 'refs');
  const treesDir = path.join(repoDir, 'trees');

  // refs/ (recursive: refs/pr/1 is stored as refs/refs/pr/1)
  const refs: ScannedRef[] = [];
  const refsSt = await fs.stat(refsDir).catch(() => undefined);
  if (refsSt === undefined) {
    warnings.push(warn('REFS_MISSING', refsDir, `refs/ folder is missing in ${repoDir}; @huggingface/hub's scanCacheDir fails on this repo.`, folder, false));
  } else if (!refsSt.isDirectory()) {
    warnings.push(warn('REFS_IS_FILE', refsDir, `refs must be a folder but is a file: ${refsDir}.`, folder));
  } else {
    for (const file of await walkFiles(refsDir, warnings, folder)) {
      const name = path.relative(refsDir, file).split(path.sep).join('/');
      const raw = await fs.readFile(file, 'utf8').catch(() => undefined);
      if (raw === undefined) {
        warnings.push(warn('UNREADABLE', file, `Cannot read ref ${name}: ${file}.`, folder, false));
        continue;
      }
      refs.push({ name, raw, commit: isCommitHash(raw) ? raw : undefined, trailingNewline: /\r?\n$/.test(raw) });
    }
    refs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // blobs/ (valid blob names vs partial files and journals)
  const blobs: ScannedBlob[] = [];
  const partialFiles: ScannedPartialFile[] = [];
  const blobEntries = await fs.readdir(blobsDir, { withFileTypes: true }).catch(() => [] as Dirent[]);
  await Promise.all(
    blobEntries.map(async (e) => {
      const p = path.join(blobsDir, e.name);
      const s = await fs.lstat(p).catch(() => undefined);
      if (s === undefined || s.isDirectory()) return;
      if (isBlobName(e.name) && s.isFile()) {
        blobs.push({ name: e.name, path: p, size: s.size, nlink: s.nlink, mtimeMs: s.mtimeMs, referenced: false });
      } else {
        const kind = e.name.endsWith('.incomplete') ? 'incomplete' : e.name.endsWith('.mlcache-journal') ? 'journal' : 'other';
        partialFiles.push({ name: e.name, path: p, kind, size: s.size, allocated: allocatedBytes(s), mtimeMs: s.mtimeMs });
      }
    }),
  );
  // .mlcache-tmp/: writers' temps (src/cache/repo-temp.ts); what a killed run left is prune's.
  const tempDir = path.join(repoDir, REPO_TEMP_FOLDER);
  for (const e of await fs.readdir(tempDir, { withFileTypes: true }).catch(() => [] as Dirent[])) {
    const p = path.join(tempDir, e.name);
    const s = await fs.lstat(p).catch(() => undefined);
    if (s === undefined || s.isDirectory()) continue;
    partialFiles.push({ name: e.name, path: p, kind: 'temp', size: s.size, allocated: allocatedBytes(s), mtimeMs: s.mtimeMs });
  }
  blobs.sort((a, b) => (a.name < b.name ? -1 : 1));
  partialFiles.sort((a, b) => (a.name < b.name ? -1 : 1));

  // trees/
  const trees = new Set(
    (await fs.readdir(treesDir).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length)),
  );

  // snapshots/
  const revisions: ScannedRevision[] = [];
  const resolvedSizes = new Map<string, number>();
  const snapSt = await fs.stat(snapshotsDir).catch(() => undefined);
  if (snapSt?.isDirectory() !== true) {
    warnings.push(warn('SNAPSHOTS_MISSING', snapshotsDir, `Snapshots folder doesn't exist in cached repo: ${snapshotsDir}.`, folder));
  } else {
    for (const e of await fs.readdir(snapshotsDir, { withFileTypes: true })) {
      if (FILES_TO_IGNORE.has(e.name)) continue;
      const revDir = path.join(snapshotsDir, e.name);
      const revSt = await fs.stat(revDir).catch(() => undefined);
      if (revSt?.isDirectory() !== true) {
        warnings.push(warn('FILE_IN_SNAPSHOTS', revDir, `Snapshots folder corrupted: found a file where a commit folder belongs: ${revDir}.`, folder));
        continue;
      }
      const files = await mapLimit(await walkFiles(revDir, warnings, folder), 16, (f) => scanSnapshotFile(revDir, f, blobsDir));
      files.sort((a, b) => (a.path < b.path ? -1 : 1));
      const distinct = new Map<string, number>();
      for (const f of files) {
        if (f.broken) {
          warnings.push(warn('BROKEN_LINK', f.fullPath, `Blob missing (broken symlink): ${f.fullPath} -> ${f.linkTarget ?? '?'}.`, folder));
        } else if (f.resolvedPath !== undefined && f.size !== undefined) {
          distinct.set(f.resolvedPath, f.size);
          resolvedSizes.set(f.resolvedPath, f.size);
        }
      }
      revisions.push({
        commit: e.name,
        path: revDir,
        refs: refs.filter((r) => r.raw === e.name).map((r) => r.name),
        files,
        size: [...distinct.values()].reduce((a, b) => a + b, 0),
        hasTreeCache: trees.has(e.name),
      });
    }
    revisions.sort((a, b) => (a.commit < b.commit ? -1 : 1));
  }

  // refs that do not land on a snapshot (Python reads them raw, so a newline counts as missing)
  const commits = new Set(revisions.map((r) => r.commit));
  for (const ref of refs) {
    if (commits.has(ref.raw)) continue;
    const file = path.join(refsDir, ...ref.name.split('/'));
    if (ref.trailingNewline && commits.has(ref.raw.trimEnd())) {
      warnings.push(
        warn('REF_TRAILING_NEWLINE', file, `Ref ${ref.name} ends with a newline; huggingface_hub reads refs without stripping, so it looks for a missing commit (${file}).`, folder),
      );
    } else {
      warnings.push(warn('REF_TO_MISSING_COMMIT', file, `Ref ${ref.name} refers to a missing commit ${JSON.stringify(ref.raw)}: no snapshots/${ref.raw.trim()} (${repoDir}).`, folder));
    }
  }

  const referenced = new Set(resolvedSizes.keys());
  for (const b of blobs) b.referenced = referenced.has(b.path) || referenced.has(await fs.realpath(b.path).catch(() => b.path));

  return {
    repo,
    folder,
    path: repoDir,
    refs,
    revisions,
    blobs,
    partialFiles,
    sizeOnDisk: [...resolvedSizes.values()].reduce((a, b) => a + b, 0),
    blobsSize: blobs.reduce((a, b) => a + b.size, 0),
    warnings,
  };
}

async function scanSnapshotFile(revDir: string, file: string, blobsDir: string): Promise<ScannedFile> {
  const rel = path.relative(revDir, file).split(path.sep).join('/');
  const l = await fs.lstat(file);
  if (!l.isSymbolicLink()) {
    const resolvedPath = await fs.realpath(file).catch(() => file);
    return { path: rel, fullPath: file, kind: 'copy', linkTarget: undefined, resolvedPath, blobName: undefined, size: l.size, broken: false };
  }
  const linkTarget = await fs.readlink(file);
  const absTarget = path.resolve(path.dirname(file), linkTarget);
  const blobName = path.dirname(absTarget) === blobsDir && isBlobName(path.basename(absTarget)) ? path.basename(absTarget) : undefined;
  try {
    const [s, resolvedPath] = await Promise.all([fs.stat(file), fs.realpath(file)]);
    return { path: rel, fullPath: file, kind: 'symlink', linkTarget, resolvedPath, blobName, size: s.size, broken: false };
  } catch {
    return { path: rel, fullPath: file, kind: 'symlink', linkTarget, resolvedPath: undefined, blobName, size: undefined, broken: true };
  }
}

/** Every non-directory entry below `dir` (symlinks to directories count as directories, like Python's is_dir). */
async function walkFiles(dir: string, warnings: CacheWarning[], folder: string): Promise<string[]> {
  const out: string[] = [];
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    warnings.push(warn('UNREADABLE', dir, `Cannot list ${dir}.`, folder, false));
    return out;
  }
  for (const e of entries) {
    if (FILES_TO_IGNORE.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walkFiles(p, warnings, folder)));
    else if (e.isSymbolicLink() && (await fs.stat(p).then((s) => s.isDirectory(), () => false))) continue;
    else out.push(p);
  }
  return out;
}

/** A warning; `pythonDropsRepo` false for the conditions huggingface_hub's scan_cache_dir does not raise on. */
export function warn(code: CacheWarningCode, p: string, message: string, folder: string | undefined, pythonDropsRepo = true): CacheWarning {
  return { code, message, path: p, folder, pythonDropsRepo };
}

/** `fn` over `items`, at most `limit` at a time, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}
