/**
 * Token scopes (distribution docs/spec/auth/scope.md: `repository:<name>:<action>[,<action>]`).
 * Pure.
 */

export type ScopeAction = 'pull' | 'push';

export function repositoryScope(repository: string, actions: readonly ScopeAction[]): string {
  return `repository:${repository}:${[...new Set(actions)].sort().join(',')}`;
}

/**
 * Scopes merged per resource (`repository:a:pull` + `repository:a:push` → `repository:a:pull,push`)
 * and sorted, so the same need always gives the same cache key.
 */
export function normalizeScopes(scopes: readonly string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  const others: string[] = [];
  for (const scope of scopes) {
    const last = scope.lastIndexOf(':');
    if (last <= 0) {
      others.push(scope);
      continue;
    }
    const resource = scope.slice(0, last);
    const actions = byResource.get(resource) ?? new Set<string>();
    for (const a of scope.slice(last + 1).split(',')) if (a.length > 0) actions.add(a);
    byResource.set(resource, actions);
  }
  const merged = [...byResource].map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`);
  return [...new Set([...merged, ...others])].sort();
}

export function scopeKey(scopes: readonly string[]): string {
  return normalizeScopes(scopes).join(' ');
}
