/**
 * Include/exclude filtering with huggingface_hub's exact semantics (utils/_paths.py::
 * filter_repo_objects): Python's `fnmatch.fnmatchcase`, so matching is case-sensitive, `*` and `?`
 * cross `/`, `[seq]` / `[!seq]` are character sets, and nothing else is special (no braces, no
 * globstar, no extglobs). A pattern ending in `/` matches everything below it. A path is kept when
 * it matches at least one include pattern (if any are given) and no exclude pattern.
 *
 * Why not picomatch/minimatch: they implement shell-glob semantics, which differ from fnmatch in
 * ways users would hit (`?` and `[!…]` across `/`, `**` needing no slash); docs/decisions.md lists
 * the cases, and test/unit/util/fnmatch.test.ts pins the behaviour to Python's fnmatch.
 */
import { MlcacheError } from '../errors.js';
import { cutValue } from './cut-value.js';
import { escapeRegExp } from './escape-reg-exp.js';


/** Python's `fnmatch.translate`, as a JavaScript RegExp anchored at both ends. */
export function fnmatchToRegExp(pattern: string): RegExp {
  let out = '';
  let i = 0;
  const n = pattern.length;
  while (i < n) {
    const c = pattern[i++]!;
    if (c === '*') {
      while (pattern[i] === '*') i++;
      out += '[\\s\\S]*';
    } else if (c === '?') {
      out += '[\\s\\S]';
    } else if (c === '[') {
      let j = i;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < n && pattern[j] !== ']') j++;
      if (j >= n) {
        out += '\\[';
      } else {
        let stuff = pattern.slice(i, j);
        i = j + 1;
        let negate = false;
        if (stuff.startsWith('!')) {
          negate = true;
          stuff = stuff.slice(1);
        }
        if (stuff.length === 0) {
          // `[]` can never match; `[!]` matches any character (as in Python).
          out += negate ? '[\\s\\S]' : '(?!)';
        } else {
          // Keep ranges (a-z) but escape everything a JS character class treats specially.
          const body = stuff.replace(/[\\\]^[]/g, '\\$&');
          out += `[${negate ? '^' : ''}${body}]`;
        }
      }
    } else {
      out += escapeRegExp(c);
    }
  }
  return new RegExp(`^(?:${out})$`, 'u');
}

/** Normalize a user pattern the way filter_repo_objects does. */
export function normalizePattern(pattern: string): string {
  let p = pattern.replace(/\\/g, '/');
  if (p.endsWith('/')) p += '*';
  return p;
}

/** Compile patterns once; throws INVALID_PATTERN for patterns JavaScript cannot compile. */
export function compilePatterns(patterns: readonly string[] | undefined): RegExp[] {
  return (patterns ?? []).map((pattern) => {
    if (pattern.length === 0) {
      throw new MlcacheError('INVALID_PATTERN', 'An empty pattern matches nothing.', {
        hint: 'Remove the empty --include/--exclude value.',
      });
    }
    try {
      return fnmatchToRegExp(normalizePattern(pattern));
    } catch (cause) {
      throw new MlcacheError('INVALID_PATTERN', `The pattern "${cutValue(pattern)}" is not valid.`, {
        hint: 'Patterns use fnmatch syntax: *, ?, [abc], [!abc]; a trailing / means everything below.',
        cause,
      });
    }
  });
}

export interface PathFilter {
  (path: string): boolean;
}

/** A predicate keeping paths that match an include (when given) and no exclude. */
export function createPathFilter(include?: readonly string[], exclude?: readonly string[]): PathFilter {
  const allow = compilePatterns(include);
  const deny = compilePatterns(exclude);
  return (path: string) => {
    const p = path.replace(/\\/g, '/');
    if (allow.length > 0 && !allow.some((re) => re.test(p))) return false;
    return !deny.some((re) => re.test(p));
  };
}
