const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * A zod issue path as a person writes it: ['groups', 'nllb', 'entries', 0, 'repo'] →
 * `groups.nllb.entries[0].repo`. Keys that are not plain names are quoted (`pins["a/b"]`) so a
 * path stays unambiguous when a key holds a dot or a slash. The empty path is `(root)`. Pure.
 */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      if (typeof segment === 'string' && IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out === '' ? '(root)' : out;
}
