/**
 * Resolve a catalog entry from the cache exactly as huggingface_hub does with HF_HUB_OFFLINE=1,
 * touching only the filesystem:
 *   file_download.py::try_to_load_from_cache — refs/<rev> read raw (no strip) → the commit must be
 *     in os.listdir(snapshots) → snapshots/<commit>/<file> must pass os.path.isfile (follows the
 *     symlink, so a dangling pointer is a missing file);
 *   _snapshot_download.py::_raise_if_incomplete_snapshot — when trees/<commit>.json exists, every
 *     file it lists that the allow/ignore patterns select must pass isfile, else
 *     IncompleteSnapshotError. Without a tree cache Python returns the folder as is; we still check
 *     that the patterns select something present and that literal include names exist.
 */
import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { isCommitHash, readTreeCache, repoPaths, validateRepoFilePath } from '../cache/index.js';
import type { SelectedHubEntry, SelectedUrlEntry } from '../catalog/index.js';
import { selectPaths } from '../util/file-selection.js';

export interface OfflineFile {
  path: string;
  /** Size of the file the pointer resolves to. */
  size: number;
  /** Resolved path (the blob for symlinks), to count each blob once. */
  resolvedPath: string;
}

export interface OfflineEntryResult {
  kind: 'hub' | 'url';
  group: string;
  name: string;
  /** `org/name`, or the artifact destination. */
  target: string;
  revision?: string | undefined;
  commit?: string | undefined;
  ok: boolean;
  /** Why it is not usable offline (empty when ok). */
  problems: string[];
  /** Selected files the snapshot lacks, sorted. */
  missingFiles: string[];
  /** Selected files present and resolving to a file. */
  files: OfflineFile[];
  /** trees/<commit>.json was found, so completeness is proven, not assumed. */
  treeCache: boolean;
  /** Remarks that do not fail the check. */
  notes: string[];
}

const GLOB_CHARS = /[*?[]/;

/** Include patterns that name one exact file (no wildcard, not a folder): they must exist. Pure. */
export function literalIncludes(include: readonly string[] | undefined): string[] {
  return (include ?? []).filter((p) => !GLOB_CHARS.test(p) && !p.endsWith('/')).map((p) => p.replace(/\\/g, '/'));
}

async function statOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(p);
  } catch {
    return undefined;
  }
}

/** os.path.isfile through the symlink; the resolved file on success. */
async function resolveFile(p: string): Promise<OfflineFile | undefined> {
  const st = await statOrUndefined(p);
  if (st?.isFile() !== true) return undefined;
  const resolvedPath = await fs.realpath(p).catch(() => p);
  return { path: '', size: st.size, resolvedPath };
}

async function listSnapshot(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listSnapshot(p, base)));
    else out.push(path.relative(base, p).split(path.sep).join('/'));
  }
  return out;
}

/** A result with nothing checked yet (not ok until the checks below say so). */
function pendingResult(kind: OfflineEntryResult['kind'], entry: { group: string; name: string; revision?: string }, target: string): OfflineEntryResult {
  const revision = entry.revision === undefined ? {} : { revision: entry.revision };
  return { kind, group: entry.group, name: entry.name, target, ...revision, ok: false, problems: [], missingFiles: [], files: [], treeCache: false, notes: [] };
}

