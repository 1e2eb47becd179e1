/**
 * `trees/<commit>.json`: the full file listing of a commit, in huggingface_hub's format
 * (_tree_cache.py, format_version 1). Python trusts this file for offline completeness checks
 * (IncompleteSnapshotError) and to skip per-file HEADs, so it is written only complete and valid.
 */
import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsError } from '../util/fs-error.js';
import { makeDirectory } from './make-directory.js';
import type { CacheRepo } from './repo-folder-name.js';
import { treeCachePath } from './repo-paths.js';
import { createRepoTemp } from './repo-temp.js';

export const TREE_CACHE_FORMAT_VERSION = 1;

/** One file of a tree listing (the shape of src/hub's RepoFile). */
export interface TreeCacheFile {
  path: string;
  size: number;
  /** git blob sha1 (of the pointer, for LFS files). */
  oid: string;
  lfs?: { oid: string; size: number } | undefined;
  xetHash?: string | undefined;
}

/** huggingface_hub utils/_xet.py::_REGEX_XET_HASH */
const XET_HASH = /^[0-9a-fA-F]{64}$/;

/**
 * The exact text Python's `json.dump(data, f, indent=1)` produces for
 * `{"format_version": 1, "files": {path: {"size", "blob_id", "lfs_sha256"?, "lfs_size"?, "xet_hash"?}}}`
 * with the paths sorted as Python's `sorted()` sorts str (by code point) and the entry keys in
 * insertion order (not sort_keys). ensure_ascii is on, so non-ASCII is escaped as \uXXXX.
 */
export function serializeTreeCache(files: readonly TreeCacheFile[]): string {
  let text = '';
  for (const piece of treeCacheText(files)) text += piece;
  return text;
}

/**
 * serializeTreeCache's text in pieces (one per file entry), so that a listing of a million files
 * (~150 MB of JSON) is written as it is made instead of being built as one string first.
 */
export function* treeCacheText(files: readonly TreeCacheFile[]): Generator<string> {
  const byPath = new Map<string, TreeCacheFile>();
  for (const file of files) byPath.set(file.path, file);
  const paths = [...byPath.keys()].sort(compareCodePoints);
  yield `{\n "format_version": ${TREE_CACHE_FORMAT_VERSION},\n`;
  if (paths.length === 0) {
    yield ' "files": {}\n}';
    return;
  }
  yield ' "files": {';
  for (let index = 0; index < paths.length; index++) {
    const p = paths[index]!;
    const file = byPath.get(p)!;
    // Python's key order: size, blob_id, then lfs_sha256 + lfs_size, then xet_hash.
    let entry = `\n  ${pyString(p)}: {\n   "size": ${pyInt(file.size)},\n   "blob_id": ${pyString(file.oid)}`;
    if (file.lfs !== undefined) entry += `,\n   "lfs_sha256": ${pyString(file.lfs.oid)},\n   "lfs_size": ${pyInt(file.lfs.size)}`;
    if (file.xetHash !== undefined) entry += `,\n   "xet_hash": ${pyString(file.xetHash)}`;
    entry += `\n  }${index < paths.length - 1 ? ',' : ''}`;
    yield entry;
  }
  yield '\n }\n}';
}

/** Pieces are gathered up to this many characters per write(2). */
const WRITE_BATCH_CHARS = 1 << 20;

/**
 * Write `trees/<commit>.json` atomically: streamed to a temp in the repo's `.mlcache-tmp/`, then
 * renamed. Returns false (and writes nothing) when an entry has an invalid xet hash, like
 * huggingface_hub write_tree_cache, since its reader would reject the file.
 */
export async function writeTreeCache(cacheDir: string, repo: CacheRepo, commit: string, files: readonly TreeCacheFile[]): Promise<boolean> {
  const file = treeCachePath(cacheDir, repo, commit);
  if (files.some((f) => f.xetHash !== undefined && !XET_HASH.test(f.xetHash))) return false;
  let handle: FileHandle | undefined;
  let temp: string | undefined;
  try {
    temp = await createRepoTemp(cacheDir, repo, 'tree', async (t) => {
      handle = await fs.open(t, 'wx');
    });
    let batch = '';
    for (const piece of treeCacheText(files)) {
      batch += piece;
      if (batch.length >= WRITE_BATCH_CHARS) {
        await handle!.write(batch);
        batch = '';
      }
    }
    if (batch !== '') await handle!.write(batch);
    await handle!.close();
    handle = undefined;
    await makeDirectory(path.dirname(file));
    await fs.rename(temp, file);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    if (temp !== undefined) await fs.rm(temp, { force: true }).catch(() => undefined);
    throw fsError(error, `write ${file}`);
  }
  return true;
}

/**
 * Read `trees/<commit>.json`. Undefined when absent, unreadable, of an unknown format_version, or
 * invalid (a bad xet hash, a missing size/blob_id) — the same files huggingface_hub ignores.
 */
export async function readTreeCache(cacheDir: string, repo: CacheRepo, commit: string): Promise<TreeCacheFile[] | undefined> {
  const file = treeCachePath(cacheDir, repo, commit);
  let data: unknown;
  try {
    data = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  return parseTreeCache(data);
}

/** Validate parsed JSON; see readTreeCache. */
export function parseTreeCache(data: unknown): TreeCacheFile[] | undefined {
  if (!isRecord(data) || data.format_version !== TREE_CACHE_FORMAT_VERSION || !isRecord(data.files)) return undefined;
  const out: TreeCacheFile[] = [];
  for (const [p, info] of Object.entries(data.files)) {
    if (!isRecord(info) || !isSize(info.size) || typeof info.blob_id !== 'string') return undefined;
    const entry: TreeCacheFile = { path: p, size: info.size, oid: info.blob_id };
    if (info.lfs_sha256 !== undefined && info.lfs_sha256 !== null) {
      if (typeof info.lfs_sha256 !== 'string' || !isSize(info.lfs_size)) return undefined;
      entry.lfs = { oid: info.lfs_sha256, size: info.lfs_size };
    }
    if (info.xet_hash !== undefined && info.xet_hash !== null) {
      if (typeof info.xet_hash !== 'string' || !XET_HASH.test(info.xet_hash)) return undefined;
      entry.xetHash = info.xet_hash;
    }
    out.push(entry);
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function pyInt(value: number): string {
  if (!Number.isSafeInteger(value)) throw new TypeError(`tree cache size must be an integer, got ${value}`);
  return String(value);
}

/** Printable ASCII without `"` and `\`: encoded as is (nearly every path and every hash). */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Python's json encoder with ensure_ascii=True (json.encoder.py_encode_basestring_ascii). */
function pyString(value: string): string {
  if (PLAIN_ASCII.test(value)) return `"${value}"`;
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const ch = value[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    // Printable ASCII (space..~) stays; everything else, DEL included, is a \u escape of each
    // UTF-16 code unit, which is exactly Python's surrogate-pair output for astral characters.
    else if (c >= 0x20 && c <= 0x7e) out += ch;
    else out += `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

/**
 * Python str ordering: by code point. JS's default sort compares UTF-16 code units, which differs
 * only where a surrogate (U+D800–DFFF, half of an astral character) meets U+E000–FFFF: moving the
 * surrogates above that range gives code point order without decoding the strings.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) return codePointRank(ca) - codePointRank(cb);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}
