/**
 * Include/exclude globs with huggingface_hub's semantics (utils/_paths.py::filter_repo_objects):
 * `fnmatch.fnmatchcase` (case-sensitive on every platform), `*` matches across `/`, `\` is
 * normalized to `/`, a pattern ending in `/` means everything below it, and a path is kept when it
 * matches at least one include pattern (if any are given) and no exclude pattern — exclude wins.
 * Pure.
 */
import { MlcacheError } from '../errors.js';
import { createPathFilter, fnmatchToRegExp, normalizePattern } from '../util/fnmatch.js';

export interface PatternProblem {
  pattern: string;
  message: string;
}

/**
 * Why a pattern would be refused, or undefined when it is fine. Python's fnmatch accepts almost
 * anything (an unclosed `[` is a literal); mlcache is stricter, because in a catalog these are
 * always typos that silently match nothing.
 */
export function checkPattern(pattern: string): string | undefined {
  if (pattern.trim() === '') return 'a pattern cannot be empty';
  if (pattern.includes('\0')) return 'a pattern cannot contain a NUL character';
  const normalized = pattern.replace(/\\/g, '/');
  if (normalized.startsWith('/')) return 'repo paths are relative: remove the leading "/"';
  if (normalized.split('/').includes('..')) return 'a pattern cannot contain ".." (repo paths never do)';
  let i = 0;
  while (i < normalized.length) {
    if (normalized[i] === '[') {
      const end = classEnd(normalized, i);
      if (end === -1) return `unclosed "[" at position ${i + 1}`;
      i = end + 1;
      continue;
    }
    i++;
  }
  return undefined;
}

/** Index of the `]` closing the class opened at `start`, with fnmatch's rules (`[]…]`, `[!]…]`), or -1. */
function classEnd(pattern: string, start: number): number {
  let j = start + 1;
  if (pattern[j] === '!') j++;
  if (pattern[j] === ']') j++;
  while (j < pattern.length && pattern[j] !== ']') j++;
  return j < pattern.length ? j : -1;
}

/** fnmatch.translate of the normalized pattern (src/util/fnmatch.ts, shared with the snapshot planner). */
export function patternToRegExp(pattern: string): RegExp {
  return fnmatchToRegExp(normalizePattern(pattern));
}

export interface FileFilter {
  (path: string): boolean;
}

/** A predicate over repo paths: kept if it matches an include (when given) and no exclude. */
export function createFileFilter(include: readonly string[] | undefined, exclude: readonly string[] | undefined): FileFilter {
  const problems = [...(include ?? []), ...(exclude ?? [])]
    .map((pattern) => ({ pattern, message: checkPattern(pattern) }))
    .filter((p): p is PatternProblem => p.message !== undefined);
  const first = problems[0];
  if (first) {
    throw new MlcacheError('INVALID_PATTERN', `Invalid file pattern '${first.pattern}': ${first.message}.`, {
      hint: 'Patterns use fnmatch syntax: * ? [abc] [!abc]; a trailing / means everything below a folder.',
      details: { pattern: first.pattern },
    });
  }
  return createPathFilter(include, exclude);
}

/** Keep the paths the patterns select (order preserved). */
export function filterPaths(paths: readonly string[], include?: readonly string[], exclude?: readonly string[]): string[] {
  const keep = createFileFilter(include, exclude);
  return paths.filter((p) => keep(p));
}
