/**
 * Catalog validation: JSON text → zod schema → rules a JSON Schema cannot state (repo ids, glob
 * syntax, duplicate names, safe destinations). Every problem is reported as
 * `<file>: groups.nllb.entries[0].repo: <message>` so a person can go straight to the line.
 * Pure (the file name is only used in messages).
 */
import type { z } from 'zod';
import { MlcacheError } from '../errors.js';
import { parseRepoId } from '../hub/repo-id.js';
import { CatalogSchema, entryName, isHubEntry, type Catalog } from './catalog-schema.js';
import { checkPattern } from './file-patterns.js';
import { formatIssuePath } from '../util/format-issue-path.js';
import { findJsonErrorPosition, lineColumn } from '../util/json-error-position.js';

export type JsonPath = ReadonlyArray<string | number>;

export interface CatalogProblem {
  path: string;
  message: string;
}

function valueAt(root: unknown, path: JsonPath): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

type Issue = z.core.$ZodIssue;

/**
 * Flatten zod issues into path + message. An entry is a union (Hub repo | URL artifact); zod
 * reports a failed union as one "invalid input" issue holding each branch's issues, which helps
 * nobody. The raw entry says which branch was meant (`url` present → URL artifact), so only that
 * branch's issues are reported.
 */
function flattenIssues(issues: readonly Issue[], raw: unknown, prefix: JsonPath = []): CatalogProblem[] {
  const out: CatalogProblem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...(issue.path as Array<string | number>)];
    if (issue.code === 'invalid_union' && issue.errors.length === 2) {
      const value = valueAt(raw, path);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const branch = 'url' in value ? 1 : 0;
        const branchIssues = issue.errors[branch] ?? [];
        if (branch === 0 && !('repo' in value)) {
          out.push({ path: formatIssuePath(path), message: 'an entry needs either "repo" (a Hub repo) or "url" (a file from a URL)' });
          continue;
        }
        out.push(...flattenIssues(branchIssues, raw, path));
        continue;
      }
      out.push({ path: formatIssuePath(path), message: 'expected an object with "repo" or "url"' });
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatIssuePath([...path, key]), message: 'unknown key (check its spelling)' });
      continue;
    }
    out.push({ path: formatIssuePath(path), message: issue.message });
  }
  return out;
}

/** Why a TORCH_HOME-relative destination is unsafe, or undefined. */
export function checkDestination(destination: string): string | undefined {
  if (destination.includes('\0')) return 'must not contain a NUL character';
  if (destination.includes('\\')) return 'use "/" as the separator';
  if (destination.startsWith('/') || /^[A-Za-z]:/.test(destination) || destination.startsWith('~')) {
    return 'must be relative to TORCH_HOME, e.g. hub/checkpoints/<file>';
  }
  const segments = destination.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return 'must not contain empty, "." or ".." segments';
  return undefined;
}

/** Why a catalog `local_dir` value is unusable on its own (where it points is checked by resolveLocalDir), or undefined. */
export function checkLocalDirValue(value: string): string | undefined {
  if (value.trim() === '') return 'must name a folder (it is blank)';
  if (value.includes('\0')) return 'must not contain a NUL character';
  if (value.startsWith('~')) return 'is not expanded: use an absolute path or one relative to the project root';
  return undefined;
}

/** Rules beyond the schema. `catalog` has passed CatalogSchema. */
export function checkCatalogRules(catalog: Catalog): CatalogProblem[] {
  const problems: CatalogProblem[] = [];
  const add = (path: JsonPath, message: string) => problems.push({ path: formatIssuePath(path), message });
  for (const [groupName, group] of Object.entries(catalog.groups)) {
    const seen = new Map<string, number>();
    group.entries.forEach((entry, index) => {
      const at: JsonPath = ['groups', groupName, 'entries', index];
      const name = entryName(entry);
      const first = seen.get(name);
      if (first !== undefined) {
        add([...at, entry.name !== undefined ? 'name' : isHubEntry(entry) ? 'repo' : 'destination'],
          `duplicate entry name '${name}' (also entries[${first}]); give one of them a distinct "name"`);
      } else {
        seen.set(name, index);
      }
      if (isHubEntry(entry)) {
        try {
          parseRepoId(entry.repo, entry.type);
        } catch (error) {
          add([...at, 'repo'], error instanceof Error ? error.message : String(error));
        }
        if (/\s/.test(entry.revision)) add([...at, 'revision'], 'a revision cannot contain whitespace');
        for (const key of ['include', 'exclude'] as const) {
          entry[key]?.forEach((pattern, i) => {
            const why = checkPattern(pattern);
            if (why !== undefined) add([...at, key, i], `invalid pattern '${pattern}': ${why}`);
          });
        }
        if (entry.local_dir !== undefined) {
          const why = checkLocalDirValue(entry.local_dir);
          if (why !== undefined) add([...at, 'local_dir'], `local_dir '${entry.local_dir}' ${why}`);
        }
        entry.formats?.forEach((patterns, f) => {
          patterns.forEach((pattern, i) => {
            const why = checkPattern(pattern);
            if (why !== undefined) add([...at, 'formats', f, i], `invalid pattern '${pattern}': ${why}`);
          });
        });
      } else {
        const why = checkDestination(entry.destination);
        if (why !== undefined) add([...at, 'destination'], `unsafe destination '${entry.destination}': ${why}`);
      }
    });
  }
  for (const [repo, revision] of Object.entries(catalog.pins ?? {})) {
    try {
      parseRepoId(repo);
    } catch (error) {
      add(['pins', repo], error instanceof Error ? error.message : String(error));
    }
    if (/\s/.test(revision)) add(['pins', repo], 'a revision cannot contain whitespace');
  }
  return problems;
}

function invalid(file: string, problems: CatalogProblem[]): MlcacheError {
  const lines = problems.map((p) => `${file}: ${p.path}: ${p.message}`);
  return new MlcacheError('CATALOG_INVALID', lines.join('\n'), {
    hint: `Fix ${file} (its format is described in docs/cache-models.md and config/models.schema.json).`,
    details: { file, problems },
  });
}

/** Validate an already-parsed JSON value. Throws CATALOG_INVALID listing every problem. */
export function validateCatalog(raw: unknown, file: string): Catalog {
  const result = CatalogSchema.safeParse(raw);
  if (!result.success) throw invalid(file, flattenIssues(result.error.issues, raw));
  const problems = checkCatalogRules(result.data);
  if (problems.length > 0) throw invalid(file, problems);
  return result.data;
}

/** Parse catalog JSON text. Invalid JSON is reported as `<file>:<line>:<column>: …`. */
export function parseCatalogText(text: string, file: string): Catalog {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const fromMessage = /at position (\d+)/.exec(detail);
    const where = findJsonErrorPosition(body) ?? (fromMessage ? lineColumn(body, Number(fromMessage[1])) : lineColumn(body, body.length));
    throw new MlcacheError('CATALOG_INVALID', `${file}:${where.line}:${where.column}: invalid JSON (${detail}).`, {
      hint: `Fix the JSON syntax in ${file} at line ${where.line}, column ${where.column}.`,
      cause: error,
      details: { file, line: where.line, column: where.column },
    });
  }
  return validateCatalog(raw, file);
}
