/**
 * A file listing checked and filtered before anything is planned against the cache: every name
 * validated (a hostile name refuses the whole plan), the listing's shape (no path twice, no path
 * both a file and a folder), and the selection (explicit paths, or include/exclude and weight
 * formats with huggingface_hub's fnmatch semantics).
 */
import { validateRepoFilePath } from '../cache/index.js';
import { MlcacheError } from '../errors.js';
import type { RepoFile, RepoRef } from '../hub/types.js';
import { selectPaths } from '../util/file-selection.js';
import { SLICE, type Checkpoint } from './checkpoint.js';
import type { SnapshotRequest } from './plan.js';

/** Every name from the Hub is untrusted: refuse the whole plan if one is hostile. */
export async function verifyNames(tree: readonly RepoFile[], repo: RepoRef, pause: Checkpoint): Promise<void> {
  for (const [index, file] of tree.entries()) {
    if (index % SLICE === 0) await pause();
    try {
      validateRepoFilePath(file.path);
    } catch (error) {
      throw new MlcacheError('UNSAFE_PATH', `${repo.id} lists an unsafe file name: ${(error as Error).message}`, {
        hint: 'Nothing was written. The repo (or a proxy in between) is sending hostile paths; report it to the repo owner.',
        cause: error,
      });
    }
  }
}

/**
 * A listing where one path is both a file and a folder of another (`a` and `a/b`), or lists a path
 * twice, cannot be materialized as a snapshot; no honest Hub sends one. Refuse it before writing.
 * Returns the set of paths (planning reuses it). O(path length) per file.
 */
export async function verifyTreeShape(tree: RepoFile[], repo: RepoRef, pause: Checkpoint): Promise<Set<string>> {
  const files = new Set<string>();
  for (const [index, file] of tree.entries()) {
    if (index % SLICE === 0) await pause();
    if (files.has(file.path)) {
      throw new MlcacheError('PROTOCOL', `${repo.id}'s file list names "${file.path}" twice.`, {
        hint: 'Nothing was written. Retry later; if it persists, the endpoint or a proxy is misbehaving.',
      });
    }
    files.add(file.path);
  }
  for (const [index, file] of tree.entries()) {
    if (index % SLICE === 0) await pause();
    for (let slash = file.path.indexOf('/'); slash !== -1; slash = file.path.indexOf('/', slash + 1)) {
      const folder = file.path.slice(0, slash);
      if (files.has(folder)) {
        throw new MlcacheError('PROTOCOL', `${repo.id}'s file list names "${folder}" both as a file and as the folder of "${file.path}".`, {
          hint: 'Nothing was written. Retry later; if it persists, the endpoint or a proxy is misbehaving.',
        });
      }
    }
  }
  return files;
}

/** The files a request selects: explicit paths when given, else include/exclude/formats. */
export function selectFiles(tree: RepoFile[], request: SnapshotRequest & { revision: string }, commit: string): RepoFile[] {
  return request.files && request.files.length > 0 ? selectExplicit(tree, request.files, request.repo, request.revision) : selectByPatterns(tree, request, commit);
}

/** Select files by explicit paths (`dir/` selects everything below); unknown paths are an error. */
function selectExplicit(tree: RepoFile[], wanted: readonly string[], repo: RepoRef, revision: string): RepoFile[] {
  const byPath = new Map(tree.map((f) => [f.path, f]));
  const selected = new Map<string, RepoFile>();
  for (const want of wanted) {
    const exact = byPath.get(want);
    if (exact) {
      selected.set(exact.path, exact);
      continue;
    }
    const prefix = want.endsWith('/') ? want : `${want}/`;
    const below = tree.filter((f) => f.path.startsWith(prefix));
    if (below.length === 0) {
      throw new MlcacheError('ENTRY_NOT_FOUND', `${repo.id} has no file "${want}" at revision ${revision}.`, {
        hint: 'Check the file name (it is case-sensitive), or run with --dry-run to list the files.',
      });
    }
    for (const f of below) selected.set(f.path, f);
  }
  return [...selected.values()];
}

function selectByPatterns(tree: RepoFile[], request: SnapshotRequest, commit: string): RepoFile[] {
  const { selected, format } = selectPaths(
    tree.map((f) => f.path),
    request,
  );
  if (format === -1) {
    const expected = (request.formats ?? []).map((patterns) => patterns.join(' + ')).join(' | ');
    throw new MlcacheError('ENTRY_NOT_FOUND', `${request.repo.id} has none of the expected weight formats at ${commit.slice(0, 12)} (${expected}).`, {
      hint: 'The repo layout changed: list its files with `mlcache download <repo> --dry-run` and update the entry\'s "formats".',
    });
  }
  const keep = new Set(selected);
  return tree.filter((f) => keep.has(f.path));
}
