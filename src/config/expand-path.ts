/**
 * Paths and values from the environment the way huggingface_hub's constants.py reads them:
 * `_is_true`, `~` (expanduser) and `$VAR` (expandvars), the home folder. Pure.
 */
import os from 'node:os';
import path from 'node:path';
import type { Env } from './settings.js';

const TRUE_VALUES = new Set(['1', 'on', 'yes', 'true']);

/** huggingface_hub's `_is_true`: 1/ON/YES/TRUE, case-insensitive. */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && TRUE_VALUES.has(value.trim().toLowerCase());
}

/** An environment value, with the empty string as unset (see the settings header). */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Python's os.path.expanduser for `~` and `~/…` (not `~user`). */
export function expandUser(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/') || p.startsWith('~\\')) return path.join(home, p.slice(2));
  return p;
}

/** Python's os.path.expandvars: `$VAR` and `${VAR}`; unknown variables are left as written. */
export function expandVars(p: string, env: Env): string {
  return p.replace(/\$(\w+|\{[^}]*\})/g, (whole, name: string) => {
    const key = name.startsWith('{') ? name.slice(1, -1) : name;
    const value = env[key];
    return value === undefined ? whole : value;
  });
}

/** expanduser then expandvars, as huggingface_hub's constants.py does; the result is absolute. */
export function expandPath(p: string, env: Env, home: string, cwd: string): string {
  return path.resolve(cwd, expandVars(expandUser(p, home), env));
}

export function resolveHome(env: Env): string {
  return nonEmpty(env.HOME) ?? nonEmpty(env.USERPROFILE) ?? os.homedir();
}
