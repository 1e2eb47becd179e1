/**
 * Synthetic huge revisions: N tiny regular files described by three numbers, never materialised.
 * File `i` is `<prefix>/<i / 1000>/<i>.txt` (zero-padded, e.g. `data/00000/000123.txt`), its content
 * is its own path plus a newline (padded to `size` when given), so every file is unique and its
 * digests cost one tiny hash when a page or a resolve needs them. Tree order is computed from the
 * index, so any page of the listing is O(page) to produce.
 */
import type { ContentSource } from './content.js';
import type { SyntheticFiles } from './types.js';
import { escapeRegExp } from '../util/escape-reg-exp.js';

/** Files per synthetic directory. */
export const FILES_PER_DIR = 1000;

/** What the tree needs of one synthetic entry (a subset of repo-store's TreeItem/StoredFile). */
export type SyntheticEntry = { type: 'directory'; path: string } | { type: 'file'; path: string; index: number };

/** A lazily indexed, sorted run of tree entries. */
export interface SyntheticRun {
  readonly length: number;
  at(position: number): SyntheticEntry;
}

const EMPTY: SyntheticRun = { length: 0, at: () => ({ type: 'directory', path: '' }) };

export class SyntheticSet {
  readonly count: number;
  readonly prefix: string;
  /** Bytes per file, or undefined for "path + newline" (the same for every file: widths are fixed). */
  readonly fileSize: number;
  readonly dirCount: number;
  private readonly fileWidth: number;
  private readonly dirWidth: number;
  /** `prefix` and each of its ancestors, outermost first (`a`, `a/b`). */
  private readonly ancestors: string[];
  private readonly filePattern: RegExp;
  private readonly dirPattern: RegExp;

  constructor(spec: SyntheticFiles) {
    if (!Number.isInteger(spec.files) || spec.files < 0) throw new Error(`synthetic.files must be a non-negative integer, got ${spec.files}`);
    this.count = spec.files;
    this.prefix = (spec.prefix ?? 'data').replace(/^\/+|\/+$/g, '');
    if (this.prefix === '') throw new Error('synthetic.prefix must not be empty');
    this.dirCount = Math.ceil(this.count / FILES_PER_DIR);
    this.fileWidth = Math.max(6, String(Math.max(0, this.count - 1)).length);
    this.dirWidth = Math.max(5, String(Math.max(0, this.dirCount - 1)).length);
    const parts = this.prefix.split('/');
    this.ancestors = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    const natural = this.prefix.length + 1 + this.dirWidth + 1 + this.fileWidth + '.txt\n'.length;
    if (spec.size !== undefined && (!Number.isInteger(spec.size) || spec.size < natural)) {
      throw new Error(`synthetic.size must be an integer ≥ ${natural} (path + newline) so every file stays unique, got ${spec.size}`);
    }
    this.fileSize = spec.size ?? natural;
    const escaped = escapeRegExp(this.prefix);
    this.filePattern = new RegExp(`^${escaped}/(\\d{${this.dirWidth}})/(\\d{${this.fileWidth}})\\.txt$`);
    this.dirPattern = new RegExp(`^${escaped}/(\\d{${this.dirWidth}})$`);
  }

  get totalBytes(): number {
    return this.count * this.fileSize;
  }

  dirPath(d: number): string {
    return `${this.prefix}/${String(d).padStart(this.dirWidth, '0')}`;
  }

  pathOf(index: number): string {
    return `${this.dirPath(Math.floor(index / FILES_PER_DIR))}/${String(index).padStart(this.fileWidth, '0')}.txt`;
  }

  /** The content of file `index`: its path and a newline, padded with '.' to `fileSize` (then a final newline). */
  contentOf(index: number): ContentSource {
    const line = `${this.pathOf(index)}\n`;
    const text = line.length >= this.fileSize ? line : `${line}${'.'.repeat(this.fileSize - line.length - 1)}\n`;
    return { kind: 'literal', bytes: Buffer.from(text) };
  }

  /** Index of the file at `path`, or undefined. O(1). */
  indexOf(path: string): number | undefined {
    const m = this.filePattern.exec(path);
    if (!m) return undefined;
    const d = Number(m[1]);
    const i = Number(m[2]);
    if (i >= this.count || Math.floor(i / FILES_PER_DIR) !== d) return undefined;
    return i;
  }

  /** Whether `path` is a directory of the synthetic tree (the prefix, an ancestor of it, or a bucket). */
  isDir(path: string): boolean {
    if (this.count === 0) return false;
    if (this.ancestors.includes(path)) return true;
    const m = this.dirPattern.exec(path);
    return m !== null && Number(m[1]) < this.dirCount;
  }

  private filesOf(d: number): number {
    return Math.min(FILES_PER_DIR, this.count - d * FILES_PER_DIR);
  }

  /**
   * The synthetic entries under `path` ('' = root) in tree order (plain string order, as
   * repo-store sorts), or EMPTY when none are. Directory blocks are `dir, its files…`; every block
   * but the last has FILES_PER_DIR + 1 entries, so a position maps to its entry with one division.
   */
  scope(path: string, recursive: boolean): SyntheticRun {
    if (this.count === 0) return EMPTY;
    const fileRun = (d: number): SyntheticRun => ({
      length: this.filesOf(d),
      at: (p) => ({ type: 'file', path: this.pathOf(d * FILES_PER_DIR + p), index: d * FILES_PER_DIR + p }),
    });
    if (path !== '' && path !== this.prefix && path.startsWith(`${this.prefix}/`)) {
      if (!this.isDir(path)) return EMPTY;
      return fileRun(Number(path.slice(this.prefix.length + 1)));
    }
    // At or above the prefix: the ancestors deeper than `path`, then the buckets.
    const depth = path === '' ? 0 : this.ancestors.indexOf(path) + 1;
    if (path !== '' && depth === 0) return EMPTY;
    const below = this.ancestors.slice(depth);
    if (!recursive) {
      if (below.length > 0) return { length: 1, at: () => ({ type: 'directory', path: below[0]! }) };
      return { length: this.dirCount, at: (p) => ({ type: 'directory', path: this.dirPath(p) }) };
    }
    const block = FILES_PER_DIR + 1;
    const length = below.length + this.dirCount + this.count;
    return {
      length,
      at: (position) => {
        if (position < below.length) return { type: 'directory', path: below[position]! };
        const p = position - below.length;
        const d = Math.floor(p / block);
        const r = p % block;
        if (r === 0) return { type: 'directory', path: this.dirPath(d) };
        const index = d * FILES_PER_DIR + r - 1;
        return { type: 'file', path: this.pathOf(index), index };
      },
    };
  }
}