export async function checkHubEntryOffline(cacheDir: string, entry: SelectedHubEntry): Promise<OfflineEntryResult> {
  const result = pendingResult('hub', entry, entry.repo.type === 'model' ? entry.repo.id : `${entry.repo.type}:${entry.repo.id}`);
  const paths = repoPaths(cacheDir, entry.repo);
  if ((await statOrUndefined(paths.repoDir))?.isDirectory() !== true) {
    result.problems.push(`not in the cache (no ${paths.repoDir})`);
    return result;
  }

  let commit: string;
  if (isCommitHash(entry.revision)) {
    commit = entry.revision;
  } else {
    const refFile = path.join(paths.refsDir, ...entry.revision.split('/'));
    const raw = await fs.readFile(refFile, 'utf8').catch(() => undefined);
    if (raw === undefined) {
      result.problems.push(`no refs/${entry.revision}: offline, huggingface_hub cannot map '${entry.revision}' to a commit`);
      return result;
    }
    commit = raw;
  }
  const snapshots = await fs.readdir(paths.snapshotsDir).catch(() => [] as string[]);
  if (!snapshots.includes(commit)) {
    const trimmed = commit.trim();
    if (trimmed !== commit && snapshots.includes(trimmed)) {
      result.commit = trimmed;
      result.problems.push(`refs/${entry.revision} ends with a newline; huggingface_hub reads it raw and finds no snapshot (run \`mlcache verify --repair\`)`);
    } else {
      result.commit = isCommitHash(trimmed) ? trimmed : undefined;
      result.problems.push(`no snapshots/${trimmed}/ for ${isCommitHash(entry.revision) ? 'commit' : `refs/${entry.revision} →`} ${trimmed.slice(0, 12)}`);
    }
    return result;
  }
  result.commit = commit;
  const snapDir = path.join(paths.snapshotsDir, commit);

  const tree = await readTreeCache(cacheDir, entry.repo, commit);
  let wanted: string[];
  if (tree !== undefined) {
    result.treeCache = true;
    const selection = selectPaths(
      tree.map((f) => f.path),
      entry,
    );
    wanted = selection.selected;
    if (selection.format === -1) result.problems.push(`none of the entry's weight formats is listed in trees/${commit}.json`);
    if (wanted.length === 0) result.problems.push(`the entry's patterns select no file listed in trees/${commit}.json`);
  } else {
    const present = selectPaths(await listSnapshot(snapDir), entry).selected;
    wanted = [...new Set([...present, ...literalIncludes(entry.include)])];
    result.notes.push(`no trees/${commit}.json: completeness cannot be proven, only the files present are checked`);
    if (wanted.length === 0) result.problems.push(`no file in snapshots/${commit.slice(0, 12)} matches the entry's patterns`);
  }

  for (const file of wanted.sort()) {
    let pointer: string;
    try {
      pointer = path.join(snapDir, ...validateRepoFilePath(file));
    } catch {
      result.missingFiles.push(file);
      continue;
    }
    const resolved = await resolveFile(pointer);
    if (resolved === undefined) result.missingFiles.push(file);
    else result.files.push({ ...resolved, path: file });
  }
  if (result.missingFiles.length > 0) {
    const first = result.missingFiles.slice(0, 3).join(', ');
    const more = result.missingFiles.length > 3 ? ` and ${result.missingFiles.length - 3} more` : '';
    result.problems.push(`${result.missingFiles.length} selected file(s) missing from snapshots/${commit.slice(0, 12)}: ${first}${more}`);
  }
  result.ok = result.problems.length === 0;
  return result;
}

/** A URL artifact is in place: a regular file at TORCH_HOME/<destination> with the catalog's size. */
export async function checkUrlEntryOffline(torchHome: string, entry: SelectedUrlEntry): Promise<OfflineEntryResult> {
  const file = path.join(torchHome, ...entry.destination.split('/'));
  const result = pendingResult('url', entry, entry.destination);
  const st = await statOrUndefined(file);
  if (st === undefined) {
    result.missingFiles.push(entry.destination);
    result.problems.push(`missing: ${file}`);
  } else if (!st.isFile()) {
    result.problems.push(`not a regular file: ${file}`);
  } else if (st.size !== entry.size) {
    result.problems.push(`wrong size: ${file} is ${st.size} bytes, the catalog says ${entry.size}`);
  } else {
    result.files.push({ path: entry.destination, size: st.size, resolvedPath: await fs.realpath(file).catch(() => file) });
  }
  result.ok = result.problems.length === 0;
  return result;
}
